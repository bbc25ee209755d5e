/**
 * Issue 10, item 2, through the real Gemini CLI 0.61 headless with its DEFAULT retry settings (10 attempts, 5–30 s
 * backoff; 4 mid-stream attempts): each failure a user can meet ends the turn with an error (never exit 0 with a
 * truncated answer), within a bound, after a bounded number of upstream calls. Times are measured from the proxy's
 * first request to the CLI's exit, so the CLI's own start-up on a busy machine does not count. The five cases run
 * concurrently; the slowest (5xx to everything) takes about a minute.
 *
 * The stall cases run with short proxy timeouts (3 s instead of the 60 s defaults) so the suite stays fast; the bound
 * scales: with the defaults the same number of attempts takes 4 × 60 s + 7 s, under 5 minutes.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, it, type TestContext } from 'node:test';
import type { RequestRecord } from '../../src/server/context.js';
import { assertOneSentence } from '../support/error-sentence.js';
import {
  describeRun,
  errorOutput,
  parseErrorBody,
  removeTemporaryDirectories,
  runCli,
  type CliRun,
} from '../support/gemini-cli.js';
import { startProxy, type RunningProxy } from '../support/proxy.js';
import { ScriptedUpstream, sseFromChunks, type Script } from '../support/scripted-upstream.js';

const DEFAULT_RETRIES_TIMEOUT_MS = 280_000;

interface Case {
  upstream: ScriptedUpstream;
  proxy: RunningProxy;
  records: RequestRecord[];
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

async function setUp(fallback: Script | undefined, config: Record<string, unknown> = {}): Promise<Case> {
  const upstream = await new ScriptedUpstream().start();
  if (fallback !== undefined) upstream.setFallback(fallback);
  const proxy = await startProxy({
    openai_base_url: upstream.baseUrl,
    openai_api_key: 'sk-upstream-key-0001',
    default_openai_model: 'up-model',
    ...config,
  });
  const records: RequestRecord[] = [];
  proxy.context.requestListeners.push((record) => records.push(record));
  return { upstream, proxy, records };
}

async function tearDown(test: Case): Promise<void> {
  await test.proxy.stop();
  await test.upstream.stop();
}

/** Seconds from the proxy's first generate request to the CLI's exit. */
function secondsAfterFirstRequest(test: Case, run: CliRun, exitedAt: number): number {
  const first = test.records.map((record) => Date.parse(record.time) - record.durationMs).sort((a, b) => a - b)[0];
  assert.ok(first !== undefined, `the proxy saw no request\n${describeRun(run, test.upstream)}`);
  return (exitedAt - first) / 1000;
}

async function run(test: Case, t: TestContext): Promise<{ run: CliRun; seconds: number; message: string }> {
  const cli = await runCli(test.proxy.url, {
    prompt: 'say hi',
    args: ['-m', 'gemini-3.8-flash'],
    maxAttempts: 'default',
    timeoutMs: DEFAULT_RETRIES_TIMEOUT_MS,
  });
  const exitedAt = Date.now();
  assert.equal(cli.timedOut, false, describeRun(cli, test.upstream));
  assert.notEqual(cli.code, 0, `a failed turn must not exit 0\n${describeRun(cli, test.upstream)}`);
  const message = errorOutput(cli, test.upstream).error?.message ?? '';
  const seconds = secondsAfterFirstRequest(test, cli, exitedAt);
  t.diagnostic(
    `exit ${String(cli.code)} ${seconds.toFixed(1)} s after the first request; ${test.records.length} proxy request(s), ${test.upstream.received.length} upstream call(s)`,
  );
  return { run: cli, seconds, message };
}

