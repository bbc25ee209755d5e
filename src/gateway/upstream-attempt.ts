/**
 * One call to an upstream: POST, classify a non-2xx answer, and either parse a unary body or pump the stream into the
 * client's response. Returns `failed` while nothing reached the client (so the caller may retry or fall back), and
 * `done` once the client's answer is complete.
 */
import { ProxyError } from '../errors.js';
import type { GenerateContentResponse } from '../translate/gemini-types.js';
import { openAICompletionToGemini, type StreamTranslationOptions, type UpstreamCall } from '../translate/openai-stream-to-gemini.js';
import type { OpenAIChunk } from '../translate/openai-types.js';
import { networkError, type UpstreamClient, type UpstreamPost, type UpstreamReply } from '../upstream/client.js';
import { upstreamLabel, type UpstreamTarget } from '../upstream/endpoints.js';
import { classifyUpstreamError } from '../upstream/upstream-errors.js';
import { UpstreamStreamPump, upstreamEventError } from './stream-pump.js';

/** Where the translated answer goes (the server's ResponseChannel). */
export interface ResponseSink {
  commit(heartbeatSeconds: number, firstEventBuffered?: boolean): void;
  send(responses: GenerateContentResponse[], heartbeatSeconds: number): Promise<void>;
  sendUnary(response: GenerateContentResponse): void;
  end(): void;
}

/** A request translated for one route target. */
export interface UpstreamCallRequest {
  url: string;
  body: string;
  streamOptions: StreamTranslationOptions;
  /** Replaces the plain POST (Kimi's builtin web search loop, src/search/kimi-builtin.ts). */
  post?: UpstreamPost;
}

export interface AttemptSetup {
  client: UpstreamClient;
  sink: ResponseSink;
  stream: boolean;
  heartbeatSeconds: number;
  signal: AbortSignal;
  redact: (text: string) => string;
  /** Raw upstream bodies and events, for the detailed log. */
  rawChunks: string[] | undefined;
}

export type AttemptOutcome =
  | {
      kind: 'done';
      unary?: GenerateContentResponse;
      calls: UpstreamCall[];
      reasoning: string;
      /** The upstream failed after output reached the client. */
      interrupted?: ProxyError;
    }
  | { kind: 'failed'; error: ProxyError };

/** How long a finished stream's remaining bytes are drained so that the pooled connection stays reusable. */
const DRAIN_MS = 5000;

