/**
 * Every error the proxy answers with is a ProxyError: a stable code (like undici's UND_ERR_* or fastify's FST_ERR_*),
 * one HTTP status and one google.rpc status. `toGoogleStatus` is the single place that turns it into the wire body
 * `{"error":{"code","message","status","details"}}` (docs/gemini-contract.md §6.1).
 *
 * The message is what Gemini CLI prints (`[API Error: <message> (Status: …)]`), so it is one readable sentence on one
 * line that says what happened and what to do; whatever else helps (the upstream's status, code and own words) goes
 * in `details` ([R-ERR-8]).
 */

export type RpcStatus =
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'RESOURCE_EXHAUSTED'
  | 'CANCELLED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'UNIMPLEMENTED';

interface ErrorKind {
  readonly httpStatus: number;
  readonly status: RpcStatus;
}

/** Stable error codes. Each maps to exactly one HTTP status and google.rpc status. */
export const ERROR_KINDS = {
  INVALID_REQUEST: { httpStatus: 400, status: 'INVALID_ARGUMENT' },
  UNSUPPORTED_FEATURE: { httpStatus: 400, status: 'INVALID_ARGUMENT' },
  PAYLOAD_TOO_LARGE: { httpStatus: 413, status: 'INVALID_ARGUMENT' },
  API_KEY_INVALID: { httpStatus: 400, status: 'INVALID_ARGUMENT' },
  FORBIDDEN: { httpStatus: 403, status: 'PERMISSION_DENIED' },
  NOT_FOUND: { httpStatus: 404, status: 'NOT_FOUND' },
  MODEL_NOT_FOUND: { httpStatus: 404, status: 'NOT_FOUND' },
  CLIENT_RATE_LIMITED: { httpStatus: 429, status: 'RESOURCE_EXHAUSTED' },
  UPSTREAM_REJECTED: { httpStatus: 400, status: 'INVALID_ARGUMENT' },
  UPSTREAM_AUTH: { httpStatus: 403, status: 'PERMISSION_DENIED' },
  UPSTREAM_INSUFFICIENT_BALANCE: { httpStatus: 400, status: 'FAILED_PRECONDITION' },
  UPSTREAM_NOT_FOUND: { httpStatus: 404, status: 'NOT_FOUND' },
  UPSTREAM_RATE_LIMITED: { httpStatus: 429, status: 'RESOURCE_EXHAUSTED' },
  UPSTREAM_UNAVAILABLE: { httpStatus: 503, status: 'UNAVAILABLE' },
  UPSTREAM_TIMEOUT: { httpStatus: 504, status: 'DEADLINE_EXCEEDED' },
  UPSTREAM_PROTOCOL: { httpStatus: 502, status: 'UNAVAILABLE' },
  /** Nothing listens, the name does not resolve, or TLS fails: retrying will not help, so not a status clients retry. */
  UPSTREAM_UNREACHABLE: { httpStatus: 400, status: 'FAILED_PRECONDITION' },
  /** The model failed repeatedly and its circuit is open: answered at once, in a form clients do not retry. */
  UPSTREAM_CIRCUIT_OPEN: { httpStatus: 400, status: 'FAILED_PRECONDITION' },
  INTERNAL: { httpStatus: 500, status: 'INTERNAL' },
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERROR_KINDS;

/** google.rpc detail messages the Gemini clients understand (docs/gemini-contract.md §6.1, [R-ERR-2]). */
export type RpcDetail =
  | { '@type': 'type.googleapis.com/google.rpc.RetryInfo'; retryDelay: string }
  | {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo';
      reason: string;
      domain: string;
      metadata?: Record<string, string>;
    };

export interface GoogleErrorBody {
  error: { code: number; message: string; status: RpcStatus; details?: RpcDetail[] };
}

export class ProxyError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly status: RpcStatus;
  readonly details: RpcDetail[];
  /**
   * A few words for the access line and the dashboard, never sent to the client: the upstream's own type, code and
   * message when it answered with an error body (`server_error: database on fire`).
   */
  readonly logReason: string | undefined;

  constructor(code: ErrorCode, message: string, details: RpcDetail[] = [], logReason?: string) {
    // One line whatever the parts it was built from: a line break would split the CLI's one-line error display.
    super(message.replace(/\s*[\r\n]+\s*/g, ' ').trim());
    this.name = 'ProxyError';
    this.code = code;
    this.httpStatus = ERROR_KINDS[code].httpStatus;
    this.status = ERROR_KINDS[code].status;
    this.details = details;
    this.logReason = logReason;
  }

  /** The same error with `transform` applied to its message and every detail string (redaction of echoed keys). */
  mapText(transform: (text: string) => string): ProxyError {
    const details = this.details.map((detail): RpcDetail => {
      if (detail['@type'] !== 'type.googleapis.com/google.rpc.ErrorInfo' || detail.metadata === undefined)
        return detail;
      const metadata = Object.fromEntries(
        Object.entries(detail.metadata).map(([key, value]) => [key, transform(value)]),
      );
      return { ...detail, metadata };
    });
    const logReason = this.logReason === undefined ? undefined : transform(this.logReason);
    return new ProxyError(this.code, transform(this.message), details, logReason);
  }

  toGoogleStatus(): GoogleErrorBody {
    const error: GoogleErrorBody['error'] = { code: this.httpStatus, message: this.message, status: this.status };
    if (this.details.length > 0) error.details = this.details;
    return { error };
  }
}

