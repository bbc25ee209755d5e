/**
 * The Fastify application: body parsing, client auth, the access log, /health, and one dispatcher for every Gemini
 * path (our own parser, because model ids contain ':' and '/', which a router would split).
 */
import { createKeyChecker, presentedKey } from './client-keys.js';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ProxyError, apiKeyInvalid, errorInfo, invalidRequest } from '../errors.js';
import { UpstreamClient } from '../upstream/client.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from 'pino';
import { DetailedLogWriter, RequestTrace, createRedactor, redactHeaders, redactUrl } from './detailed-log.js';
import type { ProxyContext, RequestInfo, RequestRecord } from './context.js';
import { MemoryReasoningCache } from './reasoning-cache.js';
import { UpstreamPool } from '../gateway/upstream-pool.js';
import { MemoryRateLimiterStore, RateLimiter } from '../gateway/rate-limiter.js';
import { RedisState } from '../shared/redis-state.js';
import { MemoryResponseCache } from '../shared/response-cache.js';
import { retryInfo } from '../errors.js';
import { parseGeminiPath, type GeminiRoute } from './gemini-path.js';
import { randomHex } from './random-ids.js';
import { prepareGenerate, runGenerate } from './generate.js';
import { listModels, modelResource } from './models.js';
import { batchEmbedContents, countTokens, embedContent } from './other-methods.js';
import { encodeJson } from './response-channel.js';
import { fileModes } from '../shared/private-files.js';
import { MAX_JSON_DEPTH, afterUpload, answerClientError, exceedsDepth, frameworkErrorMessage, rawErrorResponse, refuseConnect } from './request-edges.js';
import { installOperator, type Operator } from '../operator/index.js';
import { traceForDashboard } from '../operator/live.js';
import { guardBrowserAccess } from './browser-guard.js';
import { healthDocument, mayReadHealthDetail } from './health.js';
import { recordedModelName } from './model-label.js';

declare module 'fastify' {
  interface FastifyRequest {
    proxyInfo: RequestInfo;
  }
}

function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=UTF-8').send(encodeJson(body));
}

