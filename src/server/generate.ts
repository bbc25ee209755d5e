/**
 * generateContent and streamGenerateContent: translate, call the upstream, translate back, with the timing rules of
 * gemini-contract.md §7 (commit early, heartbeats, idle timeout) and the error rules of §6.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { ProxyError } from '../errors.js';
import { geminiRequestToOpenAI, type TranslatedRequest } from '../translate/gemini-request-to-openai.js';
import { normalizeGenerateContentRequest } from '../translate/normalize-request.js';
import type { OpenAIChunk } from '../translate/openai-types.js';
import { OpenAIStreamToGemini, openAICompletionToGemini, type StreamEnd, type StreamTranslationOptions } from '../translate/openai-stream-to-gemini.js';
import { classifyUpstreamError } from '../upstream/upstream-errors.js';
import { networkError } from '../upstream/client.js';
import { SseDecoder } from '../upstream/sse-decoder.js';
import { streamUsageOverride, upstreamUrl } from '../upstream/endpoints.js';
import { reasoningKeys } from './reasoning-cache.js';
import type { UpstreamCall } from '../translate/openai-stream-to-gemini.js';
import { recordUpstreamOutcome, type ProxyContext, type RequestInfo } from './context.js';
import { ResponseChannel, type ChannelKind } from './response-channel.js';
import { resolveModelOrThrow } from './models.js';

export interface PreparedGenerate {
  geminiModel: string;
  upstreamModel: string;
  translated: TranslatedRequest;
  upstreamBody: string;
  upstreamUrl: string;
  streamOptions: StreamTranslationOptions;
}

export function newResponseId(): string {
  return randomBytes(12).toString('base64url');
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

export async function prepareGenerate(context: ProxyContext, info: RequestInfo, body: unknown, geminiModel: string, stream: boolean): Promise<PreparedGenerate> {
  const request = normalizeGenerateContentRequest(body);
  const upstreamModel = resolveModelOrThrow(context, geminiModel, stream ? 'streamGenerateContent' : 'generateContent');
  info.upstreamModel = upstreamModel;
  const usage = streamUsageOverride(context.target);
  const translated = geminiRequestToOpenAI(request, {
    model: upstreamModel,
    stream,
    profile: context.config.upstream.profile,
    ...(usage === undefined ? {} : { streamUsage: usage }),
  });
  for (const warning of translated.warnings) context.log.warn({ requestId: info.requestId }, warning);
  if (translated.reasoningRequired.length > 0) await restoreReasoning(context, info, translated);
  const upstreamBody = JSON.stringify(translated.body);
  info.trace?.set('2_OPENAI_REQUEST', translated.body);
  return {
    geminiModel,
    upstreamModel,
    translated,
    upstreamBody,
    upstreamUrl: upstreamUrl(context.target, 'chat', upstreamModel),
    streamOptions: {
      modelVersion: upstreamModel,
      responseId: newResponseId(),
      includeThoughts: translated.includeThoughts,
      textMode: translated.textMode,
      toolNames: translated.toolNames,
      promptCharacters: upstreamBody.length,
      thinkTags: translated.thinkTags,
    },
  };
}

async function readText(body: AsyncIterable<Buffer | Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function upstreamErrorFromEvent(context: ProxyContext, payload: Record<string, unknown>): ProxyError {
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
  return classifyUpstreamError({ provider: context.target.provider, status, body: JSON.stringify(payload) });
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
  const { timeouts } = context.config;
  const channel = new ResponseChannel(res, kind, info.trace !== undefined);
  const abort = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClose);
  // [R-TO-1]/[R-TO-3]: a slow upstream must not run into the client's 60 s header timeout.
  const commitTimer = setTimeout(() => channel.commit(timeouts.heartbeatSeconds), timeouts.commitSeconds * 1000);
  const rawChunks: string[] | undefined = info.trace === undefined ? undefined : [];
  let failure: string | undefined;

  try {
    const stream = kind !== 'unary';
    const response = await context.upstream.post(context.target, prepared.upstreamUrl, prepared.upstreamBody, abort.signal, stream);
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const text = await readText(response.body);
      rawChunks?.push(text);
      const retryAfter = response.headers['retry-after'];
      const error = classifyUpstreamError({
        provider: context.target.provider,
        status: response.statusCode,
        body: text,
        retryAfterHeader: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      });
      failure = error.message;
      channel.fail(error);
      return;
    }

    if (!stream) {
      const text = await readText(response.body);
      rawChunks?.push(text);
      let completion: OpenAIChunk;
      try {
        // DeepSeek may prefix a unary body with blank lines while queued (providers.md §2.1).
        completion = JSON.parse(text.trim()) as OpenAIChunk;
      } catch {
        throw new ProxyError('UPSTREAM_PROTOCOL', `upstream ${context.target.provider} returned a body that is not JSON: ${text.slice(0, 200)}`);
      }
      if (typeof completion !== 'object' || completion === null) {
        throw new ProxyError('UPSTREAM_PROTOCOL', `upstream ${context.target.provider} returned an unexpected body`);
      }
      if ('error' in completion && (completion as Record<string, unknown>)['error'] != null) {
        throw upstreamErrorFromEvent(context, completion as Record<string, unknown>);
      }
      const finish = openAICompletionToGemini(completion, prepared.streamOptions);
      if (finish.response === undefined) {
        throw new ProxyError('UPSTREAM_UNAVAILABLE', `upstream ${context.target.provider} ended the generation without output (finish ${String(completion.choices?.[0]?.finish_reason)})`);
      }
      clearTimeout(commitTimer);
      await rememberReasoning(context, finish.calls, finish.reasoning);
      channel.sendUnary(finish.response);
      return;
    }

    channel.commit(timeouts.heartbeatSeconds);
    clearTimeout(commitTimer);
    const machine = new OpenAIStreamToGemini(prepared.streamOptions);
    const decoder = new SseDecoder();
    let lateError: ProxyError | undefined;
    let finished = false;

    const finishStream = async (ended: StreamEnd): Promise<void> => {
      finished = true;
      if (lateError !== undefined) {
        failure = lateError.message;
        if (!machine.hasEmitted) {
          channel.fail(lateError);
          return;
        }
      }
      const finish = machine.end(lateError === undefined ? ended : 'interrupted');
      await channel.send(finish.before, timeouts.heartbeatSeconds);
      if (finish.response === undefined) {
        const error = lateError ?? new ProxyError('UPSTREAM_UNAVAILABLE', `upstream ${context.target.provider} ended the stream without any output`);
        failure = error.message;
        channel.fail(error);
        return;
      }
      await channel.send([finish.response], timeouts.heartbeatSeconds);
      channel.end();
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
        lateError = new ProxyError('UPSTREAM_PROTOCOL', `upstream ${context.target.provider} sent an event that is not JSON: ${data.slice(0, 200)}`);
        return true;
      }
      if (typeof parsed !== 'object' || parsed === null) return false;
      const record = parsed as Record<string, unknown>;
      if (event === 'error' || (record['error'] !== undefined && record['error'] !== null)) {
        lateError = upstreamErrorFromEvent(context, record);
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
        if (over && !finished) break;
        if (over && drainTimer === undefined) {
          drainTimer = setTimeout(() => response.body.destroy(), 5000);
          drainTimer.unref();
        }
      }
      if (!over) for (const event of decoder.end()) if (await handle(event.data, event.event)) break;
    } catch (error) {
      if (!finished && !abort.signal.aborted) lateError = networkError(error, context.target);
    } finally {
      if (drainTimer !== undefined) clearTimeout(drainTimer);
    }
    if (abort.signal.aborted && !finished) return;
    if (!finished) await finishStream('eof');
  } catch (error) {
    if (abort.signal.aborted) return;
    const proxyError = error instanceof ProxyError ? error : networkError(error, context.target);
    failure = proxyError.message;
    channel.fail(proxyError);
  } finally {
    clearTimeout(commitTimer);
    channel.stopHeartbeat();
    res.off('close', onClose);
    if (channel.firstContentAt !== undefined) info.firstChunkMs = Number(channel.firstContentAt - info.startedAt) / 1e6;
    const usage = channel.lastUsage;
    if (usage !== undefined) {
      info.usage = { promptTokens: usage.promptTokenCount, outputTokens: usage.candidatesTokenCount, thoughtsTokens: usage.thoughtsTokenCount ?? 0 };
    }
    if (channel.errorStatus !== undefined) info.errorStatus = channel.errorStatus;
    if (channel.errorCode !== undefined) info.upstreamError = channel.errorCode;
    else if (failure !== undefined) info.upstreamError = 'UPSTREAM_INTERRUPTED';
    if (!abort.signal.aborted) recordUpstreamOutcome(context, failure);
    if (info.trace !== undefined) {
      info.trace.set('3_OPENAI_RESPONSE', rawChunks);
      info.trace.set('4_GEMINI_RESPONSE', kind === 'unary' && channel.sent?.length === 1 ? channel.sent[0] : channel.sent);
    }
  }
}