export function retryInfo(seconds: number): RpcDetail {
  const delay = seconds >= 1 ? `${Math.ceil(seconds)}s` : `${Math.max(1, Math.round(seconds * 1000))}ms`;
  return { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: delay };
}

export function errorInfo(reason: string, metadata?: Record<string, string>): RpcDetail {
  const detail: RpcDetail = { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'gemini-proxy' };
  if (metadata !== undefined) detail.metadata = metadata;
  return detail;
}

/** Google's own wording for a bad key, so clients that match on it behave as with Gemini ([R-AUTH-3]). */
export function apiKeyInvalid(): ProxyError {
  return new ProxyError('API_KEY_INVALID', 'API key not valid. Please pass a valid API key.', [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
  ]);
}

export function invalidRequest(message: string): ProxyError {
  return new ProxyError('INVALID_REQUEST', message);
}

/**
 * Phrases that make Gemini CLI classify an error as a terminal quota or capacity error ([R-ERR-3]). Upstream text is
 * copied into our messages, so it is screened first.
 */
const CLI_TRIGGER_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/limit:\s*0/gi, 'limit 0'],
  [/please retry in\s+/gi, 'retry after '],
  [/exhausted your capacity/gi, 'used up the capacity'],
  [/capacity exceeded/gi, 'capacity reached'],
  [
    /MODEL_CAPACITY_EXHAUSTED|MODEL_CAPACITY_EXCEEDED|INSUFFICIENT_G1_CREDITS_BALANCE|VALIDATION_REQUIRED/g,
    'UPSTREAM_LIMIT',
  ],
];

export function screenUpstreamMessage(message: string): string {
  let screened = message;
  for (const [pattern, replacement] of CLI_TRIGGER_PATTERNS) screened = screened.replace(pattern, replacement);
  return screened;
}

/**
 * Someone else's text (an upstream's error message, a body excerpt) made fit to quote inside one of our sentences:
 * tags of an HTML error page dropped, whitespace and line breaks folded to single spaces, cut before any embedded JSON
 * (Gemini CLI re-parses a message that looks like JSON) and after `max` characters, without a closing full stop (the
 * sentence around it has its own), screened for the CLI's trigger phrases. Empty when nothing readable is left.
 */
export function quoteForMessage(text: string, max = 200): string {
  let quoted = text;
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(quoted);
  if (title?.[1] !== undefined && title[1].trim() !== '') quoted = title[1];
  else if (/^\s*</.test(quoted)) quoted = quoted.replace(/<[^>]*>/g, ' ');
  quoted = quoted.replace(/\s+/g, ' ').trim();
  const json = quoted.search(/[{[]\s*["{[]/);
  if (json === 0) return '';
  let cut = json > 0;
  if (cut) quoted = quoted.slice(0, json).trim();
  // Double quotes become single ones: the sentence around puts the quote in double quotes.
  quoted = quoted.replace(/"/g, "'");
  if (quoted.length > max) {
    quoted = quoted.slice(0, max - 1).trim();
    cut = true;
  }
  quoted = quoted.replace(/[\s.:;,]+$/, '');
  return screenUpstreamMessage(cut && quoted !== '' ? `${quoted}…` : quoted);
}

/**
 * The same text as kept in `details` (ErrorInfo metadata): whole up to `max` characters, on one line. Not screened:
 * Gemini CLI reads only `reason` and `metadata.quota_limit` of an ErrorInfo ([R-ERR-3]).
 */
export function excerptForDetails(text: string, max = 1000): string {
  const excerpt = text.replace(/\s+/g, ' ').trim();
  return excerpt.length > max ? `${excerpt.slice(0, max - 1)}…` : excerpt;
}
