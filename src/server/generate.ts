/**
 * generateContent and streamGenerateContent: translate, call the upstream, translate back, with the timing rules of
 * gemini-contract.md §7 (commit early, heartbeats, idle timeout) and the error rules of §6. Gateway behaviour lives
 * here too: the route's targets in order, a few jittered retries per target before any output reached the client
 * (honouring Retry-After), key rotation and circuit breakers through the upstream pool, and never a retry once output
 * was sent.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProxyError, type ErrorCode } from '../errors.js';
import type { RouteTarget } from '../gateway/router.js';
import type { UpstreamDefinition } from '../gateway/upstream-pool.js';
import { geminiRequestToOpenAI, type TranslatedRequest } from '../translate/gemini-request-to-openai.js';
import { assertPromptFits, truncationWarning } from './context-window.js';
import type { GenerateContentRequest, GenerateContentResponse } from '../translate/gemini-types.js';
import { responseCacheKey } from '../shared/response-cache.js';
import { normalizeGenerateContentRequest } from '../translate/normalize-request.js';
import { OpenAIStreamToGemini, openAICompletionToGemini, type StreamEnd, type StreamTranslationOptions, type UpstreamCall } from '../translate/openai-stream-to-gemini.js';
import type { OpenAIChunk } from '../translate/openai-types.js';
import { networkError } from '../upstream/client.js';
import { streamUsageOverride, upstreamLabel, upstreamUrl, type UpstreamTarget } from '../upstream/endpoints.js';
import { SseDecoder } from '../upstream/sse-decoder.js';
import { classifyUpstreamError } from '../upstream/upstream-errors.js';
import { recordUpstreamOutcome, type ProxyContext, type RequestInfo } from './context.js';
import { reasoningKeys } from './reasoning-cache.js';
import { ResponseChannel, type ChannelKind } from './response-channel.js';
import { randomBase64url } from './random-ids.js';

/** One route target, translated for its upstream's dialect and model. */
interface TargetRequest {
  route: RouteTarget;
  upstream: UpstreamDefinition;
  translated: TranslatedRequest;
  body: string;
  url: string;
  streamOptions: StreamTranslationOptions;
}

