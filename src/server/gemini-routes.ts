/**
 * Every Gemini path behind one catch-all route and our own parser, because model ids contain ':' and '/', which a
 * router would split: client auth, per-client limits, the detailed-log trace, then one dispatch per method.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { ResolvedConfig } from '../config/load.js';
import { ProxyError, apiKeyInvalid, errorInfo, invalidRequest, retryInfo } from '../errors.js';
import { unreachable } from '../exhaustive.js';
import { createKeyChecker, presentedKey } from './client-keys.js';
import type { ProxyContext } from './context.js';
import { RequestTrace, redactHeaders, redactUrl } from './detailed-log.js';
import { notFound, sendJson } from './error-handlers.js';
import { parseGeminiPath, type GeminiRoute } from './gemini-path.js';
import { prepareGenerate, runGenerate } from './generate.js';
import { listModels, modelResource } from './models.js';
import { batchEmbedContents, countTokens, embedContent } from './other-methods.js';

type FoundRoute = Exclude<GeminiRoute, { kind: 'not-found' }>;
type MethodRoute = Extract<GeminiRoute, { kind: 'method' }>;
/** The index of the matched client key, or undefined when the proxy is open (no client keys configured). */
type ClientIndex = number | undefined;

/** Matches a presented key against the keys in force; rebuilt only when a reload replaced the config. */
function clientKeyMatcher(context: ProxyContext): (presented: string | undefined) => number | undefined | 'open' {
  let keyChecker:
    { config: ResolvedConfig; check: ((presented: string | undefined) => number | undefined) | undefined } | undefined;
  return (presented) => {
    if (keyChecker?.config !== context.config) {
      const keys = context.config.clientApiKeys;
      keyChecker = { config: context.config, check: keys.length > 0 ? createKeyChecker(keys) : undefined };
    }
    return keyChecker.check === undefined ? 'open' : keyChecker.check(presented);
  };
}

/** Per-client request and token limits ([RetryInfo] on refusal); settles with the real usage when the request ends. */
async function admit(
  context: ProxyContext,
  request: FastifyRequest,
  reply: FastifyReply,
  clientIndex: ClientIndex,
  chargeTokens = true,
): Promise<void> {
  const limits =
    clientIndex === undefined
      ? context.config.limits
      : (context.config.clients[clientIndex]?.limits ?? context.config.limits);
  if (limits.requestsPerMinute === 0 && limits.tokensPerMinute === 0) return;
  const info = request.proxyInfo;
  const client = info.client ?? 'anonymous';
  // From the body really read: a chunked upload has no Content-Length, and was charged nothing.
  const estimate = chargeTokens ? Math.ceil((info.bodyLength ?? 0) / 4) : 0;
  const decision = await context.rateLimiter.admit(client, limits, estimate);
  if (!decision.allowed) {
    throw new ProxyError(
      'CLIENT_RATE_LIMITED',
      `Client ${client} is over its limit of ${decision.limit} per minute on this proxy: retry in ${Math.max(1, Math.ceil(decision.retryAfterSeconds))} s.`,
      [
        retryInfo(Math.max(1, decision.retryAfterSeconds)),
        errorInfo('CLIENT_RATE_LIMITED', { limit: `${decision.limit}_per_minute`, client }),
      ],
    );
  }
  reply.raw.once('close', () => {
    const used =
      !chargeTokens || info.usage === undefined
        ? estimate
        : info.usage.promptTokens + info.usage.outputTokens + info.usage.thoughtsTokens;
    context.rateLimiter.settle(client, limits, estimate, used).catch(() => undefined);
  });
}

/** Model metadata paths: answered from the config, no upstream call, no limits. */
function answerModelPath(
  context: ProxyContext,
  route: Exclude<FoundRoute, MethodRoute>,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  switch (route.kind) {
    case 'bad-model':
      throw invalidRequest(route.message);
    case 'list-models':
      return sendJson(reply, 200, listModels(context, request.query as Record<string, unknown>));
    case 'get-model': {
      const model = modelResource(context, route.model.replace(/^models\//, ''));
      if (model === undefined)
        throw new ProxyError('MODEL_NOT_FOUND', `models/${route.model} is not found for API version ${route.version}.`);
      return sendJson(reply, 200, model);
    }
    case 'list-tuned-models':
      // [R-MOD-4]: proto3 JSON omits the empty list.
      return sendJson(reply, 200, {});
    case 'get-tuned-model':
      throw new ProxyError('NOT_FOUND', `tunedModels/${route.model} is not found.`);
    default:
      return unreachable(route, 'route kind');
  }
}

async function callMethod(
  context: ProxyContext,
  route: MethodRoute,
  request: FastifyRequest,
  reply: FastifyReply,
  clientIndex: ClientIndex,
): Promise<unknown> {
  const info = request.proxyInfo;
  info.model = route.model;
  // countTokens takes a request and no tokens: counting generates nothing upstream, but its work is not free.
  await admit(context, request, reply, clientIndex, route.method !== 'countTokens');
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
      const query = request.query as Record<string, unknown>;
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
    case 'embedContent':
      return sendJson(reply, 200, await embedContent(context, info, route.model, body));
    case 'batchEmbedContents':
      return sendJson(reply, 200, await batchEmbedContents(context, info, route.model, body));
    default:
      return unreachable(route.method, 'Gemini method');
  }
}

export const geminiRoutes: FastifyPluginCallback<{ context: ProxyContext }> = (app, { context }, done) => {
  const basePath = context.config.basePath;
  const checkKey = clientKeyMatcher(context);
  app.route({
    method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'],
    url: '/*',
    handler: async (request, reply) => {
      const path = request.url.split('?')[0] ?? '';
      const route = parseGeminiPath(request.method, path, basePath);
      if (route.kind === 'not-found') throw notFound(request);
      const matched = checkKey(presentedKey(request));
      if (matched === undefined) throw apiKeyInvalid();
      request.proxyInfo.client =
        matched === 'open' ? `ip:${request.ip}` : (context.config.clients[matched]?.name ?? `key#${matched}`);
      const clientIndex = matched === 'open' ? undefined : matched;
      if (route.kind !== 'method') return answerModelPath(context, route, request, reply);
      return callMethod(context, route, request, reply, clientIndex);
    },
  });
  done();
};
