/**
 * generateContent and streamGenerateContent, orchestrated: translate for the first route target (so bad input fails
 * before the response is hijacked), then let the gateway walk the targets (gateway/failover.ts) while this module owns
 * the client's side: the commit timer and heartbeats of docs/gemini-contract.md §7, the request deadline, the response
 * cache, the reasoning replay and the per-request facts the logs need.
 */
import type { ServerResponse } from 'node:http';
import { ProxyError } from '../errors.js';
import { runFailover, shortReason, upstreamStatusOf, type FailoverResult } from '../gateway/failover.js';
import { routerFor, type RouteTarget } from '../gateway/router.js';
import { attemptFanOut } from '../gateway/fan-out.js';
import { attemptUpstream } from '../gateway/upstream-attempt.js';
import { responseCacheKey } from '../shared/response-cache.js';
import { Cancellation } from '../upstream/cancel.js';
import type { GenerateContentRequest, GenerateContentResponse } from '../translate/gemini-types.js';
import { normalizeGenerateContentRequest } from '../translate/normalize-request.js';
import { recordUpstreamOutcome, type ProxyContext, type RequestInfo } from './context.js';
import { truncationWarning } from './context-window.js';
import { randomBase64url } from './random-ids.js';
import { prepareWebSearch, type PreparedWebSearch } from '../search/web-search.js';
import { ResponseChannel, type ChannelKind, type ChannelOwner } from './response-channel.js';
import { rememberReasoning, translateForTarget, type TargetRequest } from './target-request.js';

export interface PreparedGenerate {
  geminiModel: string;
  request: GenerateContentRequest;
  stream: boolean;
  responseId: string;
  routes: RouteTarget[];
  /** The first target, translated up front so that bad input fails before the response is hijacked. */
  first: TargetRequest;
  /** Present when the request carries Gemini's googleSearch tool. */
  search: PreparedWebSearch | undefined;
}

export function newResponseId(): string {
  return randomBase64url(12);
}

