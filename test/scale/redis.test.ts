/**
 * Scale-out against a real redis-server: two proxy instances share client limits, the reasoning replay cache, the
 * response cache and usage counters; Redis going away never stops requests, and shared state resumes when it is back.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { ScriptedUpstream, sseFromChunks, type ReceivedRequest, type Script } from '../support/scripted-upstream.js';
import { startProxy, type RunningProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';
import { reasoningKeys } from '../../src/shared/reasoning-cache.js';

/** /health shows shared state and usage only to a key holder (issue 12, finding 8). */
const HEALTH_KEY = { headers: { 'x-goog-api-key': 'client-key-other' } };
import { RedisServer } from '../support/redis.js';

const OK_JSON: Script = {
  kind: 'json',
  body: {
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  },
};
const USER = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

const REASONING = 'I should list the directory first.';
const DEEPSEEK_MISSING_REASONING = {
  error: {
    message: 'The `reasoning_content` in the thinking mode must be passed back to the API.',
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_request_error',
  },
};

/** A DeepSeek-like thinking upstream: a reasoning + tool-call turn, then it rejects a follow-up that lost the reasoning. */
function deepseekThinking(request: ReceivedRequest): Script {
  const body = request.body as {
    messages: Array<{ role: string; tool_calls?: unknown[]; reasoning_content?: string }>;
  };
  const assistant = body.messages.find((message) => message.role === 'assistant' && message.tool_calls !== undefined);
  if (assistant === undefined) {
    return {
      kind: 'sse',
      writes: [
        ': keep-alive\n\n',
        ...sseFromChunks([
          {
            id: 'd1',
            model: 'deepseek-v4-pro',
            choices: [
              {
                index: 0,
                delta: { role: 'assistant', content: null, reasoning_content: REASONING },
                finish_reason: null,
              },
            ],
          },
          {
            id: 'd1',
            model: 'deepseek-v4-pro',
            choices: [
              {
                index: 0,
                delta: {
                  tool_calls: [
                    {
                      index: 0,
                      id: 'call_00_shared1',
                      type: 'function',
                      function: { name: 'list_directory', arguments: '{"dir_path":"."}' },
                    },
                  ],
                },
                finish_reason: null,
              },
            ],
          },
          {
            id: 'd1',
            model: 'deepseek-v4-pro',
            choices: [{ index: 0, delta: { content: '', reasoning_content: null }, finish_reason: 'tool_calls' }],
            usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 },
          },
        ]),
      ],
    };
  }
  if (assistant.reasoning_content !== REASONING) return { kind: 'json', status: 400, body: DEEPSEEK_MISSING_REASONING };
  return {
    kind: 'sse',
    writes: sseFromChunks([
      {
        id: 'd2',
        choices: [{ index: 0, delta: { content: 'Two files.' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 80, completion_tokens: 3, total_tokens: 83 },
      },
    ]),
  };
}

const TOOL_TURN = {
  contents: [{ role: 'user', parts: [{ text: 'list files' }] }],
  tools: [
    {
      functionDeclarations: [
        {
          name: 'list_directory',
          parametersJsonSchema: { type: 'object', properties: { dir_path: { type: 'string' } } },
        },
      ],
    },
  ],
  generationConfig: { thinkingConfig: { includeThoughts: true } },
};

function followUp(callId: string): unknown {
  // What Gemini CLI sends back: thoughts stripped, the call echoed with its id and the signature sentinel.
  return {
    ...TOOL_TURN,
    contents: [
      ...TOOL_TURN.contents,
      {
        role: 'model',
        parts: [
          {
            functionCall: { id: callId, name: 'list_directory', args: { dir_path: '.' } },
            thoughtSignature: 'skip_thought_signature_validator',
          },
        ],
      },
      {
        role: 'user',
        parts: [{ functionResponse: { id: callId, name: 'list_directory', response: { output: 'a.txt\nb.txt' } } }],
      },
    ],
  };
}

async function toolRoundTrip(first: RunningProxy, second: RunningProxy): Promise<{ status: number; text: string }> {
  const key = { 'x-goog-api-key': 'client-key-other' };
  const turn = await post(`${first.url}/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse`, TOOL_TURN, key);
  assert.match(turn.text, /"id":"call_00_shared1"/);
  // The reasoning is remembered after the answer went out: wait until the first instance has stored it.
  await waitFor(
    () => first.context.reasoningCache.get(reasoningKeys('call_00_shared1', 'list_directory', '{"dir_path":"."}')),
    'the first instance to remember the reasoning of the tool-call turn',
  );
  return post(
    `${second.url}/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse`,
    followUp('call_00_shared1'),
    key,
  );
}

describe('scale-out through Redis', () => {
  const redis = new RedisServer();
  let upstream: ScriptedUpstream;
  const running: RunningProxy[] = [];
  /** One key prefix per test: the instances of a test share state, tests do not. */
  let prefix = 'initial:';
  const instance = async (extra: Record<string, unknown> = {}, withRedis = true): Promise<RunningProxy> => {
    const proxy = await startProxy({
      provider: 'deepseek',
      openai_base_url: upstream.baseUrl,
      openai_api_key: 'sk-shared-upstream',
      default_openai_model: 'deepseek-v4-pro',
      client_api_keys: [{ key: 'client-key-shared', name: 'team', requests_per_minute: 3 }, 'client-key-other'],
      retries: { attempts_per_target: 1 },
      ...(withRedis ? { redis_url: redis.url, redis: { key_prefix: prefix, command_timeout_ms: 200 } } : {}),
      ...extra,
    });
    running.push(proxy);
    return proxy;
  };

  before(async () => {
    await redis.start();
    upstream = await new ScriptedUpstream().start();
  });
  beforeEach(() => {
    prefix = `test${Date.now()}${Math.random().toString(36).slice(2)}:`;
  });
  afterEach(async () => {
    for (const proxy of running.splice(0)) await proxy.stop();
    upstream.reset();
    await redis.start().catch(() => undefined);
  });
  after(async () => {
    await upstream.stop();
    await redis.stop();
  });

  it('two instances share one client rate limit', async () => {
    upstream.setFallback(OK_JSON);
    const a = await instance();
    const b = await instance();
    await waitFor(
      () => a.context.redis?.isHealthy === true && b.context.redis?.isHealthy === true,
      'redis connections',
    );
    const key = { 'x-goog-api-key': 'client-key-shared' };
    const path = '/v1beta/models/gemini-2.5-pro:generateContent';
    assert.equal((await post(a.url + path, USER, key)).status, 200);
    assert.equal((await post(b.url + path, USER, key)).status, 200);
    assert.equal((await post(a.url + path, USER, key)).status, 200);
    const refused = await post(b.url + path, USER, key);
    assert.equal(refused.status, 429, 'the fourth request in the minute is refused by the other instance');
    assert.match(refused.text, /RetryInfo/);
    assert.equal(
      (await post(b.url + path, USER, { 'x-goog-api-key': 'client-key-other' })).status,
      200,
      'other clients are unaffected',
    );
  });

  it('a thinking tool turn through instance A and its follow-up through instance B succeed (shared reasoning replay)', async () => {
    upstream.setFallback({ kind: 'dynamic', respond: deepseekThinking });
    const a = await instance();
    const b = await instance();
    await waitFor(
      () => a.context.redis?.isHealthy === true && b.context.redis?.isHealthy === true,
      'redis connections',
    );
    const result = await toolRoundTrip(a, b);
    assert.equal(result.status, 200);
    assert.match(result.text, /Two files\./, result.text);
    const second = upstream.received[1]?.body as { messages: Array<{ role: string; reasoning_content?: string }> };
    assert.equal(second.messages.find((message) => message.role === 'assistant')?.reasoning_content, REASONING);
  });

  it('control: without shared state the same follow-up on another instance is rejected by the upstream', async () => {
    upstream.setFallback({ kind: 'dynamic', respond: deepseekThinking });
    const a = await instance({}, false);
    const b = await instance({}, false);
    const result = await toolRoundTrip(a, b);
    assert.match(result.text, /reasoning_content/);
    assert.doesNotMatch(result.text, /Two files/);
  });

  it('the response cache is shared: a deterministic unary request answered by A is served by B from the cache', async () => {
    upstream.setFallback(OK_JSON);
    const extra = { response_cache: { enabled: true, ttl_seconds: 60 } };
    const a = await instance(extra);
    const b = await instance(extra);
    await waitFor(
      () => a.context.redis?.isHealthy === true && b.context.redis?.isHealthy === true,
      'redis connections',
    );
    const request = { ...USER, generationConfig: { temperature: 0 } };
    const first = await post(`${a.url}/v1beta/models/gemini-2.5-pro:generateContent`, request, {
      'x-goog-api-key': 'client-key-other',
    });
    // The answer is cached after it went out: wait until the entry is in Redis.
    await waitFor(
      async () => ((await a.context.redis?.client.keys(`${prefix}response:*`)) ?? []).length === 1,
      'the cached answer in Redis',
    );
    const second = await post(`${b.url}/v1beta/models/gemini-2.5-pro:generateContent`, request, {
      'x-goog-api-key': 'client-key-other',
    });
    assert.equal(second.status, 200);
    assert.equal(upstream.received.length, 1, 'the second answer came from the shared cache');
    const ids = [first, second].map(
      (result) => (JSON.parse(result.text) as { responseId: string; candidates: unknown }).responseId,
    );
    assert.notEqual(ids[0], ids[1], 'a cached answer still gets its own responseId');
    assert.deepEqual(
      (JSON.parse(first.text) as { candidates: unknown }).candidates,
      (JSON.parse(second.text) as { candidates: unknown }).candidates,
    );
    const nonDeterministic = await post(
      `${b.url}/v1beta/models/gemini-2.5-pro:generateContent`,
      { ...USER, generationConfig: { temperature: 1 } },
      { 'x-goog-api-key': 'client-key-other' },
    );
    assert.equal(nonDeterministic.status, 200);
    assert.equal(upstream.received.length, 2, 'temperature 1 is never cached');
  });

  it('usage counters add up across instances', async () => {
    upstream.setFallback(OK_JSON);
    const a = await instance();
    const b = await instance();
    await waitFor(
      () => a.context.redis?.isHealthy === true && b.context.redis?.isHealthy === true,
      'redis connections',
    );
    for (const proxy of [a, b, b])
      await post(`${proxy.url}/v1beta/models/gemini-3-pro-preview:generateContent`, USER, {
        'x-goog-api-key': 'client-key-other',
      });
    await waitFor(async () => {
      const health = (await (await fetch(`${a.url}/health?usage=1`, HEALTH_KEY)).json()) as {
        usage_today?: Record<string, Record<string, number>>;
      };
      return health.usage_today?.['gemini-3-pro-preview']?.['requests'] === 3;
    }, 'usage counters from both instances');
    const health = (await (await fetch(`${b.url}/health?usage=1`, HEALTH_KEY)).json()) as {
      usage_today: Record<string, Record<string, number>>;
      shared_state: { state: string };
    };
    assert.equal(health.usage_today['gemini-3-pro-preview']?.['prompt_tokens'], 15);
    assert.equal(health.shared_state.state, 'ready');
  });

  it('Redis stopped mid-test: requests keep succeeding; restarted: shared state resumes', async () => {
    upstream.setFallback({
      kind: 'dynamic',
      respond: (request) =>
        (request.body as { tools?: unknown }).tools === undefined ? OK_JSON : deepseekThinking(request),
    });
    const a = await instance();
    const b = await instance();
    await waitFor(
      () => a.context.redis?.isHealthy === true && b.context.redis?.isHealthy === true,
      'redis connections',
    );
    const key = { 'x-goog-api-key': 'client-key-shared' };
    const path = '/v1beta/models/gemini-2.5-pro:generateContent';
    assert.equal((await post(a.url + path, USER, key)).status, 200);

    await redis.stop();
    const started = Date.now();
    for (let index = 0; index < 6; index += 1) {
      const result = await post((index % 2 === 0 ? a : b).url + path, USER, key);
      assert.equal(result.status, 200, `request ${index} during the outage: ${result.text}`);
    }
    assert.ok(Date.now() - started < 5000, `six requests during the outage took ${Date.now() - started} ms`);
    assert.ok(
      a.logLines.some((line) => line.includes('redis unavailable')),
      'the outage is logged',
    );
    assert.equal(a.logLines.filter((line) => line.includes('redis unavailable')).length, 1, 'logged once');
    const health = (await (await fetch(`${a.url}/health`, HEALTH_KEY)).json()) as { shared_state: { state: string } };
    assert.equal(health.shared_state.state, 'unavailable');

    await redis.start();
    await waitFor(() => a.context.redis?.isHealthy === true && b.context.redis?.isHealthy === true, 'reconnection');
    assert.ok(a.logLines.some((line) => line.includes('redis connection restored')));
    // Shared state resumes: the limit is shared again (3 per minute over both instances; the bucket is new).
    assert.equal((await post(a.url + path, USER, key)).status, 200);
    assert.equal((await post(b.url + path, USER, key)).status, 200);
    assert.equal((await post(a.url + path, USER, key)).status, 200);
    assert.equal((await post(b.url + path, USER, key)).status, 429);
    // And so is the reasoning replay.
    const roundTrip = await toolRoundTrip(a, b);
    assert.match(roundTrip.text, /Two files\./);
  });

  it('rate_limit_failure closed: while Redis is down, limited requests get a retryable 503', async () => {
    upstream.setFallback(OK_JSON);
    const proxy = await instance({
      redis: { key_prefix: prefix, rate_limit_failure: 'closed', command_timeout_ms: 200 },
    });
    await waitFor(() => proxy.context.redis?.isHealthy === true, 'redis connection');
    await redis.stop();
    const result = await post(`${proxy.url}/v1beta/models/gemini-2.5-pro:generateContent`, USER, {
      'x-goog-api-key': 'client-key-shared',
    });
    assert.equal(result.status, 503);
    assert.match(result.text, /UNAVAILABLE/);
  });
});
