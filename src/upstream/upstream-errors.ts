/**
 * Upstream error bodies, in every documented dialect, → one ProxyError whose status makes Gemini CLI do the right
 * thing: retry what is transient, stop at once on what is deterministic (docs/providers.md §8.3,
 * docs/gemini-contract.md §6.3). Pure: takes the status, the headers that matter and the body text.
 */
import {
  ProxyError,
  errorInfo,
  excerptForDetails,
  quoteForMessage,
  retryInfo,
  screenUpstreamMessage,
  type ErrorCode,
  type RpcDetail,
} from '../errors.js';
import { BALANCE_ERROR_SIGNATURES } from '../providers/index.js';

export interface UpstreamErrorInput {
  provider: string;
  status: number;
  body: string;
  retryAfterHeader?: string | undefined;
  /** Milliseconds since the epoch, for `Retry-After` given as an HTTP date. */
  now?: number;
}

interface Envelope {
  message: string;
  type: string;
  code: string;
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return '';
}

function readEnvelope(body: string): Envelope {
  const trimmed = body.trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return { message: trimmed.slice(0, 2048), type: '', code: '' };
  }
  if (typeof parsed !== 'object' || parsed === null) return { message: trimmed.slice(0, 2048), type: '', code: '' };
  const root = parsed as Record<string, unknown>;
  const error = root['error'];
  let envelope: Record<string, unknown> = root;
  if (typeof error === 'object' && error !== null) envelope = error as Record<string, unknown>;
  else if (typeof error === 'string') envelope = { message: error };
  let message =
    asText(envelope['message']) ||
    asText(envelope['msg']) ||
    asText(envelope['detail']) ||
    (typeof error === 'string' ? error : '');
  let type = asText(envelope['type']);
  let code = asText(envelope['code']);
  // OpenRouter wraps the routed provider's body as a string in metadata.raw: classify on the inner body.
  const metadata = envelope['metadata'];
  if (typeof metadata === 'object' && metadata !== null) {
    const raw = (metadata as Record<string, unknown>)['raw'];
    if (typeof raw === 'string' && raw.trim().startsWith('{')) {
      const inner = readEnvelope(raw);
      if (inner.message !== '') message = `${message ? `${message}: ` : ''}${inner.message}`;
      type = inner.type || type;
      code = inner.code || code;
    }
  }
  if (message === '') message = trimmed.slice(0, 2048);
  return { message, type, code };
}

/** `Retry-After` (seconds or HTTP date), else "retry after N seconds" / "try again in N s" in the text. */
export function retryDelaySeconds(header: string | undefined, message: string, now: number): number | undefined {
  if (header !== undefined && header.trim() !== '') {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds;
    const date = Date.parse(header);
    if (Number.isFinite(date)) return Math.max(0, (date - now) / 1000);
  }
  const match =
    /(?:retry after|try again in|try again after|retry in)\s+([0-9]+(?:\.[0-9]+)?)\s*(ms|milliseconds?|s|sec|secs|seconds?)?/i.exec(
      message,
    );
  if (match?.[1] !== undefined) {
    const value = Number(match[1]);
    return match[2] !== undefined && match[2].startsWith('m') ? value / 1000 : value;
  }
  return undefined;
}

const CONTENT_FILTER = /content_filter|data_inspection_failed|DataInspectionFailed|^1301$/;
const CONTEXT =
  /context_length_exceeded|exceed_context_size_error|exceeded model token limit|maximum context length|context size/i;
const UNSUPPORTED =
  /requires --jinja|image input is not supported|unknown_url|response_format type is unavailable|does not support tools|not supported by this server/i;
const NOT_FOUND = /resource_not_found_error|not found, try pulling it first|model_not_found|does not exist/i;
const OVERLOADED = /engine_overloaded_error|overloaded/i;

/** Longest upstream message kept in the ErrorInfo metadata: Gemini CLI prints the whole error body on screen. */
const MAX_UPSTREAM_MESSAGE_IN_DETAILS = 300;

/**
 * One sentence per class ([R-ERR-8]): who failed, how, and what to do when the user can do something. The upstream's
 * own words stay in the sentence, quoted, where they are the reason (a bad parameter, an unsupported feature, a
 * too-long prompt); its status, type and code go in the ErrorInfo metadata, and its message too (`upstream_message`)
 * when the quote had to shorten it (an HTML page, embedded JSON, a long text). Gemini CLI shows the whole error body,
 * details included, so nothing is said twice.
 */
export function classifyUpstreamError(input: UpstreamErrorInput): ProxyError {
  const { status, provider } = input;
  const envelope = readEnvelope(input.body);
  const metadata: Record<string, string> = { provider, upstream_status: String(status) };
  if (envelope.type !== '') metadata['upstream_type'] = envelope.type;
  if (envelope.code !== '') metadata['upstream_code'] = envelope.code;
  const quoted = quoteForMessage(envelope.message);
  const whole = envelope.message.replace(/\s+/g, ' ').trim();
  if (whole !== '' && (quoted.endsWith('…') || quoted.length + 2 < whole.length))
    metadata['upstream_message'] = excerptForDetails(whole, MAX_UPSTREAM_MESSAGE_IN_DETAILS);
  const label = [envelope.type, envelope.code].filter((part) => part !== '' && part !== String(status)).join(' ');
  const logReason = `${label === '' ? '' : `${label}: `}${whole === '' ? 'no message' : whole}`;
  const make: Make = (code, reason, text, extra = []) =>
    new ProxyError(code, screenUpstreamMessage(text), [...extra, errorInfo(reason, metadata)], logReason);
  const answer: UpstreamAnswer = {
    status,
    upstream: `Upstream ${provider}`,
    provider,
    envelope,
    signals: `${envelope.type} ${envelope.code} ${envelope.message}`,
    said: quoted === '' ? '' : `: "${quoted}"`,
  };
  return deterministicFailure(answer, make) ?? transientFailure(answer, input, make);
}

