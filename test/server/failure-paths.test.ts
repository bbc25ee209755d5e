/**
 * Issue 10's failure paths over raw HTTP against scripted upstreams: circuit breakers per model (one model's failures
 * leave another model on the same upstream key alone), /health degraded → healthy, the access line's upstream status
 * and reason per failed attempt and its `200 (stream failed: …)` mark, the dashboard record's error message without
 * detailed logs, a committed unary answer ending as an error body, paragraph-sized thought parts from word-by-word
 * reasoning, and the first-run message for a local Ollama that is not running.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { RequestRecord } from '../../src/server/context.js';
import { assertOneSentence } from '../support/error-sentence.js';
import { startProxy, waitForAccessLine, type RunningProxy } from '../support/proxy.js';
import { gate, waitFor } from '../support/wait.js';
import { ScriptedUpstream, sseFromChunks, type Script } from '../support/scripted-upstream.js';

const USER = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
const OK_JSON: Script = {
  kind: 'json',
  body: {
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  },
};
const SERVER_ERROR: Script = {
  kind: 'json',
  status: 500,
  body: { error: { message: 'The server had an error while processing your request.', type: 'server_error' } },
};

async function post(url: string, body: unknown = USER): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

async function health(proxy: RunningProxy): Promise<{
  status: string;
  failing?: string[];
  upstreams: Record<string, { failing_models: Record<string, { state: string; last_failure?: string }> }>;
}> {
  const response = await fetch(`${proxy.url}/health`);
  assert.equal(response.status, 200, 'liveness stays 200');
  return (await response.json()) as {
    status: string;
    failing?: string[];
    upstreams: Record<string, { failing_models: Record<string, { state: string; last_failure?: string }> }>;
  };
}

describe('circuit breakers and health per model', () => {
  let upstream: ScriptedUpstream;
  let proxy: RunningProxy;
  before(async () => {
    upstream = await new ScriptedUpstream().start();
  });
  after(async () => upstream.stop());
  afterEach(async () => {
    await proxy.stop();
    upstream.reset();
  });

  it("one model's failures open its circuit only; the other model on the same key keeps working; /health degraded → healthy", async () => {
    proxy = await startProxy({
      openai_base_url: upstream.baseUrl,
      openai_api_key: 'sk-only-key',
      model_mapping: { 'gemini-3.5-flash-lite': 'small', 'gemini-3.8-flash': 'big' },
      retries: { attempts_per_target: 1 },
      // Long enough that a busy machine still makes the next requests inside it.
      circuit_breaker: { failure_threshold: 2, cooldown_seconds: 3 },
    });
    upstream.setFallback({
      kind: 'dynamic',
      respond: (request) => ((request.body as { model: string }).model === 'small' ? SERVER_ERROR : OK_JSON),
    });
    const small = `${proxy.url}/v1beta/models/gemini-3.5-flash-lite:generateContent`;
    const big = `${proxy.url}/v1beta/models/gemini-3.8-flash:generateContent`;
    assert.equal((await post(small)).status, 503);
    const degraded = await health(proxy);
    assert.equal(degraded.status, 'degraded', 'a failing model makes /health degraded before any circuit opens');
    assert.deepEqual(degraded.failing, ['default/small']);
    const opened = await post(small);
    assert.equal(opened.status, 400, 'the failure that opens the circuit is answered terminally');
    assert.match(
      opened.text,
      /Upstream generic failed with a server error \(500: \\"The server had an error.*; after 2 failures in a row for small/,
    );
    const openedError = (JSON.parse(opened.text) as { error: { message: string; details: unknown[] } }).error;
    assertOneSentence(openedError.message);
    assert.deepEqual(openedError.details, [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'UPSTREAM_CIRCUIT_OPEN',
        domain: 'gemini-proxy',
        metadata: { upstream: 'default', model: 'small', consecutive_failures: '2', cooldown_seconds: '3' },
      },
    ]);
    const callsForSmall = (): number =>
      upstream.received.filter((request) => (request.body as { model: string }).model === 'small').length;
    assert.equal(callsForSmall(), 2);
    assert.equal((await post(small)).status, 400);
    assert.equal(callsForSmall(), 2, 'not called while its circuit is open');
    for (let index = 0; index < 3; index += 1)
      assert.equal((await post(big)).status, 200, 'the other model on the same key is untouched');
    const open = await health(proxy);
    assert.notEqual(open.upstreams['default']?.failing_models['small']?.state ?? 'closed', 'closed');
    assert.match(open.upstreams['default']?.failing_models['small']?.last_failure ?? '', /500/);
    assert.equal(open.upstreams['default']?.failing_models['big'], undefined);

    // Recovery: after the cooldown one probe goes through; its success closes the circuit and /health is healthy again.
    upstream.setFallback(OK_JSON);
    await waitFor(
      async () => (await health(proxy)).upstreams['default']?.failing_models['small']?.state === 'half-open',
      'the circuit of small to become half-open after the cooldown',
    );
    assert.equal((await post(small)).status, 200, 'the probe goes through');
    const healthy = await health(proxy);
    assert.equal(healthy.status, 'healthy');
    assert.equal(healthy.failing, undefined);
  });

  it('a 404 for one model does not count against any circuit', async () => {
    proxy = await startProxy({
      openai_base_url: upstream.baseUrl,
      model_mapping: { 'gemini-3.5-flash-lite': 'missing', 'gemini-3.8-flash': 'big' },
      retries: { attempts_per_target: 1 },
      circuit_breaker: { failure_threshold: 1, cooldown_seconds: 30 },
    });
    upstream.setFallback({
      kind: 'dynamic',
      respond: (request) =>
        (request.body as { model: string }).model === 'missing'
          ? {
              kind: 'json',
              status: 404,
              body: { error: { message: 'model "missing" not found, try pulling it first' } },
            }
          : OK_JSON,
    });
    for (let index = 0; index < 3; index += 1)
      assert.equal((await post(`${proxy.url}/v1beta/models/gemini-3.5-flash-lite:generateContent`)).status, 404);
    assert.equal((await post(`${proxy.url}/v1beta/models/gemini-3.8-flash:generateContent`)).status, 200);
    assert.equal(upstream.received.length, 4, 'every 404 reached the upstream: no circuit opened');
  });
});

describe('logs tell the truth', () => {
  let upstream: ScriptedUpstream;
  let proxy: RunningProxy;
  const records: RequestRecord[] = [];
  before(async () => {
    upstream = await new ScriptedUpstream().start();
    proxy = await startProxy({
      openai_base_url: upstream.baseUrl,
      openai_api_key: 'sk-secret-upstream-key-123456',
      default_openai_model: 'm',
      retries: { attempts_per_target: 1 },
      circuit_breaker: { failure_threshold: 1000 },
      timeouts: { first_byte_commit_seconds: 0.3, heartbeat_seconds: 0.1 },
    });
    proxy.context.requestListeners.push((record) => records.push(record));
  });
  after(async () => {
    await proxy.stop();
    await upstream.stop();
  });

  it("an upstream 500: the access line carries the upstream's own status and its message; the record keeps the message", async () => {
    upstream.enqueue({
      kind: 'json',
      status: 500,
      body: { error: { message: 'database on fire (key sk-secret-upstream-key-123456)', type: 'server_error' } },
    });
    const result = await post(`${proxy.url}/v1beta/models/m:generateContent`);
    assert.equal(result.status, 503);
    const line = await waitForAccessLine(proxy, /Upstream: default#0:500 /);
    assert.match(line, / - 503 - /);
    assert.match(line, /default#0:500 \(server_error: database on fire/);
    assert.ok(!line.includes('sk-secret-upstream-key-123456'), 'redacted');
    const record = records.find((entry) => entry.status === 503);
    assert.match(
      record?.errorMessage ?? '',
      /database on fire/,
      'the dashboard shows the message without detailed logs',
    );
  });

  it('a 402 balance error: the access line says 402 and why', async () => {
    upstream.enqueue({
      kind: 'json',
      status: 402,
      body: {
        error: { message: 'Insufficient Balance', type: 'unknown_error', param: null, code: 'invalid_request_error' },
      },
    });
    const result = await post(`${proxy.url}/v1beta/models/m:generateContent`);
    assert.equal(result.status, 400);
    const line = await waitForAccessLine(proxy, /Upstream: default#0:402 /);
    assert.match(line, /default#0:402 \(.*Insufficient Balance/);
  });

  it('a failure after output: `200 (stream failed: upstream 503 …)` and the record keeps the message', async () => {
    upstream.enqueue({
      kind: 'sse',
      writes: sseFromChunks(
        [{ choices: [{ index: 0, delta: { role: 'assistant', content: 'Half' }, finish_reason: null }] }],
        { done: false },
      ),
      endAfter: false,
      destroyAfter: true,
    });
    const result = await post(`${proxy.url}/v1beta/models/m:streamGenerateContent?alt=sse`);
    assert.equal(result.status, 200);
    assert.match(result.text, /\{"error":\{"code":503/);
    const line = await waitForAccessLine(proxy, /stream failed/);
    assert.match(line, / - 200 \(stream failed: upstream 503: .*closed the connection unexpectedly\) - /);
    const record = records.find((entry) => entry.errorMessage?.startsWith('stream failed after output') === true);
    assert.ok(record !== undefined, JSON.stringify(records.map((entry) => entry.errorMessage)));
  });

  it('a unary answer already committed (heartbeat whitespace) ends with the error object as its body', async () => {
    // The upstream's 500 body is held until the proxy has committed its 200 to the client.
    const body500 = gate();
    upstream.enqueue({
      kind: 'sse',
      status: 500,
      writes: ['{"error":{"message":"late failure",', '"type":"server_error"}}'],
      pause: { after: 0, until: body500.opened },
    });
    const response = await fetch(`${proxy.url}/v1beta/models/m:generateContent`, {
      method: 'POST',
      body: JSON.stringify(USER),
    });
    assert.equal(response.status, 200, 'committed before the upstream answered');
    body500.open();
    const body = JSON.parse(await response.text()) as { error: { code: number; message: string } };
    assert.equal(body.error.code, 503);
    assert.match(body.error.message, /late failure/);
  });
});

describe('detailed logs', () => {
  it('record the upstream URL and HTTP status of every attempt', async () => {
    const upstream = await new ScriptedUpstream().start();
    const directory = mkdtempSync(join(tmpdir(), 'gemini-proxy-attempts-'));
    const proxy = await startProxy({
      openai_base_url: upstream.baseUrl,
      default_openai_model: 'm',
      retries: { attempts_per_target: 2, base_delay_ms: 1 },
      logging: { enable_detailed_logs: true, enable_access_logs: true, log_directory: directory },
    });
    const records: RequestRecord[] = [];
    proxy.context.requestListeners.push((record) => records.push(record));
    try {
      upstream.enqueue(SERVER_ERROR, OK_JSON);
      assert.equal((await post(`${proxy.url}/v1beta/models/m:generateContent`)).status, 200);
      await waitForAccessLine(proxy, /Upstream: default#0:500 .* → default#0:ok/);
      const trace = records[0]?.trace as { UPSTREAM_ATTEMPTS?: unknown } | undefined;
      const url = `${upstream.baseUrl}/chat/completions`;
      assert.deepEqual(trace?.UPSTREAM_ATTEMPTS, [
        { url, status: 500 },
        { url, status: 200 },
      ]);
    } finally {
      await proxy.stop();
      await upstream.stop();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('paragraph-sized thoughts', () => {
  let upstream: ScriptedUpstream;
  let proxy: RunningProxy;
  before(async () => {
    upstream = await new ScriptedUpstream().start();
    proxy = await startProxy({ openai_base_url: upstream.baseUrl, default_openai_model: 'm' });
  });
  after(async () => {
    await proxy.stop();
    await upstream.stop();
  });

  it('word-by-word reasoning (DeepSeek, Kimi) arrives as one thought part per paragraph, byte-identical', async () => {
    const reasoning =
      'First I read the question.\n\nThen I check the files one by one, carefully.\n\nFinally I answer.';
    const words = reasoning.split(/(?<= )|(?=\n\n)/);
    assert.ok(words.length > 15);
    upstream.enqueue({
      kind: 'sse',
      writes: sseFromChunks([
        ...words.map((word) => ({ choices: [{ index: 0, delta: { reasoning_content: word }, finish_reason: null }] })),
        { choices: [{ index: 0, delta: { content: 'Done.' }, finish_reason: 'stop' }] },
      ]),
    });
    const result = await post(`${proxy.url}/v1beta/models/m:streamGenerateContent?alt=sse`, {
      ...USER,
      generationConfig: { thinkingConfig: { includeThoughts: true } },
    });
    const events = result.text
      .split('\r\n\r\n')
      .filter((event) => event.trim() !== '')
      .map(
        (event) =>
          JSON.parse(event.trim().slice(6)) as {
            candidates: Array<{ content?: { parts: Array<{ text?: string; thought?: boolean }> } }>;
          },
      );
    const thoughts = events
      .flatMap((event) => event.candidates[0]?.content?.parts ?? [])
      .filter((part) => part.thought === true)
      .map((part) => part.text);
    assert.deepEqual(thoughts, [
      'First I read the question.\n\n',
      'Then I check the files one by one, carefully.\n\n',
      'Finally I answer.',
    ]);
    assert.equal(thoughts.join(''), reasoning);
  });
});

describe('first run with a local Ollama that is not running', () => {
  it("the request's message names Ollama and how to start it; nothing is retried", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const proxy = await startProxy({
      provider: 'ollama',
      openai_base_url: `http://127.0.0.1:${port}/v1`,
      default_openai_model: 'qwen3:8b',
    });
    try {
      const result = await post(`${proxy.url}/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse`);
      assert.equal(result.status, 400);
      const body = JSON.parse(result.text) as { error: { status: string; message: string } };
      assert.equal(body.error.status, 'FAILED_PRECONDITION');
      assert.match(
        body.error.message,
        /refused the connection \(nothing listens there\): start Ollama with `ollama serve`, and fetch the model once/,
      );
      assertOneSentence(body.error.message);
      const line = await waitForAccessLine(proxy, /Upstream: default#0:ECONNREFUSED /);
      assert.doesNotMatch(line.split('Upstream: ')[1] ?? '', /→/, 'one attempt, not retried');
    } finally {
      await proxy.stop();
    }
  });
});
