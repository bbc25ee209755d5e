/**
 * Every error leaves in Gemini's format (`{"error":{"code","message","status"}}`): thrown ProxyErrors, Fastify's own
 * errors (body parsing, limits) and unknown paths. Never a stack trace, never Fastify's default body.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ProxyError, invalidRequest } from '../errors.js';
import { redactUrl } from './detailed-log.js';
import { afterUpload } from './request-edges.js';
import { encodeJson } from './response-channel.js';

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=UTF-8').send(encodeJson(body));
}

export function notFound(request: FastifyRequest): ProxyError {
  return new ProxyError(
    'NOT_FOUND',
    `The requested URL ${redactUrl(request.url).split('?')[0]} was not found on this server (method ${request.method}).`,
  );
}

function toProxyError(error: FastifyError | Error): ProxyError {
  if (error instanceof ProxyError) return error;
  const code = (error as FastifyError).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new ProxyError('PAYLOAD_TOO_LARGE', 'Request payload size exceeds the limit of this proxy.');
  if (typeof code === 'string' && code.startsWith('FST_ERR_CTP'))
    return invalidRequest(`Invalid request body: ${error.message}`);
  const status = (error as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return invalidRequest(error.message);
  return new ProxyError('INTERNAL', 'Internal error in gemini-proxy.');
}

/** `redact` is the redactor in force (a reload replaces it), applied last to the decoded message and details. */
export function installErrorHandlers(
  app: FastifyInstance,
  log: Logger,
  redact: (text: string) => string = (text) => text,
): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const caught = toProxyError(error);
    // An upstream may have echoed a key in any spelling; the message and details the client reads are decoded text.
    const proxyError = caught.mapText(redact);
    if (proxyError.code === 'INTERNAL')
      log.error({ err: error, requestId: request.proxyInfo?.requestId }, 'unhandled error');
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.end();
      return;
    }
    request.proxyInfo?.trace?.set('4_GEMINI_RESPONSE', proxyError.toGoogleStatus());
    if (request.proxyInfo !== undefined) {
      request.proxyInfo.errorStatus = proxyError.status;
      if (proxyError.code.startsWith('UPSTREAM_')) request.proxyInfo.upstreamError = proxyError.code;
    }
    if (proxyError.code === 'PAYLOAD_TOO_LARGE') {
      // Fastify asks to close the connection with the rest of the upload unread: the kernel then resets it and the
      // client sees EPIPE/ECONNRESET instead of this 413 (the fuzzer saw it on 1 upload in 5). Read and discard the
      // rest of the upload first, then answer on a connection that stays usable.
      reply.removeHeader('connection');
      afterUpload(request.raw, () => void sendJson(reply, proxyError.httpStatus, proxyError.toGoogleStatus()));
      return;
    }
    void sendJson(reply, proxyError.httpStatus, proxyError.toGoogleStatus());
  });

  app.setNotFoundHandler((request, reply) => {
    const error = notFound(request);
    void sendJson(reply, error.httpStatus, error.toGoogleStatus());
  });
}