function modelNotFound(geminiModel: string, method: string): ProxyError {
  // Google's wording: Gemini CLI turns a 404 into its model-fallback chain.
  return new ProxyError(
    'MODEL_NOT_FOUND',
    `models/${geminiModel} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
  );
}

export async function prepareGenerate(
  context: ProxyContext,
  info: RequestInfo,
  body: unknown,
  geminiModel: string,
  stream: boolean,
): Promise<PreparedGenerate> {
  const normalized = normalizeGenerateContentRequest(body);
  if (normalized.ignoredFields.length > 0)
    context.log.debug(
      { requestId: info.requestId, fields: normalized.ignoredFields },
      'request fields ignored (README: what is ignored)',
    );
  const plan = routerFor(context.config.routing).plan(geminiModel);
  const firstRoute = plan?.targets[0];
  if (plan === undefined || firstRoute === undefined)
    throw modelNotFound(geminiModel, stream ? 'streamGenerateContent' : 'generateContent');
  info.upstreamModel = firstRoute.model;
  // googleSearch: the proxy's own search runs here, once, before anything goes upstream (src/search/).
  const search = await prepareWebSearch(context.config.webSearch, normalized);
  if (search?.warning !== undefined) context.log.warn({ requestId: info.requestId }, search.warning);
  if (search?.record !== undefined) info.webSearch = search.record;
  const request = search?.request ?? normalized;
  const responseId = newResponseId();
  const first = await translateForTarget(context, info, request, firstRoute, stream, responseId, search);
  info.trace?.set('2_OPENAI_REQUEST', search === undefined ? first.translated.body : JSON.parse(first.body));
  return { geminiModel, request, stream, responseId, routes: plan.targets, first, search };
}

/**
 * Gemini CLI retries 429, 499 and 5xx itself, ten times over about five minutes (docs/gemini-contract.md §6.4); its
 * User-Agent starts with `GeminiCLI`. The SDKs alone do not retry unless told to.
 */
function clientRetriesItself(userAgent: string | undefined): boolean {
  return userAgent !== undefined && /^GeminiCLI/i.test(userAgent);
}

/** The client's side of one request: its response channel, the upstream abort, and the two timers. */
class RequestRun implements ChannelOwner {
  readonly channel: ResponseChannel;
  readonly abort = new Cancellation();
  readonly attempts: string[] = [];
  readonly rawChunks: string[] | undefined;
  readonly attemptLog: Array<{ url: string; status: number | string }> | undefined;
  clientGone = false;
  timedOut = false;
  readonly userAgent: string | undefined;
  private readonly commitTimer: NodeJS.Timeout;
  private readonly requestTimer: NodeJS.Timeout;
  private readonly onClose = (): void => {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    this.abort.abort();
  };

  constructor(
    private readonly context: ProxyContext,
    private readonly info: RequestInfo,
    private readonly res: ServerResponse,
    readonly kind: ChannelKind,
  ) {
    const { timeouts } = context.config;
    this.channel = new ResponseChannel(res, kind, info.trace !== undefined, this);
    this.userAgent = res.req.headers['user-agent'];
    this.rawChunks = info.trace === undefined ? undefined : [];
    this.attemptLog = info.trace === undefined ? undefined : [];
    res.on('close', this.onClose);
    // [R-TO-1]/[R-TO-3]: a slow upstream must not run into the client's 60 s header timeout.
    this.commitTimer = setTimeout(() => this.channel.commit(timeouts.heartbeatSeconds), timeouts.commitSeconds * 1000);
    this.requestTimer = setTimeout(() => {
      this.timedOut = true;
      this.abort.abort();
    }, context.config.requestTimeoutSeconds * 1000);
  }

  beforeEnd(): void {
    this.finalizeInfo();
  }

  /** Copies what the logs need into the request info; runs right before the response ends (and again at the end). */
  finalizeInfo(): void {
    const { info, channel, attempts } = this;
    if (attempts.length > 1 || (attempts.length === 1 && !attempts[0]?.endsWith(':ok'))) info.attempts = [...attempts];
    if (channel.firstContentAt !== undefined) info.firstChunkMs = Number(channel.firstContentAt - info.startedAt) / 1e6;
    const usage = channel.lastUsage;
    if (usage !== undefined) {
      info.usage = {
        promptTokens: usage.promptTokenCount,
        outputTokens: usage.candidatesTokenCount,
        thoughtsTokens: usage.thoughtsTokenCount ?? 0,
      };
    }
    if (channel.errorStatus !== undefined) info.errorStatus = channel.errorStatus;
    if (channel.errorCode !== undefined) info.upstreamError = channel.errorCode;
    if (info.trace !== undefined) {
      info.trace.set('UPSTREAM_ATTEMPTS', this.attemptLog);
      info.trace.set('3_OPENAI_RESPONSE', this.rawChunks);
      info.trace.set(
        '4_GEMINI_RESPONSE',
        this.kind === 'unary' && channel.sent?.length === 1 ? channel.sent[0] : channel.sent,
      );
    }
  }

  close(failure: string | undefined): void {
    clearTimeout(this.commitTimer);
    clearTimeout(this.requestTimer);
    this.channel.stopHeartbeat();
    this.res.off('close', this.onClose);
    this.finalizeInfo();
    if (!this.clientGone) recordUpstreamOutcome(this.context, failure);
  }
}

/** The opt-in response cache: unary, deterministic (temperature 0) requests only; keyed on the exact upstream request. */
function cacheKeyFor(context: ProxyContext, prepared: PreparedGenerate, kind: ChannelKind): string | undefined {
  if (context.responseCache === undefined || kind !== 'unary' || prepared.request.generationConfig.temperature !== 0)
    return undefined;
  return responseCacheKey(prepared.first.url, prepared.first.body);
}

async function answerFromCache(
  context: ProxyContext,
  run: RequestRun,
  prepared: PreparedGenerate,
  key: string,
): Promise<boolean> {
  const hit = await context.responseCache?.get(key);
  if (hit === undefined) return false;
  const response = JSON.parse(hit) as GenerateContentResponse;
  // One response id per request ([R-RES-3]), even for a cached answer.
  run.channel.sendUnary({ ...response, responseId: prepared.responseId });
  run.attempts.push('cache:hit');
  return true;
}

function walkTargets(
  context: ProxyContext,
  info: RequestInfo,
  prepared: PreparedGenerate,
  run: RequestRun,
): Promise<FailoverResult> {
  const { config } = context;
  const setup = {
    client: context.upstream,
    sink: run.channel,
    stream: run.kind !== 'unary',
    heartbeatSeconds: config.timeouts.heartbeatSeconds,
    signal: run.abort.signal,
    redact: context.redact,
    rawChunks: run.rawChunks,
    attemptLog: run.attemptLog,
  };
  return runFailover(
    prepared.routes,
    context.pool,
    config.retries,
    {
      prepare: async (route, index) =>
        index === 0
          ? prepared.first
          : translateForTarget(
              context,
              info,
              prepared.request,
              route,
              prepared.stream,
              prepared.responseId,
              prepared.search,
            ),
      attempt: (request, target, route) => {
        info.upstreamModel = route.model;
        // candidateCount without `n` upstream: parallel calls merged by candidate index.
        return request.translated.parallelCalls > 1
          ? attemptFanOut(setup, request, target, request.translated.parallelCalls)
          : attemptUpstream(setup, request, target);
      },
      clientGone: () => run.clientGone,
      clientRetries: clientRetriesItself(run.userAgent),
      timedOut: () => run.timedOut,
      signal: run.abort.signal,
    },
    run.attempts,
  );
}

/**
 * Runs one generate request to completion on a hijacked response. Never throws: every failure ends as a Gemini
 * error (real status before the commit, the late form after it).
 */
export async function runGenerate(
  context: ProxyContext,
  info: RequestInfo,
  prepared: PreparedGenerate,
  res: ServerResponse,
  kind: ChannelKind,
): Promise<void> {
  const run = new RequestRun(context, info, res, kind);
  const cacheKey = cacheKeyFor(context, prepared, kind);
  let failure: string | undefined;
  try {
    if (cacheKey !== undefined && (await answerFromCache(context, run, prepared, cacheKey))) {
      info.cached = true;
      return;
    }
    const result = await walkTargets(context, info, prepared, run);
    if (result.kind === 'abandoned') return;
    if (result.kind === 'broken') {
      // [R-FIN-5]: output had started, so the failure ends the response as the raw error object, never as a
      // finish that looks like an ordinary end.
      failure = result.error.message;
      info.streamFailure = `${upstreamStatusOf(result.error)}: ${shortReason(result.error)}`;
      run.channel.fail(result.error.mapText(context.redact));
      return;
    }
    if (result.kind === 'done') {
      const { outcome } = result;
      await rememberReasoning(context, outcome.calls, outcome.reasoning);
      if (cacheKey !== undefined && outcome.unary !== undefined && result.routeIndex === 0) {
        await context.responseCache?.set(
          cacheKey,
          JSON.stringify(outcome.unary),
          context.config.responseCache.ttlSeconds,
        );
      }
      return;
    }
    const error = run.timedOut
      ? new ProxyError(
          'UPSTREAM_TIMEOUT',
          `The request took longer than server.request_timeout_seconds allows (${context.config.requestTimeoutSeconds} s).`,
        )
      : (result.error ?? new ProxyError('UPSTREAM_UNAVAILABLE', 'No upstream could take the request.'));
    failure = error.message;
    info.upstreamMessage = error.message;
    // Upstream text was redacted before it was classified; this pass also covers its details and network messages.
    run.channel.fail(error.mapText(context.redact));
  } finally {
    run.close(failure);
    if (info.usage !== undefined) {
      const truncated = truncationWarning(
        prepared.first.upstream.provider,
        prepared.first.route.model,
        info.usage.promptTokens,
        prepared.first.body.length,
      );
      if (truncated !== undefined) context.log.warn({ requestId: info.requestId }, truncated);
    }
  }
}
