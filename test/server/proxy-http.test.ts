/**
 * End-to-end over real sockets: the real proxy in front of the scripted upstream. Endpoints, errors, timing rules,
 * auth, logs.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdtempSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ScriptedUpstream, sseFromChunks } from '../support/scripted-upstream.js';
import { assertOneSentence } from '../support/error-sentence.js';
import { accessLines, proxyOverUpstream, startProxy, waitForAccessLine, type RunningProxy } from '../support/proxy.js';
import { WAIT_DEADLINE_MS, gate, waitFor } from '../support/wait.js';

interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json(): Record<string, unknown>;
}

async function call(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', ...init.headers },
    ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: () => JSON.parse(text) as Record<string, unknown>,
  };
}

/** The data events of an SSE answer; a failed stream's trailing raw error object ([R-ERR-5]) is not an event. */
function sseEvents(text: string): Array<Record<string, unknown>> {
  assert.ok(!text.includes('[DONE]'), 'never [DONE] ([R-SSE-7])');
  const events = text
    .split('\r\n\r\n')
    .map((event) => event.trim())
    .filter((event) => event !== '');
  if (events.at(-1)?.startsWith('{"error":') === true) events.pop();
  return events.map((event) => {
    assert.ok(event.startsWith('data: {'), `every event is one data line: ${event.slice(0, 80)}`);
    return JSON.parse(event.slice(6)) as Record<string, unknown>;
  });
}

function googleError(result: HttpResult): {
  code: number;
  status: string;
  message: string;
  details?: Array<Record<string, unknown>>;
} {
  assert.match(result.headers.get('content-type') ?? '', /^application\/json/);
  const body = result.json() as {
    error: { code: number; status: string; message: string; details?: Array<Record<string, unknown>> };
  };
  assert.equal(body.error.code, result.status, 'code equals the HTTP status');
  assert.equal(typeof body.error.message, 'string');
  return body.error;
}

const USER = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
const TEXT_STREAM = sseFromChunks([
  { choices: [{ index: 0, delta: { role: 'assistant', content: 'Hello' }, finish_reason: null }] },
  {
    choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  },
]);

/** The raw error object that ends a failed SSE stream ([R-ERR-5]): the text after the last event. */
function lastErrorObject(text: string): { code: number; status: string } {
  const tail = text.slice(text.lastIndexOf('\r\n\r\n') + 4).trim();
  const body = JSON.parse(tail) as { error: { code: number; status: string } };
  return { code: body.error.code, status: body.error.status };
}

