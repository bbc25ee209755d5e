/**
 * The HTTP core every route shares: Fastify with our limits and timeouts, Gemini-format answers for malformed HTTP,
 * the JSON body parser, the per-request lifecycle (id, access line, request event) and the error handlers. The routes
 * are plugins registered on it by the composition root (src/app.ts): health, operator, Gemini.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Socket } from 'node:net';
import { invalidRequest } from '../errors.js';
import type { ProxyContext } from './context.js';
import { installErrorHandlers, sendJson } from './error-handlers.js';
import { installJsonBodyParser } from './json-body.js';
import { answerClientError, frameworkErrorMessage, rawErrorResponse, refuseConnect } from './request-edges.js';
import { installRequestLifecycle } from './request-lifecycle.js';

export { geminiRoutes } from './gemini-routes.js';
export { healthRoutes } from './health.js';

export function createServer(context: ProxyContext): FastifyInstance {
  const { config } = context;
  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    // Oversized header blocks and other unparseable requests get a Gemini-format answer, not Node's bare 4xx.
    clientErrorHandler: (error, socket) => {
      const overflow = (error as { code?: string }).code === 'HPE_HEADER_OVERFLOW';
      answerClientError(
        socket,
        overflow
          ? rawErrorResponse(431, 'Request Header Fields Too Large', 'Request header fields too large.')
          : rawErrorResponse(400, 'Bad Request', 'Malformed HTTP request.'),
      );
    },
    // A URL Fastify cannot decode: Gemini format, and never Fastify's body, which echoes the URL (and its ?key=).
    frameworkErrors: (error, _request, reply) => {
      void sendJson(reply, 400, invalidRequest(frameworkErrorMessage(error.code)).toGoogleStatus());
    },
    http: { maxHeaderSize: config.maxHeaderBytes },
    // [R-TO-5]: never cut long responses; only the request itself must arrive in time.
    requestTimeout: 120_000,
    keepAliveTimeout: 75_000,
    return503OnClosing: false,
    // Model ids can be long; the whole path is parsed by us anyway.
    routerOptions: { ignoreDuplicateSlashes: true, maxParamLength: 4096 },
  });
  app.server.timeout = 0;
  app.server.on('connect', (_request, socket: Socket) => refuseConnect(socket));
  installJsonBodyParser(app, config.basePath);
  installRequestLifecycle(app, context);
  installErrorHandlers(app, context.log, (text) => context.redact(text));
  return app;
}
