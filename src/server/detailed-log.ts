/**
 * The original tool's detailed log: per request, the four stages 1_GEMINI_REQUEST, 2_OPENAI_REQUEST,
 * 3_OPENAI_RESPONSE and 4_GEMINI_RESPONSE, written as one JSON file under `log_directory/detailed/`. Collected in
 * memory and written asynchronously when the request closes, off the hot path. Credentials are redacted twice: known
 * credential headers and query keys by name, then every configured secret by value, wherever it appears.
 */
import { rename } from 'node:fs/promises';
import { fileModes, writePrivateFile, type FileModes } from '../shared/private-files.js';
import { join } from 'node:path';

export type Stage =
  '1_GEMINI_REQUEST' | '2_OPENAI_REQUEST' | '3_OPENAI_RESPONSE' | '4_GEMINI_RESPONSE' | 'UPSTREAM_ATTEMPTS';

const SECRET_HEADERS = new Set([
  'authorization',
  'x-goog-api-key',
  'api-key',
  'x-api-key',
  'cookie',
  'proxy-authorization',
]);
export const REDACTED = '[REDACTED]';

export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? REDACTED : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Query parameters that carry a credential, compared after percent-decoding (`?%6Bey=` is `key=` to Fastify). */
const SECRET_PARAMS = new Set(['key', 'api_key', 'apikey', 'api-key', 'access_token', 'token']);

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * Redacts a request target for a log line: every credential parameter (by its decoded name), and every configured
 * secret by value (`redact`, which also knows the percent-encoded forms) in the path and the other parameters.
 */
export function redactUrl(url: string, redact: (text: string) => string = (text) => text): string {
  const mark = url.indexOf('?');
  if (mark === -1) return redact(url);
  const params = url
    .slice(mark + 1)
    .split('&')
    .map((param) => {
      const equals = param.indexOf('=');
      const name = equals === -1 ? param : param.slice(0, equals);
      if (SECRET_PARAMS.has(decodeComponent(name).trim().toLowerCase())) return `${name}=${REDACTED}`;
      return redact(param);
    });
  return `${redact(url.slice(0, mark))}?${params.join('&')}`;
}

export class RequestTrace {
  readonly requestId: string;
  readonly startedAt: Date;
  private readonly stages: Partial<Record<Stage, unknown>> = {};

  constructor(requestId: string, startedAt: Date) {
    this.requestId = requestId;
    this.startedAt = startedAt;
  }

  set(stage: Stage, value: unknown): void {
    this.stages[stage] = value;
  }

  get(stage: Stage): unknown {
    return this.stages[stage];
  }

  toJSON(): unknown {
    return { request_id: this.requestId, started_at: this.startedAt.toISOString(), ...this.stages };
  }
}

/** A character class matching one hex digit in either case. */
function hexDigit(digit: string): string {
  return /[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit;
}

/**
 * One character of a secret, in every spelling it may have in text we log or send: itself, a JSON `\uXXXX` escape,
 * a JSON backslash escape, or URL percent-encoding. An upstream that echoed the key as `\u0073k-…` got past a plain
 * substring search and reached the client in clear once the body was decoded.
 */
function characterPattern(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const literal = char.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  const alternatives = [literal];
  if (code <= 0xffff) {
    const unicode = `u${[...code.toString(16).padStart(4, '0')].map((digit) => hexDigit(digit)).join('')}`;
    // Escaped twice first (a raw upstream body inside a JSON trace), so the replacement never leaves a lone backslash.
    alternatives.push(`\\\\\\\\${unicode}`, `\\\\${unicode}`);
  }
  if (code < 0x80)
    alternatives.push(`%${[...code.toString(16).padStart(2, '0')].map((digit) => hexDigit(digit)).join('')}`);
  if (char === '"' || char === '\\' || char === '/') alternatives.push(`\\\\${literal}`);
  return alternatives.length === 1 ? literal : `(?:${alternatives.join('|')})`;
}

/**
 * Replaces every configured secret, wherever it appears and however it is escaped (upstream bodies may echo a key
 * back, JSON-escaped or not). Plain text without escapes takes a substring search only.
 */
export function createRedactor(secrets: Array<string | undefined>): (text: string) => string {
  // Longest first, so a secret containing another is replaced whole.
  const known = [
    ...new Set(secrets.filter((secret): secret is string => secret !== undefined && secret.length >= 4)),
  ].sort((a, b) => b.length - a.length);
  if (known.length === 0) return (text) => text;
  const escaped = new RegExp(known.map((secret) => Array.from(secret, characterPattern).join('')).join('|'), 'g');
  return (text) => {
    if (/[\\%]/.test(text)) return text.replace(escaped, REDACTED);
    let out = text;
    for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  };
}

/** Longest string kept whole in a dashboard trace; inline images and files are usually far longer. */
export const MAX_KEPT_STRING = 16_384;
/** Room past the cut that is redacted too, so a key straddling the cut cannot leave half of itself behind. */
const REDACT_MARGIN = 1024;

function shorten(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') {
    if (value.length <= MAX_KEPT_STRING) return value;
    const kept = redact(value.slice(0, MAX_KEPT_STRING + REDACT_MARGIN)).slice(0, MAX_KEPT_STRING);
    return `${kept}… [shortened by gemini-proxy for the dashboard: ${value.length.toLocaleString('en-US')} characters in all; the detailed log file has it whole]`;
  }
  if (Array.isArray(value)) return value.map((item) => shorten(item, redact));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = shorten(item, redact);
    return out;
  }
  return value;
}

/**
 * A request's detailed-log stages as the dashboard keeps them: large strings (inline data) shortened with a note,
 * then redacted; `bytes` is the JSON size, for the memory budget. 16 requests with a 20 MB image held 850 MB before.
 */
export function traceForDashboard(trace: unknown, redact: (text: string) => string): { trace: unknown; bytes: number } {
  const text = redact(JSON.stringify(shorten(trace, redact)));
  try {
    return { trace: JSON.parse(text) as unknown, bytes: text.length };
  } catch {
    // A replacement next to an odd run of backslashes can break the JSON: keep nothing rather than the secret.
    const note = { note: 'this trace could not be redacted safely and is not kept; see the detailed log file' };
    return { trace: note, bytes: JSON.stringify(note).length };
  }
}

export class DetailedLogWriter {
  private readonly directory: string;
  readonly redact: (text: string) => string;
  private readonly modes: FileModes;

  constructor(logDirectory: string, secrets: Array<string | undefined>, modes: FileModes = fileModes(false)) {
    this.directory = join(logDirectory, 'detailed');
    this.redact = createRedactor(secrets);
    this.modes = modes;
  }

  async write(trace: RequestTrace): Promise<void> {
    const day = trace.startedAt.toISOString().slice(0, 10);
    const stamp = trace.startedAt.toISOString().replace(/[:.]/g, '-');
    const path = join(this.directory, day, `${stamp}_${trace.requestId}.json`);
    // Written aside and renamed: whoever reads the directory (an operator's tail, the tests) never sees half a file.
    await writePrivateFile(`${path}.partial`, this.redact(JSON.stringify(trace, null, 2)), this.modes);
    await rename(`${path}.partial`, path);
  }
}
