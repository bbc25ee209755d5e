/**
 * What happens around every request whatever its path: an id and a start time on arrival (and the URL length limit),
 * and on close the access line, the detailed log file and the `request` event.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProxyError } from '../errors.js';
import { accessLine, type ResponseOutcome } from './access-line.js';
import type { ProxyContext, RequestInfo } from './context.js';
import { randomHex } from './random-ids.js';
import { emitRequestRecord, requestRecord } from './request-record.js';
import { encodeJson } from './response-channel.js';
import { guardBrowserAccess } from './browser-guard.js';
import { traceForDashboard, type RequestTrace } from './detailed-log.js';
import { recordedModelName } from './model-label.js';

declare module 'fastify' {
  interface FastifyRequest {
    proxyInfo: RequestInfo;
  }
}

export function installRequestLifecycle(app: FastifyInstance, context: ProxyContext): void {
  app.decorateRequest('proxyInfo', null as unknown as RequestInfo);
  app.addHook('onRequest', (request, reply, done) => {
    const info: RequestInfo = { requestId: randomHex(4), startedAt: process.hrtime.bigint() };
    request.proxyInfo = info;
    reply.raw.setHeader('x-request-id', info.requestId);
    info.method = request.method;
    if (!guardBrowserAccess(context.config, request, reply)) return;
    if (Buffer.byteLength(request.url) > context.config.maxUrlBytes) {
      const error = new ProxyError(
        'INVALID_REQUEST',
        `The request URL is longer than ${context.config.maxUrlBytes} bytes.`,
      );
      void reply
        .code(414)
        .header('content-type', 'application/json; charset=UTF-8')
        .send(encodeJson({ error: { ...error.toGoogleStatus().error, code: 414 } }));
      return;
    }
    context.requestTracker?.arrived(info, request.url.split('?')[0] ?? '', request.headers);
    reply.raw.once('close', () => requestClosed(context, info, request, reply));
    done();
  });
}

function requestClosed(context: ProxyContext, info: RequestInfo, request: FastifyRequest, reply: FastifyReply): void {
  const { log, detailedLog } = context;
  context.requestTracker?.closed(info);
  const outcome: ResponseOutcome = {
    method: request.method,
    url: request.url,
    status: reply.raw.headersSent ? reply.raw.statusCode : 499,
    finished: reply.raw.writableFinished,
    seconds: Number(process.hrtime.bigint() - info.startedAt) / 1e9,
  };
  if (context.config.logging.access) {
    // Every configured secret, in any spelling, is taken out of the line (a key may sit in a decoded query name).
    const line = context.redact(accessLine(info, outcome, context.redact));
    if (info.quiet === true) log.debug(line);
    else log.info(line);
  }
  if (info.trace !== undefined && detailedLog !== undefined) {
    detailedLog.write(info.trace).catch((error: unknown) => log.error({ err: error }, 'cannot write detailed log'));
  }
  if (context.requestListeners.length > 0 && info.model !== undefined) {
    const keepTrace =
      detailedLog === undefined
        ? undefined
        : (trace: RequestTrace): { trace: unknown; bytes: number } =>
            traceForDashboard(trace.toJSON(), detailedLog.redact);
    emitRequestRecord(
      context.requestListeners,
      requestRecord(
        info,
        outcome,
        context.config.upstream.provider,
        recordedModelName(context.config, info.model),
        keepTrace,
        context.redact,
      ),
      log,
    );
  }
}