type Make = (code: ErrorCode, reason: string, text: string, extra?: RpcDetail[]) => ProxyError;

interface UpstreamAnswer {
  status: number;
  /** `Upstream NAME`, the subject of every sentence. */
  upstream: string;
  provider: string;
  envelope: Envelope;
  /** Type, code and message together, for the signature patterns. */
  signals: string;
  /** The upstream's own words as `: "…"`, or empty. */
  said: string;
}

/** Failures that a retry will not heal: the client gets a status it does not retry ([R-ERR-4]). */
function deterministicFailure(answer: UpstreamAnswer, make: Make): ProxyError | undefined {
  const { status, upstream, provider, envelope, signals, said } = answer;
  if (
    status === 402 ||
    BALANCE_ERROR_SIGNATURES.codes.includes(envelope.code) ||
    BALANCE_ERROR_SIGNATURES.patterns.some((pattern) => pattern.test(signals))
  ) {
    return make(
      'UPSTREAM_INSUFFICIENT_BALANCE',
      'UPSTREAM_INSUFFICIENT_BALANCE',
      `${upstream} says its account has no balance or quota left (${status}${said}), so retrying will not help: top up the account or configure another key.`,
    );
  }
  if (
    status === 401 ||
    /invalid_authentication_error|permission_denied_error|invalid_api_key/i.test(signals) ||
    status === 403
  ) {
    return make(
      'UPSTREAM_AUTH',
      'UPSTREAM_AUTH_REJECTED',
      `${upstream} rejected the proxy's credentials (${status}${said}): check the api_key configured for upstream ${provider}.`,
    );
  }
  if (CONTENT_FILTER.test(envelope.code) || CONTENT_FILTER.test(envelope.type)) {
    return make(
      'UPSTREAM_REJECTED',
      'UPSTREAM_CONTENT_FILTERED',
      `${upstream} refused the content (${status}${said}), and the flagged text stays in the conversation history, so later requests may fail too until you /clear it.`,
    );
  }
  if (CONTEXT.test(signals))
    return make(
      'UPSTREAM_REJECTED',
      'UPSTREAM_CONTEXT_LENGTH',
      `${upstream} says the conversation is longer than its model's context window (${status}${said}): run /compress or /clear.`,
    );
  if (UNSUPPORTED.test(signals))
    return make(
      'UPSTREAM_REJECTED',
      'UPSTREAM_UNSUPPORTED',
      `${upstream} cannot serve part of this request (${status}${said}).`,
    );
  if (status === 404 || NOT_FOUND.test(signals))
    return make(
      'UPSTREAM_NOT_FOUND',
      'UPSTREAM_NOT_FOUND',
      `${upstream} does not know the model or endpoint (${status}${said}): check the model mapping and the base URL.`,
    );
  return undefined;
}

/** Overload, rate limits, timeouts and server errors (retried, with the upstream's delay when it gave one), else 400. */
function transientFailure(answer: UpstreamAnswer, input: UpstreamErrorInput, make: Make): ProxyError {
  const { status, upstream, envelope, signals, said } = answer;
  const delay = retryDelaySeconds(input.retryAfterHeader, envelope.message, input.now ?? Date.now());
  const retry = delay === undefined ? [] : [retryInfo(delay)];
  if (OVERLOADED.test(signals) || status === 503)
    return make(
      'UPSTREAM_UNAVAILABLE',
      'UPSTREAM_OVERLOADED',
      `${upstream} is overloaded or unavailable (${status}${said}).`,
      retry,
    );
  if (status === 429 || /rate_limit/i.test(signals))
    return make(
      'UPSTREAM_RATE_LIMITED',
      'UPSTREAM_RATE_LIMITED',
      `${upstream} is rate-limiting the proxy (${status}${said})${delay === undefined ? '' : `; it asks to wait ${Math.ceil(delay)} s`}.`,
      retry,
    );
  if (status === 408)
    return make('UPSTREAM_TIMEOUT', 'UPSTREAM_TIMEOUT', `${upstream} timed out (${status}${said}).`, retry);
  if (status >= 500)
    return make(
      'UPSTREAM_UNAVAILABLE',
      'UPSTREAM_SERVER_ERROR',
      `${upstream} failed with a server error (${status}${said}).`,
      retry,
    );
  return make('UPSTREAM_REJECTED', 'UPSTREAM_BAD_REQUEST', `${upstream} rejected the request (${status}${said}).`);
}

/**
 * An upstream answer the proxy cannot use (a body or event that is not JSON, not a chat completion, or no output at
 * all): one sentence, with what the upstream sent, redacted by the caller, in the metadata as `upstream_body`.
 */
export function upstreamProtocolError(
  provider: string,
  code: 'UPSTREAM_PROTOCOL' | 'UPSTREAM_UNAVAILABLE',
  sentence: string,
  body?: string,
): ProxyError {
  const metadata: Record<string, string> = { provider };
  if (body !== undefined && body.trim() !== '')
    metadata['upstream_body'] = excerptForDetails(body, MAX_UPSTREAM_MESSAGE_IN_DETAILS);
  return new ProxyError(code, sentence, [
    errorInfo(code === 'UPSTREAM_PROTOCOL' ? code : 'UPSTREAM_NO_OUTPUT', metadata),
  ]);
}
