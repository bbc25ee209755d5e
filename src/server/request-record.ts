/**
 * The `request` event (metrics, usage store, dashboard, shared usage counters): built once per finished request from
 * the per-request facts, and handed to every listener, none of which may break the others.
 */
import type { Logger } from 'pino';
import type { RequestInfo, RequestListener, RequestRecord } from './context.js';
import { redactUrl, type RequestTrace } from './detailed-log.js';
import type { ResponseOutcome } from './access-line.js';

/**
 * `keepTrace` turns the detailed-log trace into the redacted, shortened plain data the dashboard keeps, with its size
 * (present when detailed logs are on); `redact` takes configured secrets out of the recorded path.
 */
export function requestRecord(
  info: RequestInfo,
  outcome: ResponseOutcome,
  provider: string,
  model: string,
  keepTrace: ((trace: RequestTrace) => { trace: unknown; bytes: number }) | undefined,
  redact: (text: string) => string = (text) => text,
): RequestRecord {
  const record: RequestRecord = {
    requestId: info.requestId,
    time: new Date().toISOString(),
    method: outcome.method,
    path: redactUrl(outcome.url.split('?')[0] ?? '', redact).slice(0, 512),
    status: outcome.status,
    model,
    provider,
    stream: info.stream === true,
    durationMs: outcome.seconds * 1000,
    promptTokens: info.usage?.promptTokens ?? 0,
    outputTokens: info.usage?.outputTokens ?? 0,
    thoughtsTokens: info.usage?.thoughtsTokens ?? 0,
    clientClosed: !outcome.finished,
  };
  if (info.attempts !== undefined) record.attempts = info.attempts;
  if (info.client !== undefined) record.client = info.client;
  if (info.upstreamModel !== undefined) record.upstreamModel = info.upstreamModel.slice(0, 256);
  if (info.firstChunkMs !== undefined) record.firstChunkMs = info.firstChunkMs;
  if (info.errorStatus !== undefined) record.errorStatus = info.errorStatus;
  if (info.upstreamError !== undefined) record.upstreamError = info.upstreamError;
  const errorMessage =
    info.streamFailure === undefined ? info.upstreamMessage : `stream failed after output: ${info.streamFailure}`;
  if (errorMessage !== undefined) record.errorMessage = errorMessage;
  if (info.webSearch !== undefined) record.webSearch = info.webSearch;
  if (info.trace !== undefined && keepTrace !== undefined) {
    const kept = keepTrace(info.trace);
    record.trace = kept.trace;
    record.traceBytes = kept.bytes;
  }
  return record;
}

export function emitRequestRecord(listeners: readonly RequestListener[], record: RequestRecord, log: Logger): void {
  for (const listener of listeners) {
    try {
      listener(record);
    } catch (error) {
      log.error({ err: error }, 'request listener failed');
    }
  }
}
