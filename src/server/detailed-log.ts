/**
 * The original tool's detailed log: per request, the four stages 1_GEMINI_REQUEST, 2_OPENAI_REQUEST,
 * 3_OPENAI_RESPONSE and 4_GEMINI_RESPONSE, written as one JSON file under `log_directory/detailed/`. Collected in
 * memory and written asynchronously when the request closes, off the hot path. Credentials are redacted twice: known
 * credential headers and query keys by name, then every configured secret by value, wherever it appears.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type Stage = '1_GEMINI_REQUEST' | '2_OPENAI_REQUEST' | '3_OPENAI_RESPONSE' | '4_GEMINI_RESPONSE' | 'UPSTREAM_ATTEMPTS';

const SECRET_HEADERS = new Set(['authorization', 'x-goog-api-key', 'api-key', 'x-api-key', 'cookie', 'proxy-authorization']);
export const REDACTED = '[REDACTED]';

export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? REDACTED : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Replaces the value of `key=` query parameters. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:key|api_key|apikey)=)[^&#]*/gi, `$1${REDACTED}`);
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

/** Replaces every configured secret, wherever it appears (upstream bodies may echo a key back). */
export function createRedactor(secrets: Array<string | undefined>): (text: string) => string {
  // Longest first, so a secret containing another is replaced whole.
  const known = secrets.filter((secret): secret is string => secret !== undefined && secret.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  };
}

export class DetailedLogWriter {
  private readonly directory: string;
  readonly redact: (text: string) => string;

  constructor(logDirectory: string, secrets: Array<string | undefined>) {
    this.directory = join(logDirectory, 'detailed');
    this.redact = createRedactor(secrets);
  }

  async write(trace: RequestTrace): Promise<void> {
    const day = trace.startedAt.toISOString().slice(0, 10);
    const directory = join(this.directory, day);
    await mkdir(directory, { recursive: true });
    const stamp = trace.startedAt.toISOString().replace(/[:.]/g, '-');
    await writeFile(join(directory, `${stamp}_${trace.requestId}.json`), this.redact(JSON.stringify(trace, null, 2)));
  }
}
