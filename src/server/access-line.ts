/**
 * The one-line access log written when a response closes: method, redacted URL, status, model, id, duration and the
 * upstream attempts. Its shape is what operators grep for, so it lives in one place.
 */
import type { RequestInfo } from './context.js';
import { redactUrl } from './detailed-log.js';
import { describeWebSearch } from '../search/web-search.js';

/** What the response looked like when its socket closed. */
export interface ResponseOutcome {
  method: string;
  url: string;
  /** The status sent, or 499 when the client left before headers. */
  status: number;
  /** False when the client closed before the last byte was written. */
  finished: boolean;
  seconds: number;
}

export function accessLine(
  info: RequestInfo,
  outcome: ResponseOutcome,
  redact: (text: string) => string = (text) => text,
): string {
  const model =
    info.model === undefined
      ? '-'
      : `${info.model}${info.upstreamModel ? ` → ${info.upstreamModel}` : ''}${info.stream ? ' (stream)' : ''}`;
  const aborted = outcome.finished ? '' : ' [client closed]';
  const attempts = info.attempts === undefined ? '' : ` - Upstream: ${info.attempts.join(' → ')}`;
  const search = info.webSearch === undefined ? '' : ` - Search: ${describeWebSearch(info.webSearch)}`;
  const url = redactUrl(outcome.url, redact).slice(0, 2048);
  // A failure after output started leaves a 200 on the wire; the line must still say the answer broke.
  const status =
    info.streamFailure === undefined
      ? String(outcome.status)
      : `${outcome.status} (stream failed: upstream ${info.streamFailure})`;
  return `${outcome.method} ${url} - ${status} - Model: ${model.slice(0, 600)} - ID: ${info.requestId} - ${outcome.seconds.toFixed(3)}s${attempts}${search}${aborted}`;
}