describe('proxy over HTTP', () => {
  const logDirectory = mkdtempSync(join(tmpdir(), 'gp-logs-'));
  const rig = proxyOverUpstream(
    {
      openai_api_key: 'sk-upstream-SECRET-1234',
      model_mapping: {
        'gemini-2.5-pro': 'big-model',
        'gemini-*-flash-lite*': 'small-model',
        'qwen3:8b': 'qwen3:8b',
        'gemini-embedding-001': 'embed-model',
      },
      default_openai_model: 'default-model',
      logging: { enable_detailed_logs: true, enable_access_logs: true, log_directory: logDirectory },
      // The idle timeout is tested below; 2 s keeps it from firing in other tests on a busy machine.
      timeouts: { first_byte_commit_seconds: 0.4, heartbeat_seconds: 0.15, upstream_idle_seconds: 2 },
      // One attempt per request: these tests pin the mapping of each upstream answer; gateway-http.test.ts covers retries.
      retries: { attempts_per_target: 1 },
      // Failure cases must not open the circuit for the model every other test here uses.
      circuit_breaker: { failure_threshold: 1000 },
    },
    { resetEachTest: true },
  );
  const upstream = rig.upstream;
  const base = (): string => `${rig.proxy.url}/v1beta/models`;

  it('generateContent: unary text, model mapped by pattern, modelVersion and responseId set', async () => {
    upstream.enqueue({
      kind: 'json',
      body: {
        id: 'x',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hi!' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 },
      },
    });
    const result = await call(`${base()}/gemini-3.5-flash-lite:generateContent`, { body: USER });
    assert.equal(result.status, 200);
    const body = result.json() as {
      candidates: Array<{ content: { parts: unknown[]; role: string }; finishReason: string }>;
      modelVersion: string;
      responseId: string;
    };
    assert.deepEqual(body.candidates[0]?.content, { role: 'model', parts: [{ text: 'Hi!' }] });
    assert.equal(body.candidates[0]?.finishReason, 'STOP');
    assert.equal(body.modelVersion, 'small-model');
    assert.ok(body.responseId.length > 0);
    assert.equal((upstream.received[0]?.body as { model: string; stream?: boolean }).model, 'small-model');
    assert.equal((upstream.received[0]?.body as { stream?: boolean }).stream, undefined);
  });

  it('generateContent: DeepSeek-style leading blank lines before the JSON body, reasoning and a tool call merged in order', async () => {
    upstream.enqueue({
      kind: 'json',
      rawPrefix: '\n\n\n',
      body: {
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: 'Reading.',
              reasoning_content: 'Plan it.',
              tool_calls: [
                { id: 'call_1', type: 'function', function: { name: 'read_file', arguments: '{"file_path":"a"}' } },
              ],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: {
          prompt_tokens: 10,
          completion_tokens: 8,
          total_tokens: 18,
          completion_tokens_details: { reasoning_tokens: 3 },
        },
      },
    });
    const result = await call(`${base()}/gemini-2.5-pro:generateContent`, {
      body: {
        ...USER,
        generationConfig: { thinkingConfig: { includeThoughts: true } },
        tools: [{ functionDeclarations: [{ name: 'read_file' }] }],
      },
    });
    assert.equal(result.status, 200, result.text);
    const body = result.json() as {
      candidates: Array<{ content: { parts: unknown[] }; finishReason: string }>;
      usageMetadata: unknown;
    };
    assert.deepEqual(body.candidates[0]?.content.parts, [
      { text: 'Plan it.', thought: true },
      { text: 'Reading.' },
      { functionCall: { name: 'read_file', args: { file_path: 'a' }, id: 'call_1' } },
    ]);
    assert.equal(body.candidates[0]?.finishReason, 'STOP');
    assert.deepEqual(body.usageMetadata, {
      promptTokenCount: 10,
      candidatesTokenCount: 5,
      totalTokenCount: 18,
      thoughtsTokenCount: 3,
    });
  });

  it('streamGenerateContent without alt: a JSON array of responses', async () => {
    upstream.enqueue({ kind: 'sse', writes: TEXT_STREAM });
    const result = await call(`${base()}/gemini-2.5-pro:streamGenerateContent`, { body: USER });
    assert.equal(result.status, 200);
    assert.match(result.headers.get('content-type') ?? '', /application\/json/);
    const array = JSON.parse(result.text) as Array<{ candidates: Array<{ finishReason?: string }> }>;
    assert.equal(array.length, 2);
    assert.equal(array[1]?.candidates[0]?.finishReason, 'STOP');
  });

  it('alt values other than sse/json are a 400', async () => {
    const result = await call(`${base()}/m:streamGenerateContent?alt=proto`, { body: USER });
    assert.equal(result.status, 400);
    assert.equal(googleError(result).status, 'INVALID_ARGUMENT');
    assert.equal(upstream.received.length, 0);
  });

  it('bad input gets a Gemini-format 400 naming the problem, never a crash', async () => {
    const cases: Array<[unknown, RegExp]> = [
      ['{not json', /Invalid JSON payload/],
      ['[]', /JSON object/],
      [{}, /contents is not specified/],
      [{ contents: [{ parts: [{ text: 5 }] }] }, /contents\[0\]\.parts\[0\]\.text/],
      [{ contents: [{ parts: [{ functionCall: { args: {} } }] }] }, /functionCall\.name/],
      [{ contents: 'hello' }, /Content object/],
      [{ ...USER, generationConfig: { temperature: 'hot' } }, /generationConfig\.temperature/],
      [{ ...USER, cachedContent: 'cachedContents/x' }, /cachedContent/],
      [{ ...USER, generationConfig: { responseModalities: ['IMAGE'] } }, /responseModalities/],
      [{ ...USER, tools: [{ googleSearch: {} }] }, /not available through this proxy/],
    ];
    for (const [body, pattern] of cases) {
      const result = await call(`${base()}/m:generateContent`, { body });
      assert.equal(result.status, 400, `${JSON.stringify(body)} → ${result.text}`);
      const error = googleError(result);
      assert.equal(error.status, 'INVALID_ARGUMENT');
      assert.match(error.message, pattern);
      assert.doesNotMatch(result.text, /at .*\.js:\d+/, 'no stack trace');
    }
    assert.equal(upstream.received.length, 0);
    const empty = await call(`${base()}/m:generateContent`, { body: '' });
    assert.equal(empty.status, 400);
  });

  it('unknown routes and methods are Google-shaped 404s', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/v1beta/models/m:fooBar'],
      ['POST', '/v1beta/models/m'],
      ['GET', '/v1beta/files'],
      ['DELETE', '/v1beta/models/m'],
    ]) {
      const result = await call(`${rig.proxy.url}${path}`, {
        method: method ?? 'GET',
        ...(method === 'POST' ? { body: USER } : {}),
      });
      assert.equal(result.status, 404, `${method} ${path}`);
      assert.equal(googleError(result).status, 'NOT_FOUND');
    }
  });

  it('models.list pages without an empty nextPageToken; models.get keeps colons; tunedModels', async () => {
    const first = await call(`${base()}?pageSize=3`);
    const page = first.json() as { models: Array<{ name: string }>; nextPageToken?: string };
    assert.equal(page.models.length, 3);
    assert.equal(page.nextPageToken, '3');
    const names: string[] = [];
    let token: string | undefined = '';
    for (let guard = 0; guard < 50 && token !== undefined; guard += 1) {
      const next = (await call(`${base()}?pageSize=4${token ? `&pageToken=${token}` : ''}`)).json() as {
        models: Array<{ name: string }>;
        nextPageToken?: string;
      };
      assert.notEqual(next.nextPageToken, '');
      names.push(...next.models.map((model) => model.name));
      token = next.nextPageToken;
    }
    assert.equal(token, undefined, 'the pager terminates');
    assert.ok(
      names.includes('models/gemini-2.5-pro') &&
        names.includes('models/qwen3:8b') &&
        names.includes('models/gemini-3.8-flash'),
    );
    const model = (await call(`${base()}/qwen3:8b`)).json() as { name: string; displayName: string };
    assert.equal(model.name, 'models/qwen3:8b');
    assert.equal((await call(`${rig.proxy.url}/v1/tunedModels`)).text, '{}');
    assert.equal((await call(`${rig.proxy.url}/v1/tunedModels/abc`)).status, 404);
  });

  it('countTokens: both body forms, never calls the upstream', async () => {
    const plain = await call(`${base()}/gemini-2.5-pro:countTokens`, {
      body: { contents: [{ parts: [{ text: 'hello world, how are you today?' }] }] },
    });
    assert.equal(plain.status, 200);
    const plainCount = (plain.json() as { totalTokens: number }).totalTokens;
    assert.ok(plainCount > 5 && plainCount < 30, String(plainCount));
    const full = await call(`${base()}/gemini-2.5-pro:countTokens`, {
      body: {
        generateContentRequest: {
          model: 'models/gemini-2.5-pro',
          contents: [{ parts: [{ text: 'hello world, how are you today?' }] }],
          systemInstruction: { parts: [{ text: 'You are a very helpful assistant with many words.' }] },
          tools: [{ googleSearch: {} }],
        },
      },
    });
    assert.ok((full.json() as { totalTokens: number }).totalTokens > plainCount);
    const image = await call(`${base()}/gemini-2.5-pro:countTokens`, {
      body: { contents: [{ parts: [{ inlineData: { mimeType: 'image/png', data: 'AAAA' } }] }] },
    });
    assert.ok((image.json() as { totalTokens: number }).totalTokens >= 258);
    assert.equal(upstream.received.length, 0);
  });

  it('embedContent and batchEmbedContents → /embeddings, order kept', async () => {
    upstream.setFallback({
      kind: 'dynamic',
      respond: (request) => {
        const input = (request.body as { input: string[] }).input;
        return {
          kind: 'json',
          body: {
            object: 'list',
            data: input.map((_, index) => ({ object: 'embedding', index, embedding: [index, 0.5] })).reverse(),
            model: 'embed-model',
          },
        };
      },
    });
    const single = await call(`${base()}/gemini-embedding-001:embedContent`, {
      body: { content: { parts: [{ text: 'alpha' }] }, taskType: 'RETRIEVAL_DOCUMENT', outputDimensionality: 2 },
    });
    assert.deepEqual(single.json(), { embedding: { values: [0, 0.5] } });
    assert.deepEqual(upstream.received[0]?.body, {
      model: 'embed-model',
      input: ['alpha'],
      encoding_format: 'float',
      dimensions: 2,
    });
    const batch = await call(`${base()}/gemini-embedding-001:batchEmbedContents`, {
      body: {
        requests: ['a', 'b', 'c'].map((text) => ({
          model: 'models/gemini-embedding-001',
          content: { parts: [{ text }] },
        })),
      },
    });
    assert.deepEqual(batch.json(), { embeddings: [{ values: [0, 0.5] }, { values: [1, 0.5] }, { values: [2, 0.5] }] });
    const image = await call(`${base()}/gemini-embedding-001:embedContent`, {
      body: { content: { parts: [{ inlineData: { mimeType: 'image/png', data: 'AA' } }] } },
    });
    assert.equal(image.status, 400);
    upstream.setFallback({
      kind: 'json',
      status: 404,
      body: {
        error: {
          message: 'Unknown request URL: POST /openai/v1/embeddings.',
          type: 'invalid_request_error',
          code: 'unknown_url',
        },
      },
    });
    const missing = await call(`${base()}/gemini-embedding-001:embedContent`, {
      body: { content: { parts: [{ text: 'x' }] } },
    });
    assert.equal(missing.status, 404, missing.text);
    assert.match(googleError(missing).message, /not supported for embedContent/);
  });

  it('upstream error bodies map to statuses Gemini CLI treats right', async () => {
    const cases: Array<{
      status: number;
      body: unknown;
      headers?: Record<string, string>;
      expect: number;
      rpc: string;
      retryDelay?: string;
    }> = [
      {
        status: 429,
        body: { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } },
        headers: { 'retry-after': '7' },
        expect: 429,
        rpc: 'RESOURCE_EXHAUSTED',
        retryDelay: '7s',
      },
      {
        status: 429,
        body: {
          error: {
            message: 'You exceeded your current quota, please check your plan and billing details.',
            type: 'insufficient_quota',
            param: null,
            code: 'insufficient_quota',
          },
        },
        expect: 400,
        rpc: 'FAILED_PRECONDITION',
      },
      {
        status: 429,
        body: { error: { code: '1113', message: 'Insufficient balance or no resource package. Please recharge.' } },
        expect: 400,
        rpc: 'FAILED_PRECONDITION',
      },
      {
        status: 402,
        body: {
          error: { message: 'Insufficient Balance', type: 'unknown_error', param: null, code: 'invalid_request_error' },
        },
        expect: 400,
        rpc: 'FAILED_PRECONDITION',
      },
      {
        status: 429,
        body: {
          error: {
            message: 'The engine is currently overloaded, please try again later',
            type: 'engine_overloaded_error',
          },
        },
        expect: 503,
        rpc: 'UNAVAILABLE',
      },
      {
        status: 429,
        body: { error: { code: '429', message: 'Rate limit is exceeded. Try again in 2 seconds.' } },
        expect: 429,
        rpc: 'RESOURCE_EXHAUSTED',
        retryDelay: '2s',
      },
      {
        status: 429,
        body: {
          error: {
            code: '429',
            message:
              'Requests … have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 86400 seconds.',
          },
        },
        expect: 429,
        rpc: 'RESOURCE_EXHAUSTED',
        retryDelay: '86400s',
      },
      {
        status: 401,
        body: { error: { message: 'Invalid Authentication', type: 'invalid_authentication_error' } },
        expect: 403,
        rpc: 'PERMISSION_DENIED',
      },
      {
        status: 400,
        body: {
          error: {
            message: "This model's maximum context length is 32768 tokens.",
            type: 'invalid_request_error',
            code: 'context_length_exceeded',
          },
        },
        expect: 400,
        rpc: 'INVALID_ARGUMENT',
      },
      {
        status: 500,
        body: { error: { code: 500, message: 'tools param requires --jinja flag', type: 'server_error' } },
        expect: 400,
        rpc: 'INVALID_ARGUMENT',
      },
      {
        status: 500,
        body: { error: { message: 'The server had an error', type: 'server_error' } },
        expect: 503,
        rpc: 'UNAVAILABLE',
      },
      {
        status: 404,
        body: { error: { message: 'model "gemma3:12b" not found, try pulling it first', type: 'not_found_error' } },
        expect: 404,
        rpc: 'NOT_FOUND',
      },
      {
        status: 400,
        body: {
          object: 'error',
          message: "[{'type': 'extra_forbidden'}]",
          type: 'BadRequestError',
          param: null,
          code: 400,
        },
        expect: 400,
        rpc: 'INVALID_ARGUMENT',
      },
      { status: 502, body: '<html>Bad gateway</html>', expect: 503, rpc: 'UNAVAILABLE' },
    ];
    for (const testCase of cases) {
      for (const stream of [false, true]) {
        upstream.enqueue(
          typeof testCase.body === 'string'
            ? { kind: 'text', status: testCase.status, body: testCase.body }
            : {
                kind: 'json',
                status: testCase.status,
                body: testCase.body,
                ...(testCase.headers ? { headers: testCase.headers } : {}),
              },
        );
        const result = await call(`${base()}/m:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`, {
          body: USER,
        });
        const label = `${testCase.status} ${JSON.stringify(testCase.body).slice(0, 60)} stream=${stream}`;
        assert.equal(result.status, testCase.expect, `${label} → ${result.text}`);
        const error = googleError(result);
        assert.equal(error.status, testCase.rpc, label);
        const retry = error.details?.find((detail) => detail['@type'] === 'type.googleapis.com/google.rpc.RetryInfo');
        assert.equal(retry?.['retryDelay'], testCase.retryDelay, label);
        // [R-ERR-8]: one sentence naming the upstream and its status; the status and type again in ErrorInfo.
        assert.match(error.message, new RegExp(`^Upstream generic .*\\(${testCase.status}\\b`), label);
        assertOneSentence(error.message, label);
        const info = error.details?.find((detail) => detail['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo');
        const metadata = info?.['metadata'] as Record<string, string> | undefined;
        assert.equal(info?.['domain'], 'gemini-proxy', label);
        assert.equal(metadata?.['upstream_status'], String(testCase.status), label);
        assert.equal(metadata?.['provider'], 'generic', label);
      }
    }
  });

  it('an unreachable upstream is a terminal 400 FAILED_PRECONDITION naming it, for unary and stream', async () => {
    const dead = await startProxy({ openai_base_url: 'http://127.0.0.1:9/v1', default_openai_model: 'm' });
    try {
      for (const path of ['m:generateContent', 'm:streamGenerateContent?alt=sse']) {
        const result = await call(`${dead.url}/v1beta/models/${path}`, { body: USER });
        assert.equal(result.status, 400, 'nothing listening will not heal by retrying: not a status clients retry');
        assert.equal(googleError(result).status, 'FAILED_PRECONDITION');
        assert.match(
          googleError(result).message,
          /^Upstream generic at http:\/\/127\.0\.0\.1:9\/v1 refused the connection \(nothing listens there\): check that the server is running/,
        );
        assertOneSentence(googleError(result).message);
      }
    } finally {
      await dead.stop();
    }
  });

  it('an upstream error event before any output: 200 then the raw error object, unframed', async () => {
    upstream.enqueue({
      kind: 'sse',
      writes: [
        'data: {"error":{"message":"The server had an error processing your request.","type":"server_error","param":null,"code":null}}\n\n',
        'data: [DONE]\n\n',
      ],
    });
    const result = await call(`${base()}/m:streamGenerateContent?alt=sse`, { body: USER });
    assert.equal(result.status, 200);
    const body = JSON.parse(result.text.trim()) as { error: { code: number; status: string } };
    assert.equal(body.error.code, 503);
    assert.equal(body.error.status, 'UNAVAILABLE');
    assert.ok(!result.text.includes('data:'));
  });

  it('an upstream error event after output: the text once, then the raw error object with the mapped status ([R-FIN-5])', async () => {
    upstream.enqueue({
      kind: 'sse',
      writes: [
        ...TEXT_STREAM.slice(0, 1),
        'event: error\ndata: {"error":{"message":"Failed to call a function.","type":"invalid_request_error","code":"tool_use_failed","status_code":400}}\n\n',
      ],
    });
    const text = (await call(`${base()}/m:streamGenerateContent?alt=sse`, { body: USER })).text;
    const events = sseEvents(text);
    assert.equal(events.length, 1);
    assert.equal(
      (events[0] as { candidates: Array<{ finishReason?: string }> }).candidates[0]?.finishReason,
      undefined,
    );
    const tail = JSON.parse(text.slice(text.lastIndexOf('\r\n\r\n') + 4)) as {
      error: { code: number; status: string; message: string };
    };
    assert.equal(tail.error.code, 400);
    assert.equal(tail.error.status, 'INVALID_ARGUMENT');
    assert.match(tail.error.message, /Failed to call a function/);
  });

  it('a connection dropped mid-stream ends with the raw 503 error object; dropped before any output is a 503 error object', async () => {
    upstream.enqueue({ kind: 'sse', writes: TEXT_STREAM.slice(0, 1), endAfter: false, destroyAfter: true });
    let text = (await call(`${base()}/m:streamGenerateContent?alt=sse`, { body: USER })).text;
    assert.equal(sseEvents(text).length, 1);
    assert.deepEqual(lastErrorObject(text), { code: 503, status: 'UNAVAILABLE' });
    upstream.enqueue({ kind: 'sse', writes: TEXT_STREAM.slice(0, 1), endAfter: false, destroyAfter: true });
    text = (await call(`${base()}/m:streamGenerateContent`, { body: USER })).text;
    const array = JSON.parse(text) as Array<{ error?: { code: number } }>;
    assert.equal(array.length, 2, 'a JSON-array stream ends with an error element');
    assert.equal(array[1]?.error?.code, 503);
    upstream.enqueue({ kind: 'sse', writes: [': keep-alive\n\n'], endAfter: false, destroyAfter: true });
    const result = await call(`${base()}/m:streamGenerateContent?alt=sse`, { body: USER });
    assert.equal((JSON.parse(result.text.trim()) as { error: { code: number } }).error.code, 503);
  });

  it('a stream that ends without finish_reason but with [DONE] ends with STOP; a non-JSON event after output is a raw 502 error', async () => {
    upstream.enqueue({ kind: 'sse', writes: [...TEXT_STREAM.slice(0, 1), 'data: [DONE]\n\n'] });
    const events = sseEvents((await call(`${base()}/m:streamGenerateContent?alt=sse`, { body: USER })).text);
    assert.equal(
      (events.at(-1) as { candidates: Array<{ finishReason: string }> }).candidates[0]?.finishReason,
      'STOP',
    );
    upstream.enqueue({ kind: 'sse', writes: [...TEXT_STREAM.slice(0, 1), 'data: {oops\n\n'] });
    const text = (await call(`${base()}/m:streamGenerateContent?alt=sse`, { body: USER })).text;
    assert.deepEqual(lastErrorObject(text), { code: 502, status: 'UNAVAILABLE' });
  });

  it('a slow upstream: headers and heartbeats go out before its first byte ([R-TO-1], [R-TO-2])', async () => {
    // The upstream says nothing, headers included, until the test has seen the proxy commit and send a heartbeat.
    const upstreamAnswers = gate();
    upstream.enqueue({ kind: 'sse', writes: TEXT_STREAM, startWhen: upstreamAnswers.opened });
    const response = await fetch(`${base()}/m:streamGenerateContent?alt=sse`, {
      method: 'POST',
      body: JSON.stringify(USER),
    });
    assert.equal(response.status, 200, 'committed while the upstream had not answered');
    const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
    assert.ok(reader !== undefined);
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('\r\n')) {
      const { value, done } = await reader.read();
      assert.equal(done, false, 'the stream ended before a heartbeat');
      text += decoder.decode(value, { stream: true });
    }
    assert.equal(upstream.received.length, 1);
    assert.match(text, /^(\r\n)+$/, 'only heartbeat line breaks before the upstream answers');
    upstreamAnswers.open();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      text += decoder.decode(chunk.value, { stream: true });
    assert.ok(text.startsWith('\r\n'), 'heartbeat line breaks before the first event');
    assert.equal(sseEvents(text).length, 2);

    upstream.enqueue({ kind: 'stall' });
    const unaryStarted = Date.now();
    const unary = await fetch(`${base()}/m:generateContent`, { method: 'POST', body: JSON.stringify(USER) });
    const headersAfter = Date.now() - unaryStarted;
    assert.equal(unary.status, 200, 'a unary request commits 200 after the commit delay');
    // Not before the 0.4 s commit delay; the upper bound only tells the commit from waiting for the stalled upstream.
    assert.ok(headersAfter >= 350 && headersAfter < 15_000, `unary headers after ${headersAfter} ms`);
    await unary.body?.cancel();
  });

  it('an upstream that stalls mid-stream is given up after the idle timeout: raw 504 error object (SSE) and error body (unary)', async () => {
    upstream.enqueue({ kind: 'sse', writes: TEXT_STREAM.slice(0, 1), endAfter: false });
    const started = Date.now();
    const text = (await call(`${base()}/m:streamGenerateContent?alt=sse`, { body: USER })).text;
    const took = Date.now() - started;
    // Given up after the 2 s idle timeout: not before it, and well before the stall would end (never).
    assert.ok(took >= 1900 && took < 15_000, `gave up after ${took} ms`);
    assert.equal(sseEvents(text).length, 1);
    assert.deepEqual(lastErrorObject(text), { code: 504, status: 'DEADLINE_EXCEEDED' });
  });

  it('a client disconnect aborts the upstream request at once (well before the 5 s stream would end)', async () => {
    upstream.enqueue({
      kind: 'sse',
      writes: [...TEXT_STREAM.slice(0, 1), ...Array.from({ length: 50 }, () => TEXT_STREAM[0] ?? '')],
      delayMs: 100,
    });
    const closedAt = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        `${base()}/m:streamGenerateContent?alt=sse`,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (response) => {
          response.once('data', () => {
            const at = Date.now();
            request.destroy();
            resolve(at);
          });
        },
      );
      request.on('error', () => undefined);
      request.end(JSON.stringify(USER));
      setTimeout(() => reject(new Error('no data')), WAIT_DEADLINE_MS).unref();
    });
    const upstreamClosed = await waitFor(() => upstream.closedAt[0], 'the upstream connection to close');
    // The upstream would stream for 5 s more; 1 s leaves room for a busy machine's scheduling (typically 1-5 ms,
    // the fault matrix holds the median to 100 ms).
    assert.ok(upstreamClosed - closedAt < 1000, `upstream closed ${upstreamClosed - closedAt} ms after the client`);
  });

  it('an oversized body is a 413 in the Gemini format', async () => {
    const small = await startProxy({
      openai_base_url: upstream.baseUrl,
      default_openai_model: 'm',
      server: { host: '127.0.0.1', port: 0, body_limit_mb: 0.01 },
    });
    try {
      const result = await call(`${small.url}/v1beta/models/m:generateContent`, {
        body: { contents: [{ parts: [{ text: 'x'.repeat(20_000) }] }] },
      });
      assert.equal(result.status, 413);
      assert.equal(googleError(result).status, 'INVALID_ARGUMENT');
    } finally {
      await small.stop();
    }
  });

  it('detailed logs: four stages per request, no key anywhere; the access line names the model', async () => {
    const files = (): string[] => {
      const found: string[] = [];
      const walk = (directory: string): void => {
        for (const entry of readdirSync(directory)) {
          const path = join(directory, entry);
          if (statSync(path).isDirectory()) walk(path);
          else found.push(path);
        }
      };
      walk(logDirectory);
      return found.sort();
    };
    const known = accessLines(rig.proxy).length;
    upstream.enqueue({ kind: 'sse', writes: TEXT_STREAM });
    await call(`${base()}/gemini-2.5-pro:streamGenerateContent?alt=sse&key=client-key-in-query`, {
      body: USER,
      headers: { 'x-goog-api-key': 'client-key-in-header' },
    });
    const line = await waitForAccessLine(rig.proxy, /Model: gemini-2\.5-pro → big-model \(stream\)/, known);
    const requestId = /ID: (\S+)/.exec(line)?.[1];
    // The trace is written after the response closed: wait for this request's file, complete.
    const trace = await waitFor(
      () => {
        for (const file of files()) {
          try {
            const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
            if (parsed['request_id'] === requestId) return parsed;
          } catch {
            // still being written
          }
        }
        return undefined;
      },
      `the detailed log file of request ${String(requestId)}`,
    );
    for (const stage of ['1_GEMINI_REQUEST', '2_OPENAI_REQUEST', '3_OPENAI_RESPONSE', '4_GEMINI_RESPONSE'])
      assert.ok(trace[stage] !== undefined, stage);
    const everything =
      files()
        .map((file) => readFileSync(file, 'utf8'))
        .join('\n') + rig.proxy.logLines.join('\n');
    for (const secret of ['sk-upstream-SECRET-1234', 'client-key-in-query', 'client-key-in-header'])
      assert.ok(!everything.includes(secret), `${secret} leaked`);
  });

  it('health: the seed body plus upstream detail', async () => {
    const health = (await call(`${rig.proxy.url}/health`)).json();
    // The failure cases above make model m fail recently: liveness stays 200 and says so (failure-paths.test.ts
    // covers degraded → healthy).
    assert.equal(health['status'], 'degraded');
    assert.ok(Array.isArray(health['failing']) && health['failing'].length > 0, JSON.stringify(health['failing']));
    assert.equal(health['service'], 'gemini-proxy');
    assert.equal((health['upstream'] as { base_url: string }).base_url, upstream.baseUrl);
  });
});