async function readText(body: AsyncIterable<Buffer | Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

async function errorAnswer(setup: AttemptSetup, target: UpstreamTarget, response: UpstreamReply): Promise<AttemptOutcome> {
  const text = await readText(response.body).catch(() => '');
  setup.rawChunks?.push(text);
  const retryAfter = response.headers['retry-after'];
  return {
    kind: 'failed',
    error: classifyUpstreamError({
      provider: upstreamLabel(target),
      status: response.statusCode,
      body: setup.redact(text),
      retryAfterHeader: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
    }),
  };
}

async function unaryAnswer(setup: AttemptSetup, request: UpstreamCallRequest, target: UpstreamTarget, response: UpstreamReply): Promise<AttemptOutcome> {
  const label = upstreamLabel(target);
  let text: string;
  try {
    text = await readText(response.body);
  } catch (error) {
    return { kind: 'failed', error: networkError(error, target) };
  }
  setup.rawChunks?.push(text);
  let completion: OpenAIChunk;
  try {
    // DeepSeek may prefix a unary body with blank lines while queued (docs/providers.md §2.1).
    completion = JSON.parse(text.trim()) as OpenAIChunk;
  } catch {
    return { kind: 'failed', error: new ProxyError('UPSTREAM_PROTOCOL', `upstream ${label} returned a body that is not JSON: ${setup.redact(text).slice(0, 200)}`) };
  }
  if (typeof completion !== 'object' || completion === null) {
    return { kind: 'failed', error: new ProxyError('UPSTREAM_PROTOCOL', `upstream ${label} returned an unexpected body`) };
  }
  if ('error' in completion && (completion as Record<string, unknown>)['error'] !== null && (completion as Record<string, unknown>)['error'] !== undefined) {
    return { kind: 'failed', error: upstreamEventError(label, JSON.parse(setup.redact(JSON.stringify(completion))) as Record<string, unknown>) };
  }
  const finish = openAICompletionToGemini(completion, request.streamOptions);
  if (finish.response === undefined) {
    const reason = String(completion.choices?.[0]?.finish_reason);
    return { kind: 'failed', error: new ProxyError('UPSTREAM_UNAVAILABLE', `upstream ${label} ended the generation without output (finish ${reason})`) };
  }
  setup.sink.sendUnary(finish.response);
  return { kind: 'done', unary: finish.response, calls: finish.calls, reasoning: finish.reasoning };
}

async function streamAnswer(setup: AttemptSetup, request: UpstreamCallRequest, target: UpstreamTarget, response: UpstreamReply): Promise<AttemptOutcome> {
  const { sink, heartbeatSeconds, signal } = setup;
  // When the first upstream bytes came with the headers, they leave together with ours (see ResponseChannel.commit).
  sink.commit(heartbeatSeconds, response.body.readableLength > 0);
  const rawChunks = setup.rawChunks;
  const pump = new UpstreamStreamPump(request.streamOptions, {
    upstreamLabel: upstreamLabel(target),
    redact: setup.redact,
    ...(rawChunks === undefined ? {} : { record: (event: string) => rawChunks.push(event) }),
  });
  let transportFailure: ProxyError | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  let outcome: AttemptOutcome | undefined;
  try {
    for await (const chunk of response.body) {
      if (outcome !== undefined) continue; // draining after the end, so the pooled connection stays reusable
      await sink.send(pump.push(chunk as Buffer), heartbeatSeconds);
      if (!pump.over) continue;
      outcome = await finishStream(setup, pump, undefined);
      if (outcome.kind === 'failed') break;
      drainTimer = setTimeout(() => response.body.destroy(), DRAIN_MS);
      drainTimer.unref();
    }
    if (outcome === undefined) await sink.send(pump.endOfInput(), heartbeatSeconds);
  } catch (error) {
    if (outcome === undefined) {
      transportFailure = signal.aborted ? new ProxyError('UPSTREAM_TIMEOUT', 'the request took longer than server.request_timeout_seconds') : networkError(error, target);
    }
  } finally {
    if (drainTimer !== undefined) clearTimeout(drainTimer);
  }
  return outcome ?? finishStream(setup, pump, transportFailure);
}

async function finishStream(setup: AttemptSetup, pump: UpstreamStreamPump, transportFailure: ProxyError | undefined): Promise<AttemptOutcome> {
  const result = pump.finish(transportFailure);
  if (result.kind === 'failed') return result;
  await setup.sink.send(result.responses, setup.heartbeatSeconds);
  setup.sink.end();
  const outcome: AttemptOutcome = { kind: 'done', calls: result.calls, reasoning: result.reasoning };
  if (result.interrupted !== undefined) outcome.interrupted = result.interrupted;
  return outcome;
}

export async function attemptUpstream(setup: AttemptSetup, request: UpstreamCallRequest, target: UpstreamTarget): Promise<AttemptOutcome> {
  let response: UpstreamReply;
  try {
    response = await (request.post ?? setup.client.post.bind(setup.client))(target, request.url, request.body, setup.signal, setup.stream);
  } catch (error) {
    return { kind: 'failed', error: networkError(error, target) };
  }
  if (response.statusCode < 200 || response.statusCode >= 300) return errorAnswer(setup, target, response);
  return setup.stream ? streamAnswer(setup, request, target, response) : unaryAnswer(setup, request, target, response);
}