describe('Gemini CLI with default retry settings: bounded failure paths', { concurrency: true }, () => {
  after(() => removeTemporaryDirectories());

  it('nothing listening (local Ollama not started): terminal at once, the message says how to fix it', async (t) => {
    const port = await closedPort();
    const test = await setUp(undefined, {
      provider: 'ollama',
      openai_base_url: `http://127.0.0.1:${port}/v1`,
      openai_api_key: undefined,
    });
    try {
      const result = await run(test, t);
      assert.equal(result.run.code, 144, `400 → exit 144\n${describeRun(result.run, test.upstream)}`);
      assert.match(result.message, /ollama serve/);
      // [R-ERR-8]: the sentence the CLI prints, and the detail beside it.
      const body = parseErrorBody(result.message);
      assert.match(
        body.error.message,
        /^Upstream ollama at http:\/\/127\.0\.0\.1:\d+\/v1 refused the connection \(nothing listens there\): start Ollama with `ollama serve`/,
      );
      assertOneSentence(body.error.message);
      assert.deepEqual(body.error.details, [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'UPSTREAM_UNREACHABLE',
          domain: 'gemini-proxy',
          metadata: { provider: 'ollama', network_error: 'ECONNREFUSED' },
        },
      ]);
      assert.equal(test.records.length, 1, 'the CLI did not retry');
      assert.ok(result.seconds < 10, `ended ${result.seconds} s after the first request`);
    } finally {
      await tearDown(test);
    }
  });

  it('upstream 401: terminal at once, one upstream call, the message names the upstream key', async (t) => {
    const test = await setUp({
      kind: 'json',
      status: 401,
      body: {
        error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' },
      },
    });
    try {
      const result = await run(test, t);
      assert.equal(result.run.code, 147, `403 → exit 147\n${describeRun(result.run, test.upstream)}`);
      assert.match(result.message, /check the api_key configured for upstream/);
      const body = parseErrorBody(result.message);
      assertOneSentence(body.error.message, 'the 401 sentence', ['sk-upstream-key-0001']);
      const info = body.error.details?.find((detail) => detail['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo');
      assert.deepEqual(info?.['metadata'], {
        provider: 'generic',
        upstream_status: '401',
        upstream_type: 'invalid_request_error',
        upstream_code: 'invalid_api_key',
      });
      assert.equal(test.upstream.received.length, 1);
      assert.ok(result.seconds < 10, `ended ${result.seconds} s after the first request`);
    } finally {
      await tearDown(test);
    }
  });

  it("an upstream answering 500 to everything: the upstream's own status and message within 2 minutes, at most 12 calls", async (t) => {
    const test = await setUp({
      kind: 'json',
      status: 500,
      body: { error: { message: 'The server had an error while processing your request.', type: 'server_error' } },
    });
    try {
      const result = await run(test, t);
      assert.equal(
        result.run.code,
        144,
        `the circuit-open answer is 400 → exit 144\n${describeRun(result.run, test.upstream)}`,
      );
      const body = parseErrorBody(result.message);
      assert.match(
        body.error.message,
        /^Upstream generic failed with a server error \(500: "The server had an error while processing your request"\); after \d+ failures in a row/,
      );
      assertOneSentence(body.error.message);
      assert.ok(test.upstream.received.length <= 12, `${test.upstream.received.length} upstream calls`);
      assert.ok(result.seconds < 120, `ended ${result.seconds} s after the first request`);
    } finally {
      await tearDown(test);
    }
  });

  it('an upstream that never sends headers: an error, not a hang (4 attempts × the header timeout)', async (t) => {
    const test = await setUp(
      { kind: 'stall' },
      { timeouts: { upstream_headers_seconds: 3, first_byte_commit_seconds: 1, heartbeat_seconds: 1 } },
    );
    try {
      const result = await run(test, t);
      assert.match(result.message, /sent no response headers in time/);
      assert.ok(test.upstream.received.length <= 5, `${test.upstream.received.length} upstream calls`);
      assert.ok(result.seconds < 4 * (3 + 1) + 7 + 10, `ended ${result.seconds} s after the first request`);
    } finally {
      await tearDown(test);
    }
  });

  it('an upstream that stalls after its first words: an error (never exit 0 with the truncated text)', async (t) => {
    const firstWords = sseFromChunks(
      [
        {
          id: 'c',
          object: 'chat.completion.chunk',
          choices: [{ index: 0, delta: { role: 'assistant', content: 'The first words' }, finish_reason: null }],
        },
      ],
      { done: false },
    );
    const test = await setUp(
      { kind: 'sse', writes: firstWords, endAfter: false },
      { timeouts: { upstream_idle_seconds: 3, heartbeat_seconds: 1 } },
    );
    try {
      const result = await run(test, t);
      assert.match(result.message, /stopped sending data/);
      assert.ok(test.upstream.received.length <= 5, `${test.upstream.received.length} upstream calls`);
      assert.ok(result.seconds < 4 * (3 + 1) + 7 + 10, `ended ${result.seconds} s after the first request`);
    } finally {
      await tearDown(test);
    }
  });
});