function toProxyError(error: FastifyError | Error): ProxyError {
  if (error instanceof ProxyError) return error;
  const code = (error as FastifyError).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ProxyError('PAYLOAD_TOO_LARGE', 'Request payload size exceeds the limit of this proxy.');
  if (typeof code === 'string' && code.startsWith('FST_ERR_CTP')) return invalidRequest(`Invalid request body: ${error.message}`);
  const status = (error as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return invalidRequest(error.message);
  return new ProxyError('INTERNAL', 'Internal error in gemini-proxy.');
}

export interface BuiltApp {
  app: FastifyInstance;
  context: ProxyContext;
  /** Dashboard, metrics, usage store (src/operator). */
  operator: Operator;
}

export function buildApp(config: ResolvedConfig, log: Logger): BuiltApp {
  const upstream = new UpstreamClient({
    connectSeconds: config.timeouts.connectSeconds,
    idleSeconds: config.timeouts.idleSeconds,
    headersSeconds: config.timeouts.headersSeconds,
  });
  // Shared state for several instances (rate limits, usage, reasoning replay, response cache) when redis_url is set.
  const redis = config.redis === undefined ? undefined : new RedisState(config.redis, log);
  const context: ProxyContext = {
    config,
    upstream,
    target: {
      provider: config.upstream.provider,
      profile: config.upstream.profile,
      baseUrl: config.upstream.baseUrl,
      apiKey: config.upstream.apiKey,
      azureApiVersion: config.upstream.azureApiVersion,
    },
    pool: new UpstreamPool(config.upstreams, config.breaker),
    rateLimiter: new RateLimiter(redis?.rateLimiterStore ?? new MemoryRateLimiterStore()),
    reasoningCache: redis?.reasoningCache ?? new MemoryReasoningCache(),
    responseCache: config.responseCache.enabled ? (redis?.responseCache ?? new MemoryResponseCache(config.responseCache.maxEntries)) : undefined,
    redis,
    requestListeners: [],
    redact: createRedactor([config.upstream.apiKey, ...config.upstreams.flatMap((entry) => entry.apiKeys), ...config.clientApiKeys, config.operator.adminApiKey]),
    log,
    detailedLog: config.logging.detailed
      ? new DetailedLogWriter(config.logging.directory, [config.upstream.apiKey, ...config.upstreams.flatMap((entry) => entry.apiKeys), ...config.clientApiKeys, config.operator.adminApiKey], fileModes(config.logging.groupReadable))
      : undefined,
    health: { lastSuccessAt: undefined, lastFailureAt: undefined, lastFailure: undefined, requests: 0, failures: 0 },
  };
  // Read from the context on each request, so a reloaded config takes effect; rebuilt only when the config changes.
  let keyChecker: { config: ResolvedConfig; check: ((presented: string | undefined) => number | undefined) | undefined } | undefined;
  const checkKey = (presented: string | undefined): number | undefined | 'open' => {
    if (keyChecker?.config !== context.config) {
      const keys = context.config.clientApiKeys;
      keyChecker = { config: context.config, check: keys.length > 0 ? createKeyChecker(keys) : undefined };
    }
    return keyChecker.check === undefined ? 'open' : keyChecker.check(presented);
  };

  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    // Oversized header blocks and other unparseable requests get a Gemini-format answer, not Node's bare 4xx.
    clientErrorHandler: (error, socket) => {
      const overflow = (error as { code?: string }).code === 'HPE_HEADER_OVERFLOW';
      answerClientError(
        socket,
        overflow ? rawErrorResponse(431, 'Request Header Fields Too Large', 'Request header fields too large.') : rawErrorResponse(400, 'Bad Request', 'Malformed HTTP request.'),
      );
    },
    // A URL Fastify cannot decode: Gemini format, and never Fastify's body, which echoes the URL (and its ?key=).
    frameworkErrors: (error, _request, reply) => {
      void sendJson(reply as FastifyReply, 400, invalidRequest(frameworkErrorMessage(error.code)).toGoogleStatus());
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
  app.server.on('connect', (_request, socket: import('node:net').Socket) => refuseConnect(socket));

  // [R-JSON-6]: the body is JSON whatever the content type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    // What token limits charge: the body really read, also when it came chunked without a Content-Length.
    request.proxyInfo.bodyLength = text.length;
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      done(invalidRequest(`Invalid JSON payload received. ${error instanceof Error ? error.message : ''}`.trim()), undefined);
      return;
    }
    if (exceedsDepth(parsed)) done(invalidRequest(`Invalid JSON payload received. Nesting is deeper than ${MAX_JSON_DEPTH} levels.`), undefined);
    else done(null, parsed);
  });

  app.decorateRequest('proxyInfo', null as unknown as RequestInfo);
  app.addHook('onRequest', (request, reply, done) => {
    const info: RequestInfo = { requestId: randomHex(4), startedAt: process.hrtime.bigint() };
    request.proxyInfo = info;
    reply.raw.setHeader('x-request-id', info.requestId);
    info.method = request.method;
    if (!guardBrowserAccess(context.config, request, reply)) return;
    if (Buffer.byteLength(request.url) > context.config.maxUrlBytes) {
      const error = new ProxyError('INVALID_REQUEST', `The request URL is longer than ${context.config.maxUrlBytes} bytes.`);
      void reply.code(414).header('content-type', 'application/json; charset=UTF-8').send(encodeJson({ error: { ...error.toGoogleStatus().error, code: 414 } }));
      return;
    }
    reply.raw.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - info.startedAt) / 1e9;
      if (context.config.logging.access) {
        const model = info.model === undefined ? '-' : `${info.model}${info.upstreamModel ? ` → ${info.upstreamModel}` : ''}${info.stream ? ' (stream)' : ''}`;
        const status = reply.raw.headersSent ? reply.raw.statusCode : 499;
        const aborted = reply.raw.writableFinished ? '' : ' [client closed]';
        const attempts = info.attempts === undefined ? '' : ` - Upstream: ${info.attempts.join(' → ')}`;
        const line = `${request.method} ${redactUrl(request.url, context.redact).slice(0, 2048)} - ${status} - Model: ${model.slice(0, 600)} - ID: ${info.requestId} - ${seconds.toFixed(3)}s${attempts}${aborted}`;
        (info.quiet === true ? log.debug.bind(log) : log.info.bind(log))(context.redact(line));
      }
      if (info.trace !== undefined && context.detailedLog !== undefined) {
        context.detailedLog.write(info.trace).catch((error: unknown) => log.error({ err: error }, 'cannot write detailed log'));
      }
      if (context.requestListeners.length > 0 && info.model !== undefined) {
        const record: RequestRecord = {
          requestId: info.requestId,
          time: new Date().toISOString(),
          method: request.method,
          path: redactUrl(request.url.split('?')[0] ?? '', context.redact).slice(0, 512),
          status: reply.raw.headersSent ? reply.raw.statusCode : 499,
          model: recordedModelName(context.config, info.model),
          provider: context.config.upstream.provider,
          stream: info.stream === true,
          durationMs: seconds * 1000,
          promptTokens: info.usage?.promptTokens ?? 0,
          outputTokens: info.usage?.outputTokens ?? 0,
          thoughtsTokens: info.usage?.thoughtsTokens ?? 0,
          clientClosed: !reply.raw.writableFinished,
        };
        if (info.attempts !== undefined) record.attempts = info.attempts;
        if (info.client !== undefined) record.client = info.client;
        if (info.upstreamModel !== undefined) record.upstreamModel = info.upstreamModel.slice(0, 256);
        if (info.firstChunkMs !== undefined) record.firstChunkMs = info.firstChunkMs;
        if (info.errorStatus !== undefined) record.errorStatus = info.errorStatus;
        if (info.upstreamError !== undefined) record.upstreamError = info.upstreamError;
        if (info.trace !== undefined && context.detailedLog !== undefined) {
          const kept = traceForDashboard(info.trace.toJSON(), context.detailedLog.redact);
          record.trace = kept.trace;
          record.traceBytes = kept.bytes;
        }
        for (const listener of context.requestListeners) {
          try {
            listener(record);
          } catch (error) {
            log.error({ err: error }, 'request listener failed');
          }
        }
      }
    });
    done();
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const caught = toProxyError(error);
    // Last redaction, on the decoded message: an upstream may have echoed a key in any spelling.
    const message = context.redact(caught.message);
    const proxyError = message === caught.message ? caught : new ProxyError(caught.code, message, caught.details);
    if (proxyError.code === 'INTERNAL') log.error({ err: error, requestId: request.proxyInfo?.requestId }, 'unhandled error');
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

  const notFound = (request: FastifyRequest): ProxyError =>
    new ProxyError('NOT_FOUND', `The requested URL ${redactUrl(request.url).split('?')[0]} was not found on this server (method ${request.method}).`);
  app.setNotFoundHandler((request, reply) => {
    const error = notFound(request);
    void sendJson(reply, error.httpStatus, error.toGoogleStatus());
  });

  const healthPaths = new Set(['/health', config.basePath === '' ? '/health' : `${config.basePath}/health`]);
  for (const path of healthPaths) {
    app.get(path, async (request, reply) => {
      const document = await healthDocument(context, request.query as Record<string, unknown>, mayReadHealthDetail(context, request));
      return reply.header('content-type', 'application/json; charset=UTF-8').header('cache-control', 'no-store').send(context.redact(encodeJson(document)));
    });
  }
  const operator = installOperator(app, context);

  app.route({
    method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'],
    url: '/*',
    handler: async (request, reply) => {
      const path = request.url.split('?')[0] ?? '';
      const route = parseGeminiPath(request.method, path, config.basePath);
      if (route.kind === 'not-found') throw notFound(request);
      const matched = checkKey(presentedKey(request));
      if (matched === undefined) throw apiKeyInvalid();
      request.proxyInfo.client = matched === 'open' ? `ip:${request.ip}` : (context.config.clients[matched]?.name ?? `key#${matched}`);
      return dispatch(route, request, reply, matched === 'open' ? undefined : matched);
    },
  });

  /**
   * Per-client request and token limits ([RetryInfo] on refusal); settles with the real usage when the request ends.
   * `chargeTokens: false` (countTokens) takes one request and no tokens: counting generates nothing upstream.
   */
  async function admit(request: FastifyRequest, reply: FastifyReply, clientIndex: number | undefined, chargeTokens = true): Promise<void> {
    const limits = clientIndex === undefined ? context.config.limits : (context.config.clients[clientIndex]?.limits ?? context.config.limits);
    if (limits.requestsPerMinute === 0 && limits.tokensPerMinute === 0) return;
    const info = request.proxyInfo;
    const client = info.client ?? 'anonymous';
    const estimate = chargeTokens ? Math.ceil((info.bodyLength ?? 0) / 4) : 0;
    const decision = await context.rateLimiter.admit(client, limits, estimate);
    if (!decision.allowed) {
      throw new ProxyError(
        'CLIENT_RATE_LIMITED',
        `Quota exceeded for ${decision.limit} per minute of client ${client}. Retry in ${Math.max(1, Math.ceil(decision.retryAfterSeconds))}s.`,
        [retryInfo(Math.max(1, decision.retryAfterSeconds)), errorInfo('CLIENT_RATE_LIMITED', { limit: `${decision.limit}_per_minute`, client })],
      );
    }
    reply.raw.once('close', () => {
      const used = !chargeTokens || info.usage === undefined ? estimate : info.usage.promptTokens + info.usage.outputTokens + info.usage.thoughtsTokens;
      context.rateLimiter.settle(client, limits, estimate, used).catch(() => undefined);
    });
  }

  async function dispatch(route: Exclude<GeminiRoute, { kind: 'not-found' }>, request: FastifyRequest, reply: FastifyReply, clientIndex: number | undefined): Promise<unknown> {
    const info = request.proxyInfo;
    const query = request.query as Record<string, unknown>;
    switch (route.kind) {
      case 'bad-model':
        throw invalidRequest(route.message);
      case 'list-models':
        return sendJson(reply, 200, listModels(context, query));
      case 'get-model': {
        const model = modelResource(context, route.model.replace(/^models\//, ''));
        if (model === undefined) throw new ProxyError('MODEL_NOT_FOUND', `models/${route.model} is not found for API version ${route.version}.`);
        return sendJson(reply, 200, model);
      }
      case 'list-tuned-models':
        // [R-MOD-4]: proto3 JSON omits the empty list.
        return sendJson(reply, 200, {});
      case 'get-tuned-model':
        throw new ProxyError('NOT_FOUND', `tunedModels/${route.model} is not found.`);
      case 'method':
        break;
    }
    info.model = route.model;
    await admit(request, reply, clientIndex, route.method !== 'countTokens');
    if (context.detailedLog !== undefined) {
      info.trace = new RequestTrace(info.requestId, new Date());
      info.trace.set('1_GEMINI_REQUEST', {
        method: request.method,
        url: redactUrl(request.url),
        headers: redactHeaders(request.headers),
        body: request.body,
      });
    }
    const body: unknown = request.body;
    switch (route.method) {
      case 'generateContent':
      case 'streamGenerateContent': {
        const stream = route.method === 'streamGenerateContent';
        const alt = typeof query['alt'] === 'string' ? query['alt'].toLowerCase() : undefined;
        if (stream && alt !== undefined && alt !== 'sse' && alt !== 'json') {
          throw invalidRequest(`Invalid value for 'alt': ${alt}. Use alt=sse, or omit it for a JSON array.`);
        }
        info.stream = stream;
        const prepared = await prepareGenerate(context, info, body, route.model, stream);
        reply.hijack();
        await runGenerate(context, info, prepared, reply.raw, stream ? (alt === 'sse' ? 'sse' : 'json-array') : 'unary');
        return reply;
      }
      case 'countTokens': {
        const result = await countTokens(context, info, route.model, body);
        info.trace?.set('4_GEMINI_RESPONSE', result);
        return sendJson(reply, 200, result);
      }
      case 'embedContent': {
        const result = await embedContent(context, info, route.model, body);
        return sendJson(reply, 200, result);
      }
      case 'batchEmbedContents': {
        const result = await batchEmbedContents(context, info, route.model, body);
        return sendJson(reply, 200, result);
      }
    }
  }

  app.addHook('onClose', async () => {
    operator.close();
    // The client in force: a reload may have replaced the one created here.
    await context.upstream.close();
    await context.redis?.close();
  });
  if (redis !== undefined) {
    // Usage counters shared by every instance.
    context.requestListeners.push((record) => {
      redis.recordUsage({
        model: record.model ?? '-',
        requests: 1,
        errors: record.status >= 400 || record.errorStatus !== undefined ? 1 : 0,
        promptTokens: record.promptTokens,
        outputTokens: record.outputTokens,
        thoughtsTokens: record.thoughtsTokens,
      });
    });
  }

  return { app, context, operator };
}

