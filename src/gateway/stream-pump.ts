/**
 * Upstream stream bytes → Gemini responses: the SSE decoder, the upstream's error events and terminator, and the
 * translation state machine, in one pure unit that the server and the fixture tests share. No I/O and no clock: the
 * caller feeds bytes as they arrive, sends what `push` returns, and calls `finish` when the upstream is over (cleanly,
 * or with the transport failure that ended it).
 */
import type { ProxyError } from '../errors.js';
import type { GenerateContentResponse } from '../translate/gemini-types.js';
import { createStreamTranslator, type StreamTranslator } from '../translate/multi-candidate-stream.js';
import type { StreamTranslationOptions, UpstreamCall } from '../translate/openai-stream-to-gemini.js';
import { SseDecoder } from '../upstream/sse-decoder.js';
import { classifyUpstreamError, upstreamProtocolError } from '../upstream/upstream-errors.js';

export interface PumpOptions {
  /** Names the upstream in error messages. */
  upstreamLabel: string;
  /** Removes secrets from upstream text before it becomes part of an error. */
  redact: (text: string) => string;
  /** Receives every upstream event as it arrived (detailed logs). */
  record?: (event: string) => void;
}

export type PumpResult =
  /** The answer is complete: send `responses` (the last carries the finish) and end. */
  | { kind: 'complete'; responses: GenerateContentResponse[]; calls: UpstreamCall[]; reasoning: string }
  /** Nothing reached the client: the attempt may be retried or fall back. */
  | { kind: 'failed'; error: ProxyError }
  /**
   * Output had started: send `responses` (what was already said and still held back), then end with `error` as the
   * raw error object ([R-FIN-5], [R-ERR-5]); partial tool calls are dropped.
   */
  | { kind: 'broken'; responses: GenerateContentResponse[]; error: ProxyError };

/** An upstream `error` event (or an object with an `error` member) → the ProxyError its status and body call for. */
export function upstreamEventError(label: string, payload: Record<string, unknown>): ProxyError {
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
  return classifyUpstreamError({ provider: label, status, body: JSON.stringify(payload) });
}

export class UpstreamStreamPump {
  private readonly machine: StreamTranslator;
  private readonly decoder = new SseDecoder();
  private readonly options: PumpOptions;
  private doneSeen = false;
  private failure: ProxyError | undefined;

  constructor(translation: StreamTranslationOptions, options: PumpOptions) {
    this.machine = createStreamTranslator(translation);
    this.options = options;
  }

  /** The upstream said it is over ([DONE] or an error event); later bytes are only drained. */
  get over(): boolean {
    return this.doneSeen || this.failure !== undefined;
  }

  get hasEmitted(): boolean {
    return this.machine.hasEmitted;
  }

  /** Upstream bytes → the responses to send now. */
  push(bytes: Uint8Array): GenerateContentResponse[] {
    if (this.over) return [];
    const out: GenerateContentResponse[] = [];
    for (const event of this.decoder.push(bytes)) {
      this.handle(event.data, event.event, out);
      if (this.over) break;
    }
    return out;
  }

  /** The upstream body ended: a last event without its blank line still counts. */
  endOfInput(): GenerateContentResponse[] {
    if (this.over) return [];
    const out: GenerateContentResponse[] = [];
    for (const event of this.decoder.end()) {
      this.handle(event.data, event.event, out);
      if (this.over) break;
    }
    return out;
  }

  private handle(data: string, event: string | undefined, out: GenerateContentResponse[]): void {
    this.options.record?.(event === undefined ? data : `event: ${event}\n${data}`);
    if (data === '[DONE]') {
      this.doneSeen = true;
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      this.failure = upstreamProtocolError(
        this.options.upstreamLabel,
        'UPSTREAM_PROTOCOL',
        `Upstream ${this.options.upstreamLabel} sent a stream event that is not JSON.`,
        this.options.redact(data),
      );
      return;
    }
    if (typeof parsed !== 'object' || parsed === null) return;
    const record = parsed as Record<string, unknown>;
    if (event === 'error' || (record['error'] !== undefined && record['error'] !== null)) {
      this.failure = upstreamEventError(
        this.options.upstreamLabel,
        JSON.parse(this.options.redact(data)) as Record<string, unknown>,
      );
      return;
    }
    out.push(...this.machine.push(parsed));
  }

  /**
   * The end of the attempt. `transportFailure` is what ended the body when it did not end cleanly (a drop, an idle
   * timeout); an error event seen in the stream takes precedence.
   */
  finish(transportFailure?: ProxyError): PumpResult {
    const failure = this.failure ?? (this.doneSeen ? undefined : transportFailure);
    if (failure !== undefined) {
      if (!this.machine.hasEmitted) return { kind: 'failed', error: failure };
      return { kind: 'broken', responses: this.machine.abandon(), error: failure };
    }
    const finish = this.machine.end(this.doneSeen ? 'done' : 'eof');
    if (finish.response === undefined) {
      return {
        kind: 'failed',
        error: upstreamProtocolError(
          this.options.upstreamLabel,
          'UPSTREAM_UNAVAILABLE',
          `Upstream ${this.options.upstreamLabel} ended the stream without any output.`,
        ),
      };
    }
    return {
      kind: 'complete',
      responses: [...finish.before, finish.response],
      calls: finish.calls,
      reasoning: finish.reasoning,
    };
  }
}
