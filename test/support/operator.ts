/**
 * Helpers for the operator tests: a proxy started from a config file the test controls (for hot reload and usage
 * persistence), answers the scripted upstream gives, and a Prometheus text-format parser.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { resolveConfig } from '../../src/config/load.js';
import { buildApp, type BuiltApp } from '../../src/app.js';
import { sseFromChunks, type Script } from './scripted-upstream.js';

export interface FileProxy extends BuiltApp {
  url: string;
  configPath: string;
  directory: string;
  logLines: string[];
  stop(): Promise<void>;
}

export function tempDirectory(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `config` (plus a loopback listener on port 0) to `directory/config.json` and starts the proxy from it. */
export async function startFileProxy(
  config: Record<string, unknown>,
  directory = tempDirectory('gp-operator-'),
): Promise<FileProxy> {
  const configPath = join(directory, 'config.json');
  writeFileSync(configPath, JSON.stringify({ server: { host: '127.0.0.1', port: 0 }, ...config }, null, 2));
  const resolved = resolveConfig({ configPath }, {});
  const logLines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  const built = buildApp(resolved, log);
  await built.app.listen({ host: '127.0.0.1', port: 0 });
  const address = built.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { ...built, url: `http://127.0.0.1:${port}`, configPath, directory, logLines, stop: () => built.app.close() };
}

export function completion(
  text: string,
  usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
): Script {
  return {
    kind: 'json',
    body: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
      usage,
    },
  };
}

/** A streamed answer; `holdUntil` keeps it open after its first chunk until the promise settles. */
export function stream(
  text: string,
  options: { holdUntil?: Promise<unknown>; usage?: Record<string, number> } = {},
): Script {
  const usage = options.usage ?? { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 };
  return {
    kind: 'sse',
    ...(options.holdUntil === undefined ? {} : { pause: { after: 1, until: options.holdUntil } }),
    writes: sseFromChunks([
      { choices: [{ index: 0, delta: { role: 'assistant', content: text }, finish_reason: null }] },
      { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage },
    ]),
  };
}

/** An upstream that refuses the key: not retried, answered 403 PERMISSION_DENIED, class UPSTREAM_AUTH. */
export const BAD_KEY: Script = {
  kind: 'json',
  status: 401,
  body: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } },
};

export const USER_TURN = { contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }] };

export async function generate(
  baseUrl: string,
  model: string,
  options: { stream?: boolean; key?: string } = {},
): Promise<{ status: number; text: string }> {
  const method = options.stream === true ? 'streamGenerateContent?alt=sse' : 'generateContent';
  const response = await fetch(`${baseUrl}/v1beta/models/${model}:${method}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.key === undefined ? {} : { 'x-goog-api-key': options.key }),
    },
    body: JSON.stringify(USER_TURN),
  });
  return { status: response.status, text: await response.text() };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (0.0.4): comments skipped, labels unescaped. */
export function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type?.[1] !== undefined && type[2] !== undefined) types.set(type[1], type[2]);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/.exec(line);
    if (match === null || match[1] === undefined || match[4] === undefined)
      throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    const body = match[3] ?? '';
    const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/g;
    let consumed = 0;
    for (let label = labelPattern.exec(body); label !== null; label = labelPattern.exec(body)) {
      if (label[1] === undefined || label[2] === undefined) continue;
      labels[label[1]] = label[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      consumed += label[0].length;
    }
    if (consumed !== body.replace(/\s+$/, '').length) throw new Error(`bad label set: ${line}`);
    // Prometheus reads values with Go's ParseFloat: NaN and Inf in any letter case.
    const raw = match[4].toLowerCase();
    const value =
      raw === '+inf' || raw === 'inf' ? Infinity : raw === '-inf' ? -Infinity : raw === 'nan' ? NaN : Number(raw);
    if (Number.isNaN(value) && raw !== 'nan') throw new Error(`bad value: ${line}`);
    samples.push({ name: match[1], labels, value });
  }
  return { samples, types };
}

/** Sum of the samples named `name` whose labels include `labels`. */
export function sampleSum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter(
      (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    )
    .reduce((total, sample) => total + sample.value, 0);
}
