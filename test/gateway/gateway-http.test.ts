/**
 * Gateway behaviour over real sockets: routes over several upstreams, retries with backoff and Retry-After, fallback,
 * never a retry after output, key rotation, circuit breakers, per-client limits, request and URL/header limits.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { ScriptedUpstream, sseFromChunks, type Script } from '../support/scripted-upstream.js';
import {
  accessLines,
  proxyOverUpstream,
  startProxy,
  waitForAccessLine,
  waitForAccessLines,
  type RunningProxy,
} from '../support/proxy.js';
import { waitFor } from '../support/wait.js';

const USER = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
const OK_STREAM: Script = {
  kind: 'sse',
  writes: sseFromChunks([
    { choices: [{ index: 0, delta: { content: 'ok' }, finish_reason: null }] },
    {
      choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
    },
  ]),
};
const OK_JSON: Script = {
  kind: 'json',
  body: {
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  },
};
const UNAVAILABLE: Script = {
  kind: 'json',
  status: 503,
  body: { error: { message: 'overloaded', type: 'server_error' } },
};

async function post(
  url: string,
  body: unknown = USER,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; json(): Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

function finishReason(sse: string): string | undefined {
  const events = sse.split('\r\n\r\n').filter((event) => event.startsWith('data: '));
  const last = JSON.parse(events.at(-1)?.slice(6) ?? '{}') as { candidates?: Array<{ finishReason?: string }> };
  return last.candidates?.[0]?.finishReason;
}

describe('gateway: routes, retries, fallback, keys, breakers', () => {
  let primary: ScriptedUpstream;
  let secondary: ScriptedUpstream;
  let proxy: RunningProxy;

  before(async () => {
    primary = await new ScriptedUpstream().start();
    secondary = await new ScriptedUpstream().start();
  });
  const start = (retries: Record<string, number> = {}): Promise<RunningProxy> =>
    startProxy({
      upstreams: {
        primary: { provider: 'generic', base_url: primary.baseUrl, api_keys: ['sk-primary-key-A', 'sk-primary-key-B'] },
        secondary: { provider: 'ollama', base_url: secondary.baseUrl },
      },
      routes: {
        'gemini-*': [
          { upstream: 'primary', model: 'big' },
          { upstream: 'secondary', model: 'qwen3:8b' },
        ],
        'only-primary': [{ upstream: 'primary', model: 'big' }],
      },
      retries: { attempts_per_target: 2, base_delay_ms: 50, max_delay_seconds: 2, ...retries },
      // Long enough that the requests of a test land inside it on a busy machine; the probe test waits for its end.
      circuit_breaker: { failure_threshold: 3, cooldown_seconds: 2 },
    });
  // A fresh proxy per test: circuit breakers and key cursors are process state.
  beforeEach(async () => {
    proxy = await start();
  });
  after(async () => {
    await primary.stop();
    await secondary.stop();
  });
  afterEach(async () => {
    await proxy.stop();
    primary.reset();
    secondary.reset();
  });

  it('retries a 503 once on the same upstream (other key), then falls back to the next target', async () => {
    primary.enqueue(UNAVAILABLE, UNAVAILABLE);
    secondary.enqueue(OK_STREAM);
    const result = await post(`${proxy.url}/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse`);
    assert.equal(result.status, 200, result.text);
    assert.equal(finishReason(result.text), 'STOP');
    assert.equal(primary.received.length, 2);
    assert.equal(secondary.received.length, 1);
    assert.equal(
      (secondary.received[0]?.body as { model: string }).model,
      'qwen3:8b',
      'the fallback gets its own model',
    );
    const keys = primary.received.map((request) => request.headers.authorization);
    assert.deepEqual(new Set(keys).size, 2, 'the retry used the other key');
    // The access log shows the attempts.
    await waitForAccessLine(proxy, /Upstream: primary#\d:503 \(.*?\) → primary#\d:503 \(.*?\) → secondary#0:ok/);
  });

  it('honours Retry-After before retrying the same target', async () => {
    primary.enqueue(
      {
        kind: 'json',
        status: 429,
        headers: { 'retry-after': '1' },
        body: { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } },
      },
      OK_JSON,
    );
    const started = Date.now();
    const result = await post(`${proxy.url}/v1beta/models/only-primary:generateContent`);
    assert.equal(result.status, 200, result.text);
    assert.ok(Date.now() - started >= 950, `retried after ${Date.now() - started} ms`);
    assert.equal(primary.received.length, 2);
  });

  it('a Retry-After beyond max_delay_seconds moves on to the next target at once', async () => {
    primary.enqueue({
      kind: 'json',
      status: 429,
      headers: { 'retry-after': '120' },
      body: { error: { message: 'slow down', code: 'rate_limit_exceeded' } },
    });
    secondary.enqueue(OK_JSON);
    const started = Date.now();
    const result = await post(`${proxy.url}/v1beta/models/gemini-3-flash-preview:generateContent`);
    assert.equal(result.status, 200);
    // At once, not after the 120 s the upstream asked for.
    assert.ok(Date.now() - started < 10_000, `answered after ${Date.now() - started} ms`);
    assert.equal(primary.received.length, 1);
  });

  it('with no target left, the last error is returned with its RetryInfo', async () => {
    primary.enqueue({
      kind: 'json',
      status: 429,
      headers: { 'retry-after': '120' },
      body: { error: { message: 'slow down', code: 'rate_limit_exceeded' } },
    });
    const result = await post(`${proxy.url}/v1beta/models/only-primary:generateContent`);
    assert.equal(result.status, 429);
    assert.match(result.text, /"retryDelay":"120s"/);
  });

  it('never retries once output reached the client', async () => {
    primary.enqueue({
      kind: 'sse',
      writes: sseFromChunks([{ choices: [{ index: 0, delta: { content: 'partial' }, finish_reason: null }] }], {
        done: false,
      }),
      endAfter: false,
      destroyAfter: true,
    });
    secondary.setFallback(OK_STREAM);
    const result = await post(`${proxy.url}/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse`);
    // [R-FIN-5]: the failure after output ends the stream as the raw error object, not as an ordinary finish.
    assert.equal(finishReason(result.text), undefined);
    assert.match(result.text.trim(), /\{"error":\{"code":503,[^\n]*"status":"UNAVAILABLE"[^\n]*\}\}$/);
    assert.equal((result.text.match(/partial/g) ?? []).length, 1);
    assert.equal(secondary.received.length, 0);
  });

  it('a stream that fails before any output is retried (the client saw only headers)', async () => {
    primary.enqueue(
      { kind: 'sse', writes: ['data: {"error":{"message":"The server had an error","type":"server_error"}}\n\n'] },
      OK_STREAM,
    );
    const result = await post(`${proxy.url}/v1beta/models/only-primary:streamGenerateContent?alt=sse`);
    assert.equal(finishReason(result.text), 'STOP');
    assert.equal(primary.received.length, 2);
  });

  it('a deterministic 400 is neither retried nor sent to the fallback', async () => {
    primary.enqueue({
      kind: 'json',
      status: 400,
      body: { error: { message: 'bad parameter', type: 'invalid_request_error' } },
    });
    const result = await post(`${proxy.url}/v1beta/models/gemini-2.5-pro:generateContent`);
    assert.equal(result.status, 400);
    assert.equal(primary.received.length, 1);
    assert.equal(secondary.received.length, 0);
  });

  it('a balance error moves to the other key at once, without a delay', async () => {
    // A backoff here would be 3.75–6.25 s, far from "at once" even on a busy machine.
    await proxy.stop();
    proxy = await start({ base_delay_ms: 5000, max_delay_seconds: 10 });
    primary.enqueue(
      { kind: 'json', status: 402, body: { error: { message: 'Insufficient Balance', type: 'unknown_error' } } },
      OK_JSON,
    );
    const started = Date.now();
    const result = await post(`${proxy.url}/v1beta/models/only-primary:generateContent`);
    assert.equal(result.status, 200);
    assert.ok(Date.now() - started < 3000, `answered after ${Date.now() - started} ms`);
    const keys = primary.received.map((request) => request.headers.authorization);
    assert.notEqual(keys[0], keys[1]);
  });

  it('an upstream error that echoes the key never shows it to the client', async () => {
    primary.setFallback({
      kind: 'dynamic',
      respond: (request) => ({
        kind: 'json',
        status: 401,
        body: {
          error: {
            message: `Incorrect API key provided: ${String(request.headers.authorization).slice(7)}`,
            type: 'invalid_request_error',
            code: 'invalid_api_key',
          },
        },
      }),
    });
    secondary.setFallback({
      kind: 'json',
      status: 401,
      body: { error: { message: 'nope', type: 'invalid_authentication_error' } },
    });
    const result = await post(`${proxy.url}/v1beta/models/gemini-2.5-pro:generateContent`);
    assert.equal(result.status, 403);
    assert.ok(!/sk-primary-key-[AB]/.test(result.text), result.text);
    assert.ok(!proxy.logLines.some((line) => /sk-primary-key-[AB]/.test(line)));
    const single = await post(`${proxy.url}/v1beta/models/only-primary:streamGenerateContent?alt=sse`);
    assert.ok(!/sk-primary-key-[AB]/.test(single.text), single.text);
    assert.match(single.text, /\[REDACTED\]/);
  });

  it('keys rotate between requests', async () => {
    primary.setFallback(OK_JSON);
    for (let index = 0; index < 4; index += 1)
      assert.equal((await post(`${proxy.url}/v1beta/models/only-primary:generateContent`)).status, 200);
    const keys = primary.received.map((request) => request.headers.authorization);
    assert.deepEqual(new Set(keys), new Set(['Bearer sk-primary-key-A', 'Bearer sk-primary-key-B']));
    assert.notEqual(keys[0], keys[1]);
  });

  it('a circuit opens after repeated failures, skips the upstream, then probes it after the cooldown', async () => {
    primary.setFallback(UNAVAILABLE);
    secondary.setFallback(OK_JSON);
    // Two requests × two attempts = four failures, spread over both keys: both circuits reach the threshold of 3 by the third request.
    for (let index = 0; index < 3; index += 1)
      assert.equal((await post(`${proxy.url}/v1beta/models/gemini-2.5-pro:generateContent`)).status, 200);
    const before = primary.received.length;
    assert.equal((await post(`${proxy.url}/v1beta/models/gemini-2.5-pro:generateContent`)).status, 200);
    assert.equal(primary.received.length, before, 'open circuits are skipped');
    const health = (await (await fetch(`${proxy.url}/health`)).json()) as {
      upstreams: Record<string, { keys: Array<{ state: string }> }>;
    };
    assert.ok(health.upstreams['primary']?.keys.every((key) => key.state === 'open'));
    // The cooldown's end: /health shows the keys half-open, ready for one probe.
    await waitFor(async () => {
      const state = (await (await fetch(`${proxy.url}/health`)).json()) as typeof health;
      return state.upstreams['primary']?.keys.every((key) => key.state === 'half-open');
    }, 'the circuits to become half-open after the cooldown');
    primary.setFallback(OK_JSON);
    assert.equal((await post(`${proxy.url}/v1beta/models/gemini-2.5-pro:generateContent`)).status, 200);
    assert.equal(primary.received.length, before + 1, 'one probe after the cooldown, which closes the circuit');
    const closed = (await (await fetch(`${proxy.url}/health`)).json()) as {
      upstreams: Record<string, { keys: Array<{ state: string }> }>;
    };
    assert.ok(closed.upstreams['primary']?.keys.some((key) => key.state === 'closed'));
  });

  it('a route whose only upstream has an open circuit for the model answers at once, terminally, with the upstream error', async () => {
    primary.setFallback(UNAVAILABLE);
    // Two keys, two attempts per request, threshold 3 per key and model: the third request's failures open both
    // circuits, and that request already gets the terminal answer.
    for (let index = 0; index < 2; index += 1)
      assert.equal((await post(`${proxy.url}/v1beta/models/only-primary:generateContent`)).status, 503);
    const opened = await post(`${proxy.url}/v1beta/models/only-primary:generateContent`);
    assert.equal(opened.status, 400, 'a status Gemini CLI does not retry');
    assert.match(opened.text, /FAILED_PRECONDITION/);
    assert.match(opened.text, /Upstream primary \(generic\) is overloaded or unavailable \(503: \\"overloaded\\"\)/);
    assert.match(opened.text, /3 failures in a row for big on upstream primary/);
    const before = primary.received.length;
    assert.equal(before, 6);
    const result = await post(`${proxy.url}/v1beta/models/only-primary:generateContent`);
    assert.equal(result.status, 400);
    assert.equal(primary.received.length, before, 'not called while the circuit is open');
  });
});

describe('gateway: client limits and request limits', () => {
  const rig = proxyOverUpstream({
    default_openai_model: 'm',
    client_api_keys: [
      { key: 'client-key-limited', name: 'alice', requests_per_minute: 2 },
      { key: 'client-key-tokens', name: 'bob', tokens_per_minute: 1000 },
      'client-key-free',
    ],
    server: { host: '127.0.0.1', port: 0, max_url_bytes: 1024, max_header_bytes: 4096, request_timeout_seconds: 2 },
    retries: { attempts_per_target: 1 },
  });
  const upstream = rig.upstream;
  before(() => upstream.setFallback(OK_JSON));

  it('requests per minute: the third request is a 429 with RetryInfo; other keys are unaffected', async () => {
    const url = `${rig.proxy.url}/v1beta/models/m:generateContent`;
    assert.equal((await post(url, USER, { 'x-goog-api-key': 'client-key-limited' })).status, 200);
    assert.equal((await post(url, USER, { 'x-goog-api-key': 'client-key-limited' })).status, 200);
    const limited = await post(url, USER, { 'x-goog-api-key': 'client-key-limited' });
    assert.equal(limited.status, 429);
    const error = limited.json()['error'] as {
      status: string;
      message: string;
      details: Array<Record<string, unknown>>;
    };
    assert.equal(error.status, 'RESOURCE_EXHAUSTED');
    const retry = error.details.find((detail) => detail['@type'] === 'type.googleapis.com/google.rpc.RetryInfo');
    assert.match(String(retry?.['retryDelay']), /^(2[0-9]|30)s$/);
    assert.match(error.message, /alice/);
    assert.equal((await post(url, USER, { 'x-goog-api-key': 'client-key-free' })).status, 200);
  });

  it('tokens per minute: the real usage is charged, and a request over the remaining budget is refused', async () => {
    const url = `${rig.proxy.url}/v1beta/models/m:generateContent`;
    const big = { contents: [{ parts: [{ text: 'x'.repeat(3000) }] }] };
    upstream.enqueue({
      kind: 'json',
      body: {
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 880, completion_tokens: 20, total_tokens: 900 },
      },
    });
    const before = accessLines(rig.proxy).length;
    assert.equal((await post(url, big, { 'x-goog-api-key': 'client-key-tokens' })).status, 200);
    // The real usage is charged when the request closes, which is also when its access line is written.
    await waitForAccessLines(rig.proxy, before + 1);
    const refused = await post(url, big, { 'x-goog-api-key': 'client-key-tokens' });
    assert.equal(refused.status, 429);
    assert.match(refused.text, /tokens per minute/);
  });

  it('an overlong URL is a 414 and an oversized header block a 431, both in the Gemini format', async () => {
    const long = await post(`${rig.proxy.url}/v1beta/models/${'m'.repeat(2000)}:generateContent`, USER, {
      'x-goog-api-key': 'client-key-free',
    });
    assert.equal(long.status, 414);
    assert.equal((long.json()['error'] as { code: number }).code, 414);
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(
        `${rig.proxy.url}/v1beta/models/m:generateContent`,
        { method: 'POST', headers: { 'x-big': 'y'.repeat(8000) } },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      request.on('error', reject);
      request.end('{}');
    });
    assert.equal(status.status, 431);
    assert.equal((JSON.parse(status.body) as { error: { status: string } }).error.status, 'INVALID_ARGUMENT');
  });

  it('the request timeout ends a stalled request with 504 DEADLINE_EXCEEDED and aborts the upstream', async () => {
    upstream.enqueue({ kind: 'stall' });
    const started = Date.now();
    const result = await post(`${rig.proxy.url}/v1beta/models/m:generateContent`, USER, {
      'x-goog-api-key': 'client-key-free',
    });
    const took = Date.now() - started;
    // 2 s of request timeout; the upper bound only tells a timeout from a hang.
    assert.ok(took >= 1900 && took < 15_000, `answered after ${took} ms`);
    assert.equal(result.status, 504, result.text);
    assert.match(result.text, /DEADLINE_EXCEEDED/);
  });
});
