/**
 * One call to an upstream: POST, classify a non-2xx answer, and either parse a unary body or pump the stream into the
 * client's response. Returns `failed` while nothing reached the client (so the caller may retry or fall back), and
 * `done` once the client's answer is complete.
 */
import { ProxyError } from '../errors.js';
import type { GenerateContentResponse } from '../translate/gemini-types.js';
import {
  openAICompletionToGemini,
  type StreamTranslationOptions,
  type UpstreamCall,
} from '../translate/openai-stream-to-gemini.js';
import type { OpenAIChunk } from '../translate/openai-types.js';
import {
  bodyStream,
  networkError,
  readBody,
  type UpstreamClient,
  type UpstreamPost,
  type UpstreamReply,
} from '../upstream/client.js';
import type { CancelSignal } from '../upstream/cancel.js';
import { upstreamLabel, type UpstreamTarget } from '../upstream/endpoints.js';
import { classifyUpstreamError, upstreamProtocolError } from '../upstream/upstream-errors.js';
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
  signal: CancelSignal;
  redact: (text: string) => string;
  /** Raw upstream bodies and events, for the detailed log. */
  rawChunks: string[] | undefined;
  /** Each attempt's URL and HTTP status (or network error), for the detailed log. */
  attemptLog: Array<{ url: string; status: number | string }> | undefined;
}

export type AttemptOutcome =
  | {
      kind: 'done';
      unary?: GenerateContentResponse;
      calls: UpstreamCall[];
      reasoning: string;
    }
  /** Nothing reached the client: may be retried. */
  | { kind: 'failed'; error: ProxyError }
  /** The upstream failed after output reached the client: the caller ends the response with `error`. */
  | { kind: 'broken'; error: ProxyError };

/** How long a finished stream's remaining bytes are drained so that the pooled connection stays reusable. */
const DRAIN_MS = 5000;

async function errorAnswer(
  setup: AttemptSetup,
  target: UpstreamTarget,
  response: UpstreamReply,
): Promise<AttemptOutcome> {
  const text = await readBody(response.body).catch(() => '');
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

async function unaryAnswer(
  setup: AttemptSetup,
  request: UpstreamCallRequest,
  target: UpstreamTarget,
  response: UpstreamReply,
): Promise<AttemptOutcome> {
  const label = upstreamLabel(target);
  let text: string;
  try {
    text = await readBody(response.body);
  } catch (error) {
    return { kind: 'failed', error: networkError(error, target, false) };
  }
  setup.rawChunks?.push(text);
  let completion: OpenAIChunk;
  try {
    // DeepSeek may prefix a unary body with blank lines while queued (docs/providers.md §2.1).
    completion = JSON.parse(text.trim()) as OpenAIChunk;
  } catch {
    return {
      kind: 'failed',
      error: upstreamProtocolError(
        label,
        'UPSTREAM_PROTOCOL',
        `Upstream ${label} answered with a body that is not JSON: check that the base URL points at an OpenAI-compatible API.`,
        setup.redact(text),
      ),
    };
  }
  if (typeof completion !== 'object' || completion === null) {
    return {
      kind: 'failed',
      error: upstreamProtocolError(
        label,
        'UPSTREAM_PROTOCOL',
        `Upstream ${label} answered with JSON that is not a chat completion: check that the base URL points at an OpenAI-compatible API.`,
        setup.redact(text),
      ),
    };
  }
  if (
    'error' in completion &&
    (completion as Record<string, unknown>)['error'] !== null &&
    (completion as Record<string, unknown>)['error'] !== undefined
  ) {
    return {
      kind: 'failed',
      error: upstreamEventError(label, JSON.parse(setup.redact(JSON.stringify(completion))) as Record<string, unknown>),
    };
  }
  const finish = openAICompletionToGemini(completion, request.streamOptions);
  if (finish.response === undefined) {
    const reason = String(completion.choices?.[0]?.finish_reason);
    return {
      kind: 'failed',
      error: upstreamProtocolError(
        label,
        'UPSTREAM_UNAVAILABLE',
        `Upstream ${label} ended the generation without any output (finish reason ${reason}).`,
        setup.redact(text),
      ),
    };
  }
  setup.sink.sendUnary(finish.response);
  return { kind: 'done', unary: finish.response, calls: finish.calls, reasoning: finish.reasoning };
}

/** Pumps the upstream stream into `sink` until the answer is complete or the upstream fails. */
async function pumpStream(
  setup: AttemptSetup,
  sink: ResponseSink,
  request: UpstreamCallRequest,
  target: UpstreamTarget,
  response: UpstreamReply,
): Promise<AttemptOutcome> {
  const { heartbeatSeconds, signal } = setup;
  const body = bodyStream(response.body);
  // When the first upstream bytes came with the headers, they leave together with ours (see ResponseChannel.commit).
  sink.commit(heartbeatSeconds, body.readableLength > 0);
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
    for await (const chunk of body) {
      if (outcome !== undefined) continue; // draining after the end, so the pooled connection stays reusable
      await sink.send(pump.push(chunk), heartbeatSeconds);
      if (!pump.over) continue;
      outcome = await finishStream(setup, sink, pump, undefined);
      if (outcome.kind !== 'done') break;
      drainTimer = setTimeout(() => body.destroy(), DRAIN_MS);
      drainTimer.unref();
    }
    if (outcome === undefined) await sink.send(pump.endOfInput(), heartbeatSeconds);
  } catch (error) {
    if (outcome === undefined) {
      transportFailure = signal.aborted
        ? new ProxyError('UPSTREAM_TIMEOUT', 'The request took longer than server.request_timeout_seconds allows.')
        : networkError(error, target, true);
    }
  } finally {
    if (drainTimer !== undefined) clearTimeout(drainTimer);
  }
  return outcome ?? finishStream(setup, sink, pump, transportFailure);
}

async function finishStream(
  setup: AttemptSetup,
  sink: ResponseSink,
  pump: UpstreamStreamPump,
  transportFailure: ProxyError | undefined,
): Promise<AttemptOutcome> {
  const result = pump.finish(transportFailure);
  if (result.kind === 'failed') return result;
  await sink.send(result.responses, setup.heartbeatSeconds);
  if (result.kind === 'broken') return { kind: 'broken', error: result.error };
  sink.end();
  return { kind: 'done', calls: result.calls, reasoning: result.reasoning };
}

/** One upstream call, streamed when the client streams. */
export async function attemptUpstream(
  setup: AttemptSetup,
  request: UpstreamCallRequest,
  target: UpstreamTarget,
): Promise<AttemptOutcome> {
  let response: UpstreamReply;
  try {
    response = await (request.post ?? setup.client.post.bind(setup.client))(
      target,
      request.url,
      request.body,
      setup.signal,
      setup.stream,
    );
  } catch (error) {
    const failure = networkError(error, target, setup.stream);
    const network = failure.details.flatMap((detail) =>
      detail['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo' ? [detail.metadata?.['network_error']] : [],
    );
    setup.attemptLog?.push({ url: request.url, status: network[0] ?? failure.code });
    return { kind: 'failed', error: failure };
  }
  setup.attemptLog?.push({ url: request.url, status: response.statusCode });
  if (response.statusCode < 200 || response.statusCode >= 300) return errorAnswer(setup, target, response);
  return setup.stream
    ? pumpStream(setup, setup.sink, request, target, response)
    : unaryAnswer(setup, request, target, response);
}
