/**
 * Running the real Gemini CLI 0.61.0 headless against a proxy (docs/gemini-contract.md §12), shared by the CLI suites
 * (test/cli/gemini-cli.test.ts, test/providers/matrix-cli.test.ts): a fresh HOME with the §12.1 settings and a fresh
 * workspace per run, the CLI's JSON output parsed, and the proxy's detailed-log traces read back.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { OpenAIChatRequest } from '../../src/translate/openai-types.js';
import type { ReceivedRequest } from './scripted-upstream.js';
import { pollUntil } from './wait.js';

const require = createRequire(import.meta.url);

/** The CLI's bin script, resolved from the installed devDependency (no npx, no network). */
export function geminiBin(): string {
  const packageJsonPath = require.resolve('@google/gemini-cli/package.json');
  const manifest = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as {
    version: string;
    bin: Record<string, string> | string;
  };
  assert.equal(manifest.version, '0.61.0', 'these tests pin Gemini CLI 0.61.0');
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin['gemini'];
  assert.ok(bin !== undefined, 'gemini-cli package.json has no "gemini" bin');
  return join(dirname(packageJsonPath), bin);
}

export const RUN_TIMEOUT_MS = 60_000;
const temporaryDirectories: string[] = [];

export function temporaryDirectory(prefix: string): string {
  const path = mkdtempSync(join(tmpdir(), prefix));
  temporaryDirectories.push(path);
  return path;
}

/** Removes every directory temporaryDirectory made (call from `after`). */
export function removeTemporaryDirectories(): void {
  for (const directory of temporaryDirectories.splice(0)) rmSync(directory, { recursive: true, force: true });
}

export interface CliRunOptions {
  prompt: string;
  /** Extra flags, e.g. ['-m', 'some-model']. */
  args?: string[];
  /** Files to create in the workspace (relative path → content). */
  files?: Record<string, string | Buffer>;
  /** general.maxAttempts (1 unless a test is about retries); 'default' leaves the CLI's own default (10). */
  maxAttempts?: number | 'default';
  /** Kill the run after this long (default RUN_TIMEOUT_MS). */
  timeoutMs?: number;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

/** The `--output-format json` success document on stdout. */
export interface CliTokens {
  input: number;
  prompt: number;
  candidates: number;
  total: number;
  cached: number;
  thoughts: number;
  tool: number;
}
export interface CliModelStats {
  api: { totalRequests: number; totalErrors: number };
  tokens: CliTokens;
  roles?: Record<string, { totalRequests: number; totalErrors: number; tokens: CliTokens }>;
}
export interface CliJsonOutput {
  session_id?: string;
  response?: string;
  stats?: {
    models: Record<string, CliModelStats>;
    tools: {
      totalCalls: number;
      totalSuccess: number;
      totalFail: number;
      byName: Record<string, { count: number; success: number; fail: number }>;
    };
  };
  error?: { type: string; message: string; code?: number | string };
}

export function settingsJson(maxAttempts: number | 'default'): string {
  // docs/gemini-contract.md §12.1: API-key auth (otherwise GOOGLE_GEMINI_BASE_URL selects "gateway" and the run exits
  // 41), no update checks, no usage statistics, no telemetry: nothing may leave for the internet.
  return JSON.stringify({
    security: { auth: { selectedType: 'gemini-api-key' } },
    general: {
      enableAutoUpdate: false,
      enableAutoUpdateNotification: false,
      ...(maxAttempts === 'default' ? {} : { maxAttempts }),
    },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
  });
}

export async function runCli(proxyUrl: string, options: CliRunOptions): Promise<CliRun> {
  const home = temporaryDirectory('gemini-cli-home-');
  mkdirSync(join(home, '.gemini'));
  writeFileSync(join(home, '.gemini', 'settings.json'), settingsJson(options.maxAttempts ?? 1));
  const workspace = temporaryDirectory('gemini-cli-ws-');
  // The CLI writes error reports to os.tmpdir(); keep them out of the shared /tmp.
  const cliTmp = temporaryDirectory('gemini-cli-tmp-');
  for (const [path, content] of Object.entries(options.files ?? {})) {
    mkdirSync(dirname(join(workspace, path)), { recursive: true });
    writeFileSync(join(workspace, path), content);
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '',
    HOME: home,
    GEMINI_CLI_HOME: home,
    GEMINI_API_KEY: 'test-client-key',
    GOOGLE_GEMINI_BASE_URL: proxyUrl,
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
    GEMINI_CLI_NO_RELAUNCH: 'true',
    TMPDIR: cliTmp,
    NO_COLOR: '1',
    TERM: 'dumb',
  };
  const args = [geminiBin(), '-p', options.prompt, '--output-format', 'json', ...(options.args ?? [])];
  const started = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (data: string) => (stdout += data));
  child.stderr.setEncoding('utf8').on('data', (data: string) => (stderr += data));
  let timedOut = false;
  const killGroup = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, options.timeoutMs ?? RUN_TIMEOUT_MS);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode: number | null, exitSignal: NodeJS.Signals | null) =>
      resolve([exitCode, exitSignal]),
    );
  });
  clearTimeout(timer);
  killGroup(); // leftovers of the process group (none expected)
  return { code, signal, stdout, stderr, durationMs: Date.now() - started, timedOut };
}

/** Anything that records what it received (a ScriptedUpstream, or a personality's ScriptedUpstream). */
export interface RecordingUpstream {
  readonly received: readonly ReceivedRequest[];
}

