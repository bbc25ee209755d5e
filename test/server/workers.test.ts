/**
 * `--workers 2`: the compiled CLI as a node:cluster primary with two workers on one port, against the scripted
 * upstream. Requests succeed; a worker killed with SIGKILL is replaced and requests still succeed; SIGTERM to the
 * primary drains and stops every process.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ScriptedUpstream } from '../support/scripted-upstream.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const WAIT_MS = 30_000;

const COMPLETION = {
  id: 'chatcmpl-workers',
  object: 'chat.completion',
  created: 1,
  model: 'test-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from a worker' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
};

/** The CLI's stdout as pino lines, with a way to wait for a message. */
class LogWatcher {
  readonly messages: string[] = [];
  private waiters: Array<{ test: (message: string) => boolean; resolve: (message: string) => void }> = [];
  private carry = '';

  constructor(child: ChildProcess) {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => {
      const lines = (this.carry + text).split('\n');
      this.carry = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        let message = line;
        try {
          const parsed = JSON.parse(line) as { msg?: unknown };
          if (typeof parsed.msg === 'string') message = parsed.msg;
        } catch {
          // not a pino line: keep it verbatim
        }
        this.messages.push(message);
        this.waiters = this.waiters.filter((waiter) => {
          if (!waiter.test(message)) return true;
          waiter.resolve(message);
          return false;
        });
      }
    });
  }

  /** Resolves with the `count`-th message (counting from `from`) that matches. */
  async waitFor(pattern: RegExp, what: string, from = 0, count = 1): Promise<string[]> {
    const found: string[] = [];
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      found.length = 0;
      for (const message of this.messages.slice(from)) if (pattern.test(message)) found.push(message);
      if (found.length >= count) return found.slice(0, count);
      const remaining = deadline - Date.now();
      if (remaining <= 0) assert.fail(`timed out waiting for ${what}; log so far:\n${this.messages.join('\n')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 250));
        this.waiters.push({
          test: (message) => pattern.test(message),
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    }
  }
}

/** One generateContent call on a fresh connection, so successive calls can land on different workers. */
function generate(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1beta/models/gemini-2.5-flash:generateContent',
        headers: { 'content-type': 'application/json', connection: 'close' },
        agent: false,
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }));
  });
}

async function assertServes(port: number, times: number): Promise<void> {
  for (let index = 0; index < times; index += 1) {
    const result = await generate(port);
    assert.equal(result.status, 200, result.body);
    const parsed = JSON.parse(result.body) as {
      candidates?: Array<{ content?: { parts?: Array<{ text?: string }> } }>;
    };
    assert.equal(parsed.candidates?.[0]?.content?.parts?.[0]?.text, 'Hello from a worker');
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const WORKER_LINE = /^gemini-proxy worker (\d+) \(pid (\d+)\) listening on /;

function workerPids(lines: string[]): number[] {
  return lines.map((line) => Number(WORKER_LINE.exec(line)?.[2]));
}

describe('--workers 2', () => {
  let upstream: ScriptedUpstream;
  let child: ChildProcess;
  let log: LogWatcher;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  before(async () => {
    upstream = await new ScriptedUpstream().start();
    upstream.setFallback({ kind: 'json', body: COMPLETION });
    const directory = mkdtempSync(join(tmpdir(), 'gp-workers-'));
    const config = join(directory, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        openai_base_url: upstream.baseUrl,
        default_openai_model: 'test-model',
        server: { host: '127.0.0.1', port: 0 },
        logging: { enable_access_logs: false, log_directory: join(directory, 'logs') },
      }),
    );
    child = spawn(process.execPath, [CLI, '--config', config, '--workers', '2'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    log = new LogWatcher(child);
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  });

  after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await upstream.stop();
  });

  it('serves, replaces a killed worker, and stops on SIGTERM', async () => {
    const [serving] = await log.waitFor(
      /^gemini-proxy primary \(pid \d+\) serving http:\/\/127\.0\.0\.1:\d+ with 2 workers$/,
      'the primary',
    );
    const port = Number(/:(\d+) with 2 workers$/.exec(serving ?? '')?.[1]);
    assert.ok(port > 0, serving);
    const firstPids = workerPids(await log.waitFor(WORKER_LINE, 'two listening workers', 0, 2));
    assert.equal(new Set(firstPids).size, 2, `two distinct worker processes: ${firstPids.join(', ')}`);
    for (const pid of firstPids) assert.ok(isAlive(pid), `worker ${pid} runs`);

    await assertServes(port, 6);

    const victim = firstPids[0] ?? 0;
    const mark = log.messages.length;
    process.kill(victim, 'SIGKILL');
    await log.waitFor(
      new RegExp(`\\(pid ${victim}\\) exited with signal SIGKILL .*starting a replacement in \\d+ ms$`),
      'the crash report',
      mark,
    );
    const [replacementLine] = await log.waitFor(WORKER_LINE, 'a replacement worker', mark);
    const [replacement] = workerPids([replacementLine ?? '']);
    assert.ok(
      replacement !== undefined && replacement !== victim && !firstPids.includes(replacement),
      `a new process: ${replacementLine}`,
    );
    assert.ok(isAlive(replacement), 'the replacement runs');
    assert.ok(!isAlive(victim), 'the killed worker is gone');

    await assertServes(port, 6);

    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      exited,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no exit within ${WAIT_MS} ms:\n${log.messages.join('\n')}`)),
          WAIT_MS,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    assert.deepEqual(result, { code: 0, signal: null });
    const survivors = [firstPids[1] ?? 0, replacement].filter(isAlive);
    assert.deepEqual(survivors, [], 'every worker has exited');
  });
});