describe('client keys, base path, v1', () => {
  let upstream: ScriptedUpstream;
  let proxy: RunningProxy;
  before(async () => {
    upstream = await new ScriptedUpstream().start();
    upstream.setFallback({ kind: 'sse', writes: TEXT_STREAM });
    proxy = await startProxy({
      openai_base_url: upstream.baseUrl,
      openai_api_key: 'sk-up-key-0000',
      default_openai_model: 'm',
      client_api_keys: ['client-key-aaaa', 'client-key-bbbb'],
      server: { host: '127.0.0.1', port: 0, base_path: '/gem/' },
    });
  });
  after(async () => {
    await proxy.stop();
    await upstream.stop();
  });

  it('requires a configured key in x-goog-api-key, Bearer or ?key=; never forwards it', async () => {
    const url = `${proxy.url}/gem/v1/models/gemini-3.8-flash:streamGenerateContent?alt=sse`;
    const missing = await call(url, { body: USER });
    assert.equal(missing.status, 400);
    const error = googleError(missing);
    assert.equal(error.status, 'INVALID_ARGUMENT');
    assert.equal(error.details?.[0]?.['reason'], 'API_KEY_INVALID');
    assert.equal((await call(url, { body: USER, headers: { 'x-goog-api-key': 'client-key-wrong' } })).status, 400);
    assert.equal((await call(url, { body: USER, headers: { 'x-goog-api-key': 'client-key-aaaa' } })).status, 200);
    assert.equal((await call(url, { body: USER, headers: { authorization: 'Bearer client-key-bbbb' } })).status, 200);
    assert.equal((await call(`${url}&key=client-key-aaaa`, { body: USER })).status, 200);
    for (const received of upstream.received) {
      assert.equal(received.headers.authorization, 'Bearer sk-up-key-0000');
      assert.ok(!JSON.stringify(received.headers).includes('client-key'));
    }
    assert.equal(
      (
        await call(`${proxy.url}/v1/models/m:generateContent`, {
          body: USER,
          headers: { 'x-goog-api-key': 'client-key-aaaa' },
        })
      ).status,
      404,
      'outside the base path',
    );
    assert.equal((await call(`${proxy.url}/gem/health`)).status, 200, 'health needs no key');
  });
});