export function describeRun(run: CliRun, upstream: RecordingUpstream): string {
  return [
    `exit=${String(run.code)} signal=${String(run.signal)} timedOut=${run.timedOut} ${run.durationMs}ms`,
    `stdout: ${run.stdout.slice(0, 4000)}`,
    `stderr: ${run.stderr.slice(-4000)}`,
    `upstream saw ${upstream.received.length} request(s): ${upstream.received.map((request) => summarizeRequest(request)).join(' | ')}`,
  ].join('\n');
}

export function summarizeRequest(request: ReceivedRequest): string {
  const body = request.body as Partial<OpenAIChatRequest> | undefined;
  if (typeof body !== 'object' || body === null || !Array.isArray(body.messages))
    return `${request.method} ${request.url} (not a chat request)`;
  const roles = body.messages.map((message) => message.role).join(',');
  return `${body.model ?? '?'} stream=${String(body.stream)} rf=${body.response_format?.type ?? '-'} tools=${body.tools?.length ?? 0} roles=${roles}`;
}

/** stdout of a successful run is one JSON document. */
export function successOutput(run: CliRun, upstream: RecordingUpstream): CliJsonOutput {
  assert.equal(run.timedOut, false, `the CLI run timed out\n${describeRun(run, upstream)}`);
  try {
    return JSON.parse(run.stdout) as CliJsonOutput;
  } catch {
    assert.fail(`stdout is not one JSON document\n${describeRun(run, upstream)}`);
  }
}

/** On fatal errors the JSON document `{"session_id","error":{…}}` is on stderr, after other diagnostics. */
export function errorOutput(run: CliRun, upstream: RecordingUpstream): CliJsonOutput {
  assert.equal(run.timedOut, false, `the CLI run timed out\n${describeRun(run, upstream)}`);
  for (let start = run.stderr.indexOf('{'); start >= 0; start = run.stderr.indexOf('{', start + 1)) {
    const candidate = run.stderr.slice(start).trim();
    try {
      const parsed = JSON.parse(candidate) as CliJsonOutput;
      if (typeof parsed === 'object' && parsed !== null && parsed.error !== undefined) return parsed;
    } catch {
      // not the start of the document
    }
  }
  assert.fail(`no JSON error document on stderr\n${describeRun(run, upstream)}`);
}

/** The received body as a chat request (asserting it is one). */
export function chatBody(request: ReceivedRequest): OpenAIChatRequest {
  const body = request.body;
  assert.ok(
    typeof body === 'object' && body !== null && Array.isArray((body as { messages?: unknown }).messages),
    `upstream body is not a chat request: ${request.rawBody.slice(0, 300)}`,
  );
  return body as OpenAIChatRequest;
}

// ---------------------------------------------------------------------------------------------------------------
// What the proxy answered: its detailed log (one JSON file per request, written when the response closes).

export interface GeminiPartOut {
  text?: string;
  thought?: boolean;
  functionCall?: { id?: string; name: string; args: unknown };
}
export interface GeminiResponseOut {
  candidates?: Array<{ content?: { role?: string; parts?: GeminiPartOut[] }; finishReason?: string }>;
  usageMetadata?: Record<string, number>;
  error?: { code: number; status: string; message: string; details?: Array<Record<string, unknown>> };
}
export interface Trace {
  request_id: string;
  started_at: string;
  '1_GEMINI_REQUEST'?: { method: string; url: string; body: unknown };
  '4_GEMINI_RESPONSE'?: GeminiResponseOut | GeminiResponseOut[];
}

/**
 * Reads the proxy's traces, oldest first, once `expected` of them are on disk and complete (each is written after its
 * response closed); after the deadline, what is there, for the caller's assertions to report.
 */
export async function readTraces(logDirectory: string, expected: number): Promise<Trace[]> {
  const root = join(logDirectory, 'detailed');
  let traces: Trace[] = [];
  await pollUntil(() => {
    const files = existsSync(root)
      ? readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.json'))
      : [];
    traces = files.flatMap((file) => {
      try {
        return [JSON.parse(readFileSync(join(root, file), 'utf8')) as Trace];
      } catch {
        return []; // still being written
      }
    });
    return traces.length >= expected;
  });
  return traces.sort((a, b) => a.started_at.localeCompare(b.started_at));
}

/** The stream events (or the unary body) the proxy sent for one request. */
export function sentEvents(trace: Trace): GeminiResponseOut[] {
  const sent = trace['4_GEMINI_RESPONSE'];
  assert.ok(sent !== undefined, `trace ${trace.request_id} has no 4_GEMINI_RESPONSE`);
  return Array.isArray(sent) ? sent : [sent];
}

export function finishReasons(events: GeminiResponseOut[]): string[] {
  return events
    .flatMap((event) => event.candidates ?? [])
    .flatMap((candidate) => (candidate.finishReason === undefined ? [] : [candidate.finishReason]));
}

export function sentText(events: GeminiResponseOut[]): string {
  return events
    .flatMap((event) => event.candidates?.[0]?.content?.parts ?? [])
    .filter((part) => part.thought !== true && part.text !== undefined)
    .map((part) => part.text)
    .join('');
}

/** The JSON error body the CLI printed as `error.message` for non-retryable statuses. */
export function parseErrorBody(message: string): {
  error: { code: number; status: string; message: string; details?: Array<Record<string, unknown>> };
} {
  try {
    return JSON.parse(message) as {
      error: { code: number; status: string; message: string; details?: Array<Record<string, unknown>> };
    };
  } catch {
    assert.fail(`error.message is not the JSON error body: ${message}`);
  }
}