export interface PreparedGenerate {
  geminiModel: string;
  request: GenerateContentRequest;
  stream: boolean;
  responseId: string;
  routes: RouteTarget[];
  /** The first target, translated up front so that bad input fails before the response is hijacked. */
  first: TargetRequest;
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

/**
 * Restores the reasoning of earlier tool-call turns that the upstream requires and Gemini CLI stripped
 * (providers.md §4.2); a single space when nothing was recorded, which both DeepSeek and Kimi accept.
 */
async function restoreReasoning(context: ProxyContext, info: RequestInfo, translated: TranslatedRequest): Promise<void> {
  let missing = 0;
  for (const index of translated.reasoningRequired) {
    const message = translated.body.messages[index];
    if (message === undefined || message.role !== 'assistant' || message.tool_calls === undefined) continue;
    let reasoning: string | undefined;
    for (const call of message.tool_calls) {
      reasoning = await context.reasoningCache.get(reasoningKeys(call.id, call.function.name, call.function.arguments));
      if (reasoning !== undefined) break;
    }
    if (reasoning === undefined) missing += 1;
    message.reasoning_content = reasoning ?? ' ';
  }
  if (missing > 0) context.log.warn({ requestId: info.requestId }, `reasoning of ${missing} earlier tool-call turn(s) was not found; sent a placeholder`);
}

async function rememberReasoning(context: ProxyContext, calls: UpstreamCall[], reasoning: string): Promise<void> {
  if (reasoning === '' || calls.length === 0) return;
  for (const call of calls) await context.reasoningCache.set(reasoningKeys(call.id, call.name, JSON.stringify(call.args)), reasoning);
}

async function translateForTarget(
  context: ProxyContext,
  info: RequestInfo,
  request: GenerateContentRequest,
  route: RouteTarget,
  stream: boolean,
  responseId: string,
): Promise<TargetRequest> {
  const upstream = context.pool.get(route.upstream);
  if (upstream === undefined) throw new ProxyError('INTERNAL', `route names an unknown upstream ${route.upstream}`);
  const usage = streamUsageOverride({ provider: upstream.provider, profile: upstream.profile, baseUrl: upstream.baseUrl, apiKey: undefined, azureApiVersion: upstream.azureApiVersion });
  const translated = geminiRequestToOpenAI(request, {
    model: route.model,
    stream,
    profile: upstream.profile,
    ...(usage === undefined ? {} : { streamUsage: usage }),
  });
  for (const warning of translated.warnings) context.log.warn({ requestId: info.requestId, upstream: route.upstream }, warning);
  if (translated.reasoningRequired.length > 0) await restoreReasoning(context, info, translated);
  const body = JSON.stringify(translated.body);
  const limits = context.config.modelLimits.for(upstream.provider, route.model);
  if (limits !== undefined) await assertPromptFits(limits, route.model, body, translated.body);
  return {
    route,
    upstream,
    translated,
    body,
    url: upstreamUrl({ provider: upstream.provider, profile: upstream.profile, baseUrl: upstream.baseUrl, apiKey: undefined, azureApiVersion: upstream.azureApiVersion }, 'chat', route.model),
    streamOptions: {
      modelVersion: route.model,
      responseId,
      includeThoughts: translated.includeThoughts,
      textMode: translated.textMode,
      toolNames: translated.toolNames,
      promptCharacters: body.length,
      thinkTags: translated.thinkTags,
    },
  };
}

export async function prepareGenerate(context: ProxyContext, info: RequestInfo, body: unknown, geminiModel: string, stream: boolean): Promise<PreparedGenerate> {
  const request = normalizeGenerateContentRequest(body);
  const plan = context.config.router.plan(geminiModel);
  const firstRoute = plan?.targets[0];
  if (plan === undefined || firstRoute === undefined) throw modelNotFound(geminiModel, stream ? 'streamGenerateContent' : 'generateContent');
  info.upstreamModel = firstRoute.model;
  const responseId = newResponseId();
  const first = await translateForTarget(context, info, request, firstRoute, stream, responseId);
  info.trace?.set('2_OPENAI_REQUEST', first.translated.body);
  return { geminiModel, request, stream, responseId, routes: plan.targets, first };
}

async function readText(body: AsyncIterable<Buffer | Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function upstreamErrorFromEvent(target: UpstreamTarget, payload: Record<string, unknown>): ProxyError {
  const error = payload['error'];
  let status = 500;
  if (typeof error === 'object' && error !== null) {
    const record = error as Record<string, unknown>;
    for (const candidate of [record['status_code'], record['code'], record['status']]) {
      const number = typeof candidate === 'string' ? Number(candidate) : candidate;
      if (typeof number === 'number' && Number.isInteger(number) && number >= 400 && number <= 599) {
        status = number;
        break;
      }
    }
  }
  return classifyUpstreamError({ provider: upstreamLabel(target), status, body: JSON.stringify(payload) });
}

/** What to do after a failure that happened before any output reached the client. */
type RetryPolicy = 'same' | 'other-key' | 'next-target' | 'never';

const RETRY_POLICY: Partial<Record<ErrorCode, RetryPolicy>> = {
  UPSTREAM_RATE_LIMITED: 'same',
  UPSTREAM_UNAVAILABLE: 'same',
  UPSTREAM_TIMEOUT: 'same',
  UPSTREAM_PROTOCOL: 'same',
  UPSTREAM_INSUFFICIENT_BALANCE: 'other-key',
  UPSTREAM_AUTH: 'other-key',
  UPSTREAM_NOT_FOUND: 'next-target',
};

type AttemptOutcome = { kind: 'done'; unary?: GenerateContentResponse } | { kind: 'failed'; error: ProxyError; retryAfterSeconds: number | undefined };

function retryAfterOf(error: ProxyError): number | undefined {
  for (const detail of error.details) {
    if (detail['@type'] === 'type.googleapis.com/google.rpc.RetryInfo') {
      const match = /^([0-9.]+)(ms|s)$/.exec(detail.retryDelay);
      if (match?.[1] !== undefined) return match[2] === 'ms' ? Number(match[1]) / 1000 : Number(match[1]);
    }
  }
  return undefined;
}

interface AttemptContext {
  context: ProxyContext;
  info: RequestInfo;
  channel: ResponseChannel;
  kind: ChannelKind;
  signal: AbortSignal;
  rawChunks: string[] | undefined;
}

/**
 * One upstream call. Returns `done` once the client's answer is complete (success, or a late failure finished as
 * OTHER); returns `failed` when nothing reached the client yet, so the caller may retry or fall back.
 */
async function attemptOnce(run: AttemptContext, request: TargetRequest, target: UpstreamTarget): Promise<AttemptOutcome> {
  const { context, channel, signal, rawChunks } = run;
  const { timeouts } = context.config;
  const stream = run.kind !== 'unary';
  const failed = (error: ProxyError): AttemptOutcome => ({ kind: 'failed', error, retryAfterSeconds: retryAfterOf(error) });
  let response;
  try {
    response = await context.upstream.post(target, request.url, request.body, signal, stream);
  } catch (error) {
    return failed(networkError(error, target));
  }
  if (response.statusCode < 200 || response.statusCode >= 300) {
    const text = await readText(response.body).catch(() => '');
    rawChunks?.push(text);
    const retryAfter = response.headers['retry-after'];
    return failed(
      classifyUpstreamError({
        provider: upstreamLabel(target),
        status: response.statusCode,
        body: context.redact(text),
        retryAfterHeader: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      }),
    );
  }

  if (!stream) {
    let text: string;
    try {
      text = await readText(response.body);
    } catch (error) {
      return failed(networkError(error, target));
    }
    rawChunks?.push(text);
    let completion: OpenAIChunk;
    try {
      // DeepSeek may prefix a unary body with blank lines while queued (providers.md §2.1).
      completion = JSON.parse(text.trim()) as OpenAIChunk;
    } catch {
      return failed(new ProxyError('UPSTREAM_PROTOCOL', `upstream ${upstreamLabel(target)} returned a body that is not JSON: ${context.redact(text).slice(0, 200)}`));
    }
    if (typeof completion !== 'object' || completion === null) {
      return failed(new ProxyError('UPSTREAM_PROTOCOL', `upstream ${upstreamLabel(target)} returned an unexpected body`));
    }
    if ('error' in completion && (completion as Record<string, unknown>)['error'] != null) {
      return failed(upstreamErrorFromEvent(target, JSON.parse(context.redact(JSON.stringify(completion))) as Record<string, unknown>));
    }
    const finish = openAICompletionToGemini(completion, request.streamOptions);
    if (finish.response === undefined) {
      return failed(new ProxyError('UPSTREAM_UNAVAILABLE', `upstream ${upstreamLabel(target)} ended the generation without output (finish ${String(completion.choices?.[0]?.finish_reason)})`));
    }
    await rememberReasoning(context, finish.calls, finish.reasoning);
    channel.sendUnary(finish.response);
    return { kind: 'done', unary: finish.response };
  }

  // When the first upstream bytes came with the headers, they leave together with ours (see ResponseChannel.commit).
  channel.commit(timeouts.heartbeatSeconds, response.body.readableLength > 0);
  const machine = new OpenAIStreamToGemini(request.streamOptions);
  const decoder = new SseDecoder();
  let lateError: ProxyError | undefined;
  let outcome: AttemptOutcome | undefined;

  const finishStream = async (ended: StreamEnd): Promise<void> => {
    if (lateError !== undefined && !machine.hasEmitted) {
      outcome = failed(lateError);
      return;
    }
    const finish = machine.end(lateError === undefined ? ended : 'interrupted');
    await channel.send(finish.before, timeouts.heartbeatSeconds);
    if (finish.response === undefined) {
      outcome = failed(lateError ?? new ProxyError('UPSTREAM_UNAVAILABLE', `upstream ${upstreamLabel(target)} ended the stream without any output`));
      return;
    }
    await channel.send([finish.response], timeouts.heartbeatSeconds);
    channel.end();
    outcome = { kind: 'done' };
    if (lateError !== undefined) run.info.upstreamError = 'UPSTREAM_INTERRUPTED';
    await rememberReasoning(context, finish.calls, finish.reasoning);
  };

  /** Returns true when the upstream stream is over for us ([DONE] or an error event). */
  const handle = async (data: string, event: string | undefined): Promise<boolean> => {
    rawChunks?.push(event === undefined ? data : `event: ${event}\n${data}`);
    if (data === '[DONE]') {
      await finishStream('done');
      return true;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      lateError = new ProxyError('UPSTREAM_PROTOCOL', `upstream ${upstreamLabel(target)} sent an event that is not JSON: ${context.redact(data).slice(0, 200)}`);
      return true;
    }
    if (typeof parsed !== 'object' || parsed === null) return false;
    const record = parsed as Record<string, unknown>;
    if (event === 'error' || (record['error'] !== undefined && record['error'] !== null)) {
      lateError = upstreamErrorFromEvent(target, JSON.parse(context.redact(data)) as Record<string, unknown>);
      return true;
    }
    await channel.send(machine.push(parsed as OpenAIChunk), timeouts.heartbeatSeconds);
    return false;
  };

  let over = false;
  let drainTimer: NodeJS.Timeout | undefined;
  try {
    for await (const chunk of response.body) {
      if (over) continue; // draining after [DONE], so the pooled connection stays reusable
      for (const event of decoder.push(chunk as Buffer)) {
        if (await handle(event.data, event.event)) {
          over = true;
          break;
        }
      }
      if (over && outcome === undefined) break;
      if (over && drainTimer === undefined) {
        drainTimer = setTimeout(() => response.body.destroy(), 5000);
        drainTimer.unref();
      }
    }
    if (!over) for (const event of decoder.end()) if (await handle(event.data, event.event)) break;
  } catch (error) {
    if (outcome === undefined && !signal.aborted) lateError = networkError(error, target);
    if (signal.aborted && outcome === undefined) lateError = new ProxyError('UPSTREAM_TIMEOUT', 'the request took longer than server.request_timeout_seconds');
  } finally {
    if (drainTimer !== undefined) clearTimeout(drainTimer);
  }
  if (outcome === undefined) await finishStream('eof');
  return outcome ?? { kind: 'done' };
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
  const { timeouts, retries } = context.config;
  const channel = new ResponseChannel(res, kind, info.trace !== undefined);
  const upstreamAbort = new AbortController();
  let clientGone = false;
  const onClose = (): void => {
    if (res.writableFinished) return;
    clientGone = true;
    upstreamAbort.abort();
  };
  res.on('close', onClose);
  // [R-TO-1]/[R-TO-3]: a slow upstream must not run into the client's 60 s header timeout.
  const commitTimer = setTimeout(() => channel.commit(timeouts.heartbeatSeconds), timeouts.commitSeconds * 1000);
  let timedOut = false;
  const requestTimer = setTimeout(() => {
    timedOut = true;
    upstreamAbort.abort();
  }, context.config.requestTimeoutSeconds * 1000);
  const run: AttemptContext = { context, info, channel, kind, signal: upstreamAbort.signal, rawChunks: info.trace === undefined ? undefined : [] };
  const attempts: string[] = [];
  let lastError: ProxyError | undefined;
  let failure: string | undefined;
  const finalizeInfo = (): void => {
    if (attempts.length > 1 || (attempts.length === 1 && !attempts[0]?.endsWith(':ok'))) info.attempts = [...attempts];
    if (channel.firstContentAt !== undefined) info.firstChunkMs = Number(channel.firstContentAt - info.startedAt) / 1e6;
    const usage = channel.lastUsage;
    if (usage !== undefined) {
      info.usage = { promptTokens: usage.promptTokenCount, outputTokens: usage.candidatesTokenCount, thoughtsTokens: usage.thoughtsTokenCount ?? 0 };
      const truncated = truncationWarning(prepared.first.upstream.provider, prepared.first.route.model, usage.promptTokenCount, prepared.first.body.length);
      if (truncated !== undefined) context.log.warn({ requestId: info.requestId }, truncated);
    }
    if (channel.errorStatus !== undefined) info.errorStatus = channel.errorStatus;
    if (channel.errorCode !== undefined) info.upstreamError = channel.errorCode;
    if (info.trace !== undefined) {
      info.trace.set('3_OPENAI_RESPONSE', run.rawChunks);
      info.trace.set('4_GEMINI_RESPONSE', kind === 'unary' && channel.sent?.length === 1 ? channel.sent[0] : channel.sent);
    }
  };
  channel.beforeEnd = finalizeInfo;

  // The opt-in response cache: unary, deterministic (temperature 0) requests only; keyed on the exact upstream request.
  const cache = kind === 'unary' && prepared.request.generationConfig.temperature === 0 ? context.responseCache : undefined;
  const cacheKey = cache === undefined ? undefined : responseCacheKey(prepared.first.url, prepared.first.body);
  try {
    if (cache !== undefined && cacheKey !== undefined) {
      const hit = await cache.get(cacheKey);
      if (hit !== undefined) {
        const response = JSON.parse(hit) as GenerateContentResponse;
        // One response id per request ([R-RES-3]), even for a cached answer.
        channel.sendUnary({ ...response, responseId: prepared.responseId });
        attempts.push('cache:hit');
        info.cached = true;
        return;
      }
    }
    targets: for (const [index, route] of prepared.routes.entries()) {
      let request: TargetRequest;
      try {
        request = index === 0 ? prepared.first : await translateForTarget(context, info, prepared.request, route, prepared.stream, prepared.responseId);
      } catch (error) {
        // A fallback that cannot take this request (e.g. an unsupported feature there) is skipped.
        lastError = error instanceof ProxyError ? error : new ProxyError('INTERNAL', String(error));
        attempts.push(`${route.upstream}:untranslatable`);
        continue;
      }
      const tried = new Set<number>();
      let lastPolicy: RetryPolicy | undefined;
      for (let attempt = 1; attempt <= retries.attemptsPerTarget; attempt += 1) {
        const lastResort = index === prepared.routes.length - 1 && !attempts.some((entry) => !entry.endsWith(':circuit-open'));
        const target = context.pool.acquire(route.upstream, lastResort);
        if (target === undefined) {
          attempts.push(`${route.upstream}:circuit-open`);
          lastError ??= new ProxyError('UPSTREAM_UNAVAILABLE', `upstream ${route.upstream} is unavailable (circuit open after repeated failures)`);
          continue targets;
        }
        if (tried.has(target.keyIndex ?? 0) && tried.size > 0 && lastPolicy === 'other-key') continue targets;
        tried.add(target.keyIndex ?? 0);
        info.upstreamModel = route.model;
        // Recorded as a success up front: the response may end (and be logged) inside attemptOnce.
        attempts.push(`${route.upstream}#${target.keyIndex ?? 0}:ok`);
        const outcome = await attemptOnce(run, request, target);
        if (outcome.kind === 'failed') attempts.pop();
        if (clientGone) {
          context.pool.report(target, 'neutral');
          return;
        }
        if (outcome.kind === 'done') {
          context.pool.report(target, 'success');
          if (cache !== undefined && cacheKey !== undefined && outcome.unary !== undefined && index === 0) {
            await cache.set(cacheKey, JSON.stringify(outcome.unary), context.config.responseCache.ttlSeconds);
          }
          return;
        }
        const { error } = outcome;
        lastError = error;
        failure = error.message;
        const policy: RetryPolicy = timedOut ? 'never' : (RETRY_POLICY[error.code] ?? 'never');
        lastPolicy = policy;
        context.pool.report(target, policy === 'never' || policy === 'next-target' ? 'neutral' : 'failure');
        attempts.push(`${route.upstream}#${target.keyIndex ?? 0}:${error.httpStatus}`);
        if (policy === 'never') break targets;
        if (policy === 'next-target') continue targets;
        if (policy === 'other-key') {
          // Balance and credential failures belong to one key: try the upstream's other keys at once, then move on.
          if (tried.size >= (context.pool.get(route.upstream)?.apiKeys.length ?? 0)) continue targets;
          continue;
        }
        if (attempt === retries.attemptsPerTarget) continue targets;
        const backoff = (retries.baseDelayMs / 1000) * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
        const delay = Math.max(backoff, outcome.retryAfterSeconds ?? 0);
        if (delay > retries.maxDelaySeconds) continue targets;
        try {
          await sleep(delay * 1000, undefined, { signal: upstreamAbort.signal });
        } catch {
          if (clientGone) return;
          break targets;
        }
      }
    }
    const error = timedOut
      ? new ProxyError('UPSTREAM_TIMEOUT', `the request took longer than server.request_timeout_seconds (${context.config.requestTimeoutSeconds} s)`)
      : (lastError ?? new ProxyError('UPSTREAM_UNAVAILABLE', 'no upstream could take the request'));
    failure = error.message;
    channel.fail(error);
  } finally {
    clearTimeout(commitTimer);
    clearTimeout(requestTimer);
    channel.stopHeartbeat();
    res.off('close', onClose);
    finalizeInfo();
    if (!clientGone) recordUpstreamOutcome(context, failure);
  }
}
