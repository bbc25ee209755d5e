/**
 * End-to-end through the real Google Gen AI SDKs: `@google/genai` 1.30.0 (the version Gemini CLI 0.61 bundles) and
 * `genai-latest` (an npm alias for @google/genai 2.32.0). Every scenario runs against both. The SDK talks to the real
 * proxy over HTTP; the proxy talks to a scripted OpenAI-compatible upstream, which records what it received.
 *
 * A tap on globalThis.fetch (both SDKs call the global fetch at request time; the proxy uses undici.request and is not
 * seen by the tap) records what each SDK sent, so each test can also check its own premise (e.g. the SDK really sent
 * upper-case schema types, or really called :batchEmbedContents).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import * as sdk130 from '@google/genai';
import * as sdkLatest from 'genai-latest';
import { GEMINI_CLI_MODEL_NAMES } from '../../src/config/model-mapping.js';
import { sseFromChunks, type ReceivedRequest } from '../support/scripted-upstream.js';
import { proxyOverUpstream } from '../support/proxy.js';

// ---------------------------------------------------------------------------------------------------------------
// The slice of the SDK surface these tests use. Both real modules are checked against it by the compiler below.

interface SdkFunctionCall {
  id?: string;
  name?: string;
  args?: Record<string, unknown>;
}

interface SdkPart {
  text?: string;
  thought?: boolean;
  functionCall?: SdkFunctionCall;
}

interface SdkCandidate {
  content?: { role?: string; parts?: SdkPart[] };
  finishReason?: string;
  index?: number;
}

interface SdkUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  totalTokenCount?: number;
}

interface SdkResponse {
  readonly text: string | undefined;
  readonly functionCalls: SdkFunctionCall[] | undefined;
  candidates?: SdkCandidate[];
  usageMetadata?: SdkUsage;
  modelVersion?: string;
  responseId?: string;
}

interface SdkModel {
  name?: string;
  displayName?: string;
  description?: string;
  inputTokenLimit?: number;
  supportedActions?: string[];
}

interface GenerateParams {
  model: string;
  contents: unknown;
  config?: object;
}

interface SdkModels {
  generateContent(params: GenerateParams): Promise<SdkResponse>;
  generateContentStream(params: GenerateParams): Promise<AsyncGenerator<SdkResponse>>;
  countTokens(params: { model: string; contents: unknown }): Promise<{ totalTokens?: number }>;
  embedContent(params: {
    model: string;
    contents: unknown;
    config?: object;
  }): Promise<{ embeddings?: Array<{ values?: number[] }> }>;
  list(params?: { config?: object }): Promise<AsyncIterable<SdkModel | undefined>>;
  get(params: { model: string }): Promise<SdkModel>;
}

type ApiErrorLike = Error & { status: number };

interface SdkUnderTest {
  label: string;
  version: string;
  makeClient(baseUrl: string): { models: SdkModels };
  ApiError: new (options: { message: string; status: number }) => ApiErrorLike;
  Type: { OBJECT: string; STRING: string; INTEGER: string; NUMBER: string; ARRAY: string; BOOLEAN: string };
}

const SDKS: SdkUnderTest[] = [
  {
    label: '@google/genai 1.30.0',
    version: '1.30.0',
    makeClient: (baseUrl) => new sdk130.GoogleGenAI({ vertexai: false, apiKey: 'test-key', httpOptions: { baseUrl } }),
    ApiError: sdk130.ApiError,
    Type: sdk130.Type,
  },
  {
    label: 'genai-latest (@google/genai 2.32.0)',
    version: '2.32.0',
    makeClient: (baseUrl) =>
      new sdkLatest.GoogleGenAI({ vertexai: false, apiKey: 'test-key', httpOptions: { baseUrl } }),
    ApiError: sdkLatest.ApiError,
    Type: sdkLatest.Type,
  },
];

// ---------------------------------------------------------------------------------------------------------------
// What the upstream received, typed just enough to assert on.

interface UpstreamToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

interface UpstreamMessage {
  role: string;
  content?: unknown;
  tool_calls?: UpstreamToolCall[];
  tool_call_id?: string;
}

interface UpstreamChatBody {
  model: string;
  messages: UpstreamMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: Array<{
    type: string;
    function: { name: string; description?: string; parameters: Record<string, unknown> };
  }>;
  response_format?: { type: string; json_schema?: { name: string; schema: Record<string, unknown>; strict?: boolean } };
  temperature?: number;
  max_tokens?: number;
}

interface UpstreamEmbeddingsBody {
  model: string;
  input: string[];
  dimensions?: number;
}

function chatBody(request: ReceivedRequest | undefined): UpstreamChatBody {
  assert.ok(request !== undefined, 'the upstream received no request');
  assert.equal(request.method, 'POST');
  assert.equal(request.url, '/v1/chat/completions');
  assert.equal(typeof request.body, 'object', `upstream body is not JSON: ${request.rawBody}`);
  return request.body as UpstreamChatBody;
}

// ---------------------------------------------------------------------------------------------------------------
// Upstream script builders (OpenAI Chat Completions shapes).

const CHUNK_ID = 'chatcmpl-e2e';

function chunk(delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> {
  return {
    id: CHUNK_ID,
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'up-model',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

function usageChunk(usage: Record<string, unknown>): Record<string, unknown> {
  return {
    id: CHUNK_ID,
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'up-model',
    choices: [],
    usage,
  };
}

function completion(
  model: string,
  message: Record<string, unknown>,
  finishReason: string,
  usage: Record<string, unknown>,
): Record<string, unknown> {
  return {
    id: 'chatcmpl-unary',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason }],
    usage,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers on the SDK side.

interface SdkRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: unknown;
}

interface StreamOutcome {
  chunks: SdkResponse[];
  error: unknown;
}

async function drain(open: () => Promise<AsyncGenerator<SdkResponse>>): Promise<StreamOutcome> {
  const chunks: SdkResponse[] = [];
  try {
    for await (const response of await open()) chunks.push(response);
  } catch (error) {
    return { chunks, error };
  }
  return { chunks, error: undefined };
}

function partsOf(response: SdkResponse): SdkPart[] {
  return response.candidates?.[0]?.content?.parts ?? [];
}

function finishReasons(chunks: SdkResponse[]): Array<string | undefined> {
  return chunks.map((response) => response.candidates?.[0]?.finishReason);
}

function visibleText(chunks: SdkResponse[]): string {
  return chunks
    .flatMap(partsOf)
    .filter((part) => part.thought !== true && part.text !== undefined)
    .map((part) => part.text)
    .join('');
}

/** The SDK error's message holds the google.rpc.Status body as JSON, possibly after a "got status: X. " prefix. */
function errorBody(error: ApiErrorLike): {
  error: { code: number; status: string; message: string; details?: Array<Record<string, unknown>> };
} {
  const start = error.message.indexOf('{');
  assert.ok(start >= 0, `no JSON in the SDK error message: ${error.message}`);
  return JSON.parse(error.message.slice(start)) as {
    error: { code: number; status: string; message: string; details?: Array<Record<string, unknown>> };
  };
}

/** Every `type` value anywhere inside a JSON Schema (property names are skipped, they are data). */
function schemaTypes(schema: unknown): string[] {
  const found: string[] = [];
  const visit = (node: unknown, isMap: boolean): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item, false);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (!isMap && key === 'type') {
        for (const type of Array.isArray(value) ? value : [value]) if (typeof type === 'string') found.push(type);
      } else visit(value, !isMap && key === 'properties');
    }
  };
  visit(schema, false);
  return found;
}

// ---------------------------------------------------------------------------------------------------------------

describe('real Gemini SDKs through the proxy', () => {
  const rig = proxyOverUpstream({
    openai_api_key: 'sk-up',
    default_openai_model: 'up-model',
    model_mapping: {
      'gemini-2.5-flash': 'up-flash',
      'qwen3:8b': 'qwen3:8b-q4',
      'gemini-embedding-001': 'text-embedding-3-small',
    },
    logging: { enable_access_logs: false },
    // The error cases below must not open the circuit for the model every other test uses.
    circuit_breaker: { failure_threshold: 1000 },
    timeouts: { upstream_idle_seconds: 1 },
  });
  const upstream = rig.upstream;
  const sdkRequests: SdkRequest[] = [];
  const realFetch = globalThis.fetch;

  before(() => {
    const tap: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input.toString());
      if (url.origin === new URL(rig.proxy.url).origin) {
        let body: unknown = init?.body;
        if (typeof body === 'string') {
          try {
            body = JSON.parse(body);
          } catch {
            // keep the text
          }
        }
        sdkRequests.push({
          method: init?.method ?? (input instanceof Request ? input.method : 'GET'),
          url,
          headers: new Headers(init?.headers),
          body,
        });
      }
      return realFetch(input, init);
    };
    globalThis.fetch = tap;
  });

  after(() => {
    globalThis.fetch = realFetch;
  });

  beforeEach(() => {
    upstream.reset();
    sdkRequests.length = 0;
  });

  for (const sdk of SDKS) {
    describe(sdk.label, () => {
      let client: { models: SdkModels };
      before(() => {
        client = sdk.makeClient(rig.proxy.url);
      });

      it('is really that SDK version (x-goog-api-client)', async () => {
        upstream.enqueue({
          kind: 'json',
          body: completion('up-flash', { content: 'ok' }, 'stop', {
            prompt_tokens: 1,
            completion_tokens: 1,
            total_tokens: 2,
          }),
        });
        await client.models.generateContent({ model: 'gemini-2.5-flash', contents: 'ping' });
        assert.equal(sdkRequests.length, 1);
        assert.match(
          sdkRequests[0]?.headers.get('x-goog-api-client') ?? '',
          new RegExp(`google-genai-sdk/${sdk.version.replace(/\./g, '\\.')}\\b`),
        );
      });

      describe('models.generateContent', () => {
        it('returns the text, maps usage without double-counting reasoning, and reports a modelVersion', async () => {
          upstream.enqueue({
            kind: 'json',
            body: completion(
              'up-flash',
              { content: 'Hello from upstream', reasoning_content: 'the user wants a greeting' },
              'stop',
              {
                prompt_tokens: 21,
                completion_tokens: 15,
                total_tokens: 36,
                completion_tokens_details: { reasoning_tokens: 9 },
              },
            ),
          });
          const response = await client.models.generateContent({
            model: 'gemini-2.5-flash',
            contents: 'Say hello',
            config: { systemInstruction: 'Be brief.', temperature: 0.3, maxOutputTokens: 100 },
          });

          assert.equal(response.text, 'Hello from upstream');
          // includeThoughts was not asked for: no thought part reaches the client.
          assert.deepEqual(
            partsOf(response).filter((part) => part.thought === true),
            [],
          );
          assert.equal(response.candidates?.length, 1);
          assert.equal(response.candidates?.[0]?.finishReason, 'STOP');
          assert.equal(response.candidates?.[0]?.content?.role, 'model');
          // [R-USE-2]: candidates = completion - reasoning; reasoning reported once, as thoughts; total is the sum.
          assert.deepEqual(
            {
              prompt: response.usageMetadata?.promptTokenCount,
              candidates: response.usageMetadata?.candidatesTokenCount,
              thoughts: response.usageMetadata?.thoughtsTokenCount,
              total: response.usageMetadata?.totalTokenCount,
            },
            { prompt: 21, candidates: 6, thoughts: 9, total: 36 },
          );
          // [R-RES-2]: non-empty; the upstream model actually used (mapped name and reply model agree here).
          assert.equal(typeof response.modelVersion, 'string');
          assert.equal(response.modelVersion, 'up-flash');

          assert.equal(upstream.received.length, 1);
          const received = upstream.received[0];
          const body = chatBody(received);
          assert.equal(body.model, 'up-flash');
          assert.notEqual(body.stream, true);
          assert.deepEqual(body.messages, [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Say hello' },
          ]);
          assert.equal(body.temperature, 0.3);
          assert.equal(body.max_tokens, 100);
          assert.equal(received?.headers.authorization, 'Bearer sk-up');
          // [R-AUTH-2]: the client's key never travels upstream.
          assert.ok(!JSON.stringify(received?.headers).includes('test-key'), 'the client key was forwarded upstream');
        });

        it('JSON mode: upper-case responseSchema becomes json_schema with lower-case types; a fenced reply comes back as bare JSON', async () => {
          const { Type } = sdk;
          upstream.enqueue({
            kind: 'json',
            body: completion(
              'up-flash',
              {
                content:
                  'Sure! Here it is:\n```json\n{"city": "Paris", "population": 2100000, "tags": ["capital"]}\n```\nAnything else?',
              },
              'stop',
              { prompt_tokens: 40, completion_tokens: 20, total_tokens: 60 },
            ),
          });
          const response = await client.models.generateContent({
            model: 'gemini-2.5-flash',
            contents: 'Describe Paris as JSON.',
            config: {
              responseMimeType: 'application/json',
              responseSchema: {
                type: Type.OBJECT,
                properties: {
                  city: { type: Type.STRING, description: 'City name' },
                  population: { type: Type.INTEGER, nullable: true },
                  tags: { type: Type.ARRAY, items: { type: Type.STRING } },
                },
                required: ['city'],
                propertyOrdering: ['city', 'population', 'tags'],
              },
            },
          });

          // Premise: the SDK really sent Gemini Schema with upper-case types.
          const sent = sdkRequests[0]?.body as
            { generationConfig?: { responseSchema?: unknown; responseMimeType?: string } } | undefined;
          assert.equal(sent?.generationConfig?.responseMimeType, 'application/json');
          assert.ok(
            schemaTypes(sent?.generationConfig?.responseSchema).includes('OBJECT'),
            JSON.stringify(sent?.generationConfig),
          );

          assert.deepEqual(JSON.parse(response.text ?? ''), {
            city: 'Paris',
            population: 2_100_000,
            tags: ['capital'],
          });

          const format = chatBody(upstream.received[0]).response_format;
          assert.equal(format?.type, 'json_schema');
          const schema = format?.json_schema?.schema;
          assert.ok(schema !== undefined, JSON.stringify(format));
          const types = schemaTypes(schema);
          assert.ok(types.length >= 5, `types found: ${types.join(',')}`);
          assert.deepEqual(
            types.filter((type) => type !== type.toLowerCase()),
            [],
            `upper-case types reached the upstream: ${JSON.stringify(schema)}`,
          );
          assert.equal(schema['type'], 'object');
          const properties = schema['properties'] as Record<string, Record<string, unknown>>;
          assert.deepEqual(Object.keys(properties), ['city', 'population', 'tags']);
          assert.equal(properties['city']?.['type'], 'string');
          assert.deepEqual(properties['tags'], { type: 'array', items: { type: 'string' } });
          // nullable:true must survive as a null union, in either JSON Schema spelling.
          const population = properties['population'] ?? {};
          const nullable =
            (Array.isArray(population['type']) &&
              population['type'].includes('null') &&
              population['type'].includes('integer')) ||
            (Array.isArray(population['anyOf']) && JSON.stringify(population['anyOf']).includes('"null"'));
          assert.ok(nullable, `population lost its nullability: ${JSON.stringify(population)}`);
          assert.equal('nullable' in population, false);
          assert.deepEqual(schema['required'], ['city']);
        });

        it('unary with includeThoughts and a tool call: thought part first, then text, then the call with its upstream id', async () => {
          upstream.enqueue({
            kind: 'json',
            body: completion(
              'up-flash',
              {
                content: 'Checking the weather.',
                reasoning_content: 'Need the weather tool.',
                tool_calls: [
                  { id: 'call_u1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
                ],
              },
              'tool_calls',
              {
                prompt_tokens: 50,
                completion_tokens: 20,
                total_tokens: 70,
                completion_tokens_details: { reasoning_tokens: 8 },
              },
            ),
          });
          const response = await client.models.generateContent({
            model: 'gemini-2.5-flash',
            contents: 'Weather in Oslo?',
            config: {
              thinkingConfig: { includeThoughts: true },
              tools: [
                {
                  functionDeclarations: [
                    {
                      name: 'get_weather',
                      parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } } },
                    },
                  ],
                },
              ],
            },
          });
          const parts = partsOf(response);
          assert.deepEqual(
            parts.map((part) =>
              part.functionCall !== undefined ? 'call' : part.thought === true ? 'thought' : 'text',
            ),
            ['thought', 'text', 'call'],
            JSON.stringify(parts),
          );
          assert.equal(parts[0]?.text, 'Need the weather tool.');
          assert.equal(response.candidates?.[0]?.finishReason, 'STOP');
          assert.deepEqual(response.functionCalls, [{ id: 'call_u1', name: 'get_weather', args: { city: 'Oslo' } }]);
          assert.deepEqual(
            [
              response.usageMetadata?.candidatesTokenCount,
              response.usageMetadata?.thoughtsTokenCount,
              response.usageMetadata?.totalTokenCount,
            ],
            [12, 8, 70],
          );
        });

        it('addresses a model id containing a colon (qwen3:8b) exactly', async () => {
          upstream.enqueue({
            kind: 'json',
            body: completion('qwen3:8b-q4', { content: 'hi' }, 'stop', {
              prompt_tokens: 3,
              completion_tokens: 1,
              total_tokens: 4,
            }),
          });
          const response = await client.models.generateContent({ model: 'qwen3:8b', contents: 'hi' });
          assert.equal(response.text, 'hi');
          assert.equal(sdkRequests[0]?.url.pathname, '/v1beta/models/qwen3:8b:generateContent');
          assert.equal(chatBody(upstream.received[0]).model, 'qwen3:8b-q4');
        });
      });

      describe('models.generateContentStream', () => {
        it('concatenates text deltas and ends with exactly one finishReason carrying the usage', async () => {
          upstream.enqueue({
            kind: 'sse',
            writes: sseFromChunks([
              chunk({ role: 'assistant', content: '' }),
              chunk({ content: 'Hel' }),
              chunk({ content: 'lo, ' }),
              chunk({ content: 'world' }),
              chunk({}, 'stop'),
              usageChunk({ prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 }),
            ]),
          });
          const { chunks, error } = await drain(() =>
            client.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'greet the world' }),
          );
          assert.equal(error, undefined);
          assert.ok(chunks.length >= 2, `only ${chunks.length} chunks`);
          assert.equal(visibleText(chunks), 'Hello, world');
          assert.equal(chunks.map((response) => response.text ?? '').join(''), 'Hello, world');
          // [R-PART-2]: no empty text part (the upstream's role-only first delta must not produce one); the chunk with
          // the finish is the one exception, holding content for SDK 2.x chat history ([R-FIN-3]).
          assert.deepEqual(
            chunks
              .slice(0, -1)
              .flatMap(partsOf)
              .filter((part) => part.text === ''),
            [],
          );
          const reasons = finishReasons(chunks);
          assert.deepEqual(
            reasons.filter((reason) => reason !== undefined),
            ['STOP'],
          );
          assert.equal(reasons[reasons.length - 1], 'STOP');
          const last = chunks[chunks.length - 1];
          assert.deepEqual(last?.usageMetadata, { promptTokenCount: 12, candidatesTokenCount: 3, totalTokenCount: 15 });
          // [R-RES-3]: one responseId repeated on every chunk.
          assert.equal(new Set(chunks.map((response) => response.responseId)).size, 1);
          assert.ok(
            chunks.every((response) => typeof response.modelVersion === 'string' && response.modelVersion !== ''),
          );

          assert.equal(sdkRequests[0]?.url.search, '?alt=sse');
          const body = chatBody(upstream.received[0]);
          assert.equal(body.stream, true);
          assert.equal(body.stream_options?.include_usage, true);
          assert.deepEqual(body.messages, [{ role: 'user', content: 'greet the world' }]);
        });

        const reasoningScript = (): string[] =>
          sseFromChunks([
            chunk({ role: 'assistant', content: null, reasoning_content: '' }),
            chunk({ reasoning_content: '**Planning** Let me ' }),
            chunk({ reasoning_content: 'think.' }),
            chunk({ content: 'The answer' }),
            chunk({ content: ' is 42.' }),
            chunk({}, 'stop'),
            usageChunk({
              prompt_tokens: 30,
              completion_tokens: 25,
              total_tokens: 55,
              completion_tokens_details: { reasoning_tokens: 20 },
            }),
          ]);

        it('with includeThoughts: reasoning arrives as separate thought:true chunks before the text', async () => {
          upstream.enqueue({ kind: 'sse', writes: reasoningScript() });
          const { chunks, error } = await drain(() =>
            client.models.generateContentStream({
              model: 'gemini-2.5-flash',
              contents: 'What is the answer?',
              config: { thinkingConfig: { includeThoughts: true, thinkingBudget: 1024 } },
            }),
          );
          assert.equal(error, undefined);
          const thoughtChunks = chunks.filter((response) => partsOf(response).some((part) => part.thought === true));
          assert.ok(thoughtChunks.length >= 1, 'no thought chunk');
          // [R-THK-2]: a thought never shares a chunk with text or a call.
          for (const response of thoughtChunks) {
            assert.ok(
              partsOf(response).every(
                (part) => part.thought === true && typeof part.text === 'string' && part.text !== '',
              ),
              JSON.stringify(response.candidates),
            );
          }
          const firstText = chunks.findIndex((response) =>
            partsOf(response).some((part) => part.thought !== true && part.text !== undefined),
          );
          const lastThought = chunks.findLastIndex((response) =>
            partsOf(response).some((part) => part.thought === true),
          );
          assert.ok(firstText > lastThought, `thought chunk ${lastThought} comes after text chunk ${firstText}`);
          assert.equal(
            chunks
              .flatMap(partsOf)
              .filter((part) => part.thought === true)
              .map((part) => part.text)
              .join(''),
            '**Planning** Let me think.',
          );
          assert.equal(visibleText(chunks), 'The answer is 42.');
          // The SDK's own text getter skips thoughts.
          assert.equal(chunks.map((response) => response.text ?? '').join(''), 'The answer is 42.');
          assert.deepEqual(
            finishReasons(chunks).filter((reason) => reason !== undefined),
            ['STOP'],
          );
          const usage = chunks[chunks.length - 1]?.usageMetadata;
          assert.deepEqual(
            [usage?.promptTokenCount, usage?.candidatesTokenCount, usage?.thoughtsTokenCount, usage?.totalTokenCount],
            [30, 5, 20, 55],
          );
        });

        it('without includeThoughts: the same upstream reasoning is not shown', async () => {
          upstream.enqueue({ kind: 'sse', writes: reasoningScript() });
          const { chunks, error } = await drain(() =>
            client.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'What is the answer?' }),
          );
          assert.equal(error, undefined);
          assert.deepEqual(
            chunks.flatMap(partsOf).filter((part) => part.thought === true),
            [],
          );
          assert.equal(visibleText(chunks), 'The answer is 42.');
          assert.deepEqual(
            finishReasons(chunks).filter((reason) => reason !== undefined),
            ['STOP'],
          );
          assert.equal(chunks[chunks.length - 1]?.usageMetadata?.thoughtsTokenCount, 20);
        });

        it('JSON mode while streaming: a fenced reply split over deltas arrives as parseable JSON with one STOP', async () => {
          upstream.enqueue({
            kind: 'sse',
            writes: sseFromChunks([
              chunk({ role: 'assistant', content: '```json\n{"ok": ' }),
              chunk({ content: 'true, "n": [1, 2' }),
              chunk({ content: ']}\n```' }),
              chunk({}, 'stop'),
              usageChunk({ prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 }),
            ]),
          });
          const { chunks, error } = await drain(() =>
            client.models.generateContentStream({
              model: 'gemini-2.5-flash',
              contents: 'JSON please',
              config: {
                responseMimeType: 'application/json',
                responseJsonSchema: {
                  type: 'object',
                  properties: { ok: { type: 'boolean' }, n: { type: 'array', items: { type: 'integer' } } },
                },
              },
            }),
          );
          assert.equal(error, undefined, String(error));
          assert.deepEqual(JSON.parse(visibleText(chunks)), { ok: true, n: [1, 2] });
          assert.deepEqual(
            finishReasons(chunks).filter((reason) => reason !== undefined),
            ['STOP'],
          );
          assert.equal(chatBody(upstream.received[0]).response_format?.type, 'json_schema');
        });

        it('passes U+2028 / U+2029 through without breaking the SDK stream parser', async () => {
          const tricky = 'line one\u2028line two\u2029para \u2028end';
          upstream.enqueue({
            kind: 'sse',
            writes: sseFromChunks([
              chunk({ role: 'assistant', content: 'A\u2028' }),
              chunk({ content: tricky.slice(0, 12) }),
              chunk({ content: tricky.slice(12) }),
              chunk({}, 'stop'),
              usageChunk({ prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 }),
            ]),
          });
          const { chunks, error } = await drain(() =>
            client.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'separators \u2028 please' }),
          );
          assert.equal(error, undefined, String(error));
          assert.equal(visibleText(chunks), `A\u2028${tricky}`);
          assert.deepEqual(
            finishReasons(chunks).filter((reason) => reason !== undefined),
            ['STOP'],
          );
          // The request side carried it too.
          assert.deepEqual(chatBody(upstream.received[0]).messages, [
            { role: 'user', content: 'separators \u2028 please' },
          ]);

          upstream.enqueue({
            kind: 'json',
            body: completion('up-flash', { content: tricky }, 'stop', {
              prompt_tokens: 1,
              completion_tokens: 1,
              total_tokens: 2,
            }),
          });
          const unary = await client.models.generateContent({ model: 'gemini-2.5-flash', contents: 'again' });
          assert.equal(unary.text, tricky);
        });
      });

      describe('function calling', () => {
        it('round trip: Schema and JSON-Schema declarations, streamed call fragments, then call + response history paired by id', async () => {
          const { Type } = sdk;
          const docsSchema = {
            type: 'object',
            properties: {
              query: { type: 'string', description: 'What to look up' },
              limit: { type: 'integer', minimum: 1 },
            },
            required: ['query'],
            additionalProperties: false,
          };
          const tools = [
            {
              functionDeclarations: [
                {
                  name: 'get_weather',
                  description: 'Current weather for a city',
                  parameters: {
                    type: Type.OBJECT,
                    properties: {
                      city: { type: Type.STRING, description: 'City name' },
                      unit: { type: Type.STRING, enum: ['C', 'F'] },
                      days: { type: Type.INTEGER },
                    },
                    required: ['city'],
                  },
                },
                // '.' is legal in Gemini names but not upstream: exercises the reversible name map too.
                { name: 'docs.lookup', description: 'Search the docs', parametersJsonSchema: docsSchema },
              ],
            },
          ];

          let upstreamDocsName = '';
          upstream.enqueue({
            kind: 'dynamic',
            respond: (request) => {
              upstreamDocsName = (request.body as UpstreamChatBody).tools?.[1]?.function.name ?? '';
              return {
                kind: 'sse',
                writes: sseFromChunks([
                  chunk({
                    role: 'assistant',
                    content: null,
                    tool_calls: [
                      { index: 0, id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: '' } },
                    ],
                  }),
                  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
                  chunk({ tool_calls: [{ index: 0, function: { arguments: ' "Paris", "unit"' } }] }),
                  chunk({ tool_calls: [{ index: 0, function: { arguments: ': "C"}' } }] }),
                  chunk({
                    tool_calls: [
                      {
                        index: 1,
                        id: 'call_d2',
                        type: 'function',
                        function: { name: upstreamDocsName, arguments: '{"query": "sse fr' },
                      },
                    ],
                  }),
                  chunk({ tool_calls: [{ index: 1, function: { arguments: 'aming", "limit": 2}' } }] }),
                  chunk({}, 'tool_calls'),
                  usageChunk({ prompt_tokens: 80, completion_tokens: 30, total_tokens: 110 }),
                ]),
              };
            },
          });

          const { chunks, error } = await drain(() =>
            client.models.generateContentStream({
              model: 'gemini-2.5-flash',
              contents: 'Weather in Paris, and find SSE docs.',
              config: { tools },
            }),
          );
          assert.equal(error, undefined, String(error));

          // Premise: what the SDK sent for the two declaration styles.
          const sentTools = (
            sdkRequests[0]?.body as
              { tools?: Array<{ functionDeclarations?: Array<Record<string, unknown>> }> } | undefined
          )?.tools;
          const sentDeclarations = sentTools?.[0]?.functionDeclarations ?? [];
          assert.ok(
            schemaTypes(sentDeclarations[0]?.['parameters']).includes('OBJECT'),
            JSON.stringify(sentDeclarations[0]),
          );
          assert.deepEqual(sentDeclarations[1]?.['parametersJsonSchema'], docsSchema);

          // What the upstream was offered.
          const first = chatBody(upstream.received[0]);
          assert.equal(first.tools?.length, 2);
          const weather = first.tools?.[0]?.function;
          assert.equal(weather?.name, 'get_weather');
          assert.equal(weather?.description, 'Current weather for a city');
          assert.deepEqual(weather?.parameters, {
            type: 'object',
            properties: {
              city: { type: 'string', description: 'City name' },
              unit: { type: 'string', enum: ['C', 'F'] },
              days: { type: 'integer' },
            },
            required: ['city'],
          });
          assert.match(upstreamDocsName, /^[a-zA-Z0-9_-]{1,64}$/, `upstream tool name ${upstreamDocsName}`);
          assert.deepEqual(first.tools?.[1]?.function.parameters, docsSchema);

          // [R-FC-1]/[R-FC-3]: the calls arrive once, complete, in one chunk with the single STOP.
          const callChunks = chunks.filter((response) =>
            partsOf(response).some((part) => part.functionCall !== undefined),
          );
          assert.equal(callChunks.length, 1, `calls spread over ${callChunks.length} chunks`);
          assert.deepEqual(
            finishReasons(chunks).filter((reason) => reason !== undefined),
            ['STOP'],
          );
          assert.equal(callChunks[0]?.candidates?.[0]?.finishReason, 'STOP');
          const calls = callChunks[0]?.functionCalls ?? [];
          assert.deepEqual(calls, [
            { id: 'call_w1', name: 'get_weather', args: { city: 'Paris', unit: 'C' } },
            { id: 'call_d2', name: 'docs.lookup', args: { query: 'sse framing', limit: 2 } },
          ]);

          // Turn 2: the history goes back with the SDK's own functionCall objects and the matching responses.
          upstream.enqueue({
            kind: 'json',
            body: completion('up-flash', { content: 'It is 18°C in Paris; found 2 docs.' }, 'stop', {
              prompt_tokens: 120,
              completion_tokens: 12,
              total_tokens: 132,
            }),
          });
          const response = await client.models.generateContent({
            model: 'gemini-2.5-flash',
            contents: [
              { role: 'user', parts: [{ text: 'Weather in Paris, and find SSE docs.' }] },
              { role: 'model', parts: calls.map((call) => ({ functionCall: call })) },
              {
                role: 'user',
                parts: [
                  { functionResponse: { id: 'call_w1', name: 'get_weather', response: { output: '18C sunny' } } },
                  { functionResponse: { id: 'call_d2', name: 'docs.lookup', response: { output: { hits: 2 } } } },
                ],
              },
            ],
            config: { tools },
          });
          assert.equal(response.text, 'It is 18°C in Paris; found 2 docs.');

          const second = chatBody(upstream.received[1]);
          assert.equal(second.messages.length, 4, JSON.stringify(second.messages));
          const [user, assistant, toolWeather, toolDocs] = second.messages;
          assert.deepEqual(user, { role: 'user', content: 'Weather in Paris, and find SSE docs.' });
          assert.equal(assistant?.role, 'assistant');
          assert.deepEqual(
            assistant?.tool_calls?.map((call) => ({
              id: call.id,
              type: call.type,
              name: call.function.name,
              args: JSON.parse(call.function.arguments) as unknown,
            })),
            [
              { id: 'call_w1', type: 'function', name: 'get_weather', args: { city: 'Paris', unit: 'C' } },
              { id: 'call_d2', type: 'function', name: upstreamDocsName, args: { query: 'sse framing', limit: 2 } },
            ],
          );
          assert.deepEqual(toolWeather, { role: 'tool', tool_call_id: 'call_w1', content: '18C sunny' });
          assert.equal(toolDocs?.role, 'tool');
          assert.equal(toolDocs?.tool_call_id, 'call_d2');
          assert.deepEqual(JSON.parse(String(toolDocs?.content)), { output: { hits: 2 } });
          // The same upstream name in the tool list and in the history.
          assert.deepEqual(
            second.tools?.map((tool) => tool.function.name),
            ['get_weather', upstreamDocsName],
          );
        });
      });

      describe('models.countTokens', () => {
        it('returns a positive count without calling the upstream', async () => {
          const short = await client.models.countTokens({ model: 'gemini-2.5-flash', contents: 'hello' });
          const long = await client.models.countTokens({
            model: 'gemini-2.5-flash',
            contents: [
              {
                role: 'user',
                parts: [{ text: 'How many tokens does this considerably longer sentence need, roughly speaking?' }],
              },
            ],
          });
          assert.equal(typeof short.totalTokens, 'number');
          assert.ok((short.totalTokens ?? 0) > 0, `totalTokens ${String(short.totalTokens)}`);
          assert.ok(
            (long.totalTokens ?? 0) > (short.totalTokens ?? 0),
            `${String(long.totalTokens)} <= ${String(short.totalTokens)}`,
          );
          assert.equal(sdkRequests.length, 2);
          assert.match(sdkRequests[0]?.url.pathname ?? '', /\/models\/gemini-2\.5-flash:countTokens$/);
          assert.equal(upstream.received.length, 0, 'countTokens reached the upstream');
        });
      });

      describe('models.embedContent', () => {
        it('is sent as batchEmbedContents, becomes one /embeddings call with an input array, and keeps order', async () => {
          const vectors = [
            [0.5, -0.25, 0.125],
            [1.5, 2.5, -3.5],
            [-0.75, 0, 0.875],
          ];
          upstream.enqueue({
            kind: 'dynamic',
            respond: (request) => {
              const input = (request.body as UpstreamEmbeddingsBody).input;
              // Answer out of order, with explicit indices, as some upstreams do.
              const data = input
                .map((_, index) => ({ object: 'embedding', index, embedding: vectors[index] ?? [] }))
                .reverse();
              return {
                kind: 'json',
                body: {
                  object: 'list',
                  model: 'text-embedding-3-small',
                  data,
                  usage: { prompt_tokens: 3, total_tokens: 3 },
                },
              };
            },
          });
          const result = await client.models.embedContent({
            model: 'gemini-embedding-001',
            contents: ['alpha', 'beta', 'gamma'],
            config: { outputDimensionality: 3, taskType: 'RETRIEVAL_DOCUMENT' },
          });
          assert.equal(sdkRequests.length, 1);
          assert.equal(sdkRequests[0]?.url.pathname, '/v1beta/models/gemini-embedding-001:batchEmbedContents');
          assert.deepEqual(
            result.embeddings?.map((embedding) => embedding.values),
            vectors,
          );

          assert.equal(upstream.received.length, 1);
          const received = upstream.received[0];
          assert.equal(received?.url, '/v1/embeddings');
          const body = received?.body as UpstreamEmbeddingsBody;
          assert.equal(body.model, 'text-embedding-3-small');
          assert.deepEqual(body.input, ['alpha', 'beta', 'gamma']);
          assert.equal(body.dimensions, 3);

          upstream.enqueue({
            kind: 'json',
            body: { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }] },
          });
          const single = await client.models.embedContent({ model: 'gemini-embedding-001', contents: 'solo' });
          assert.deepEqual(
            single.embeddings?.map((embedding) => embedding.values),
            [[0.1, 0.2]],
          );
          assert.deepEqual((upstream.received[1]?.body as UpstreamEmbeddingsBody).input, ['solo']);
        });
      });

      describe('models.list / models.get', () => {
        it('the pager walks every page and terminates', async () => {
          const expected = [
            ...new Set(['gemini-2.5-flash', 'qwen3:8b', 'gemini-embedding-001', ...GEMINI_CLI_MODEL_NAMES]),
          ].map((name) => `models/${name}`);
          const pageSize = 4;
          const names: string[] = [];
          const pager = await client.models.list({ config: { pageSize } });
          for await (const model of pager) {
            assert.ok(model !== undefined, 'the pager yielded an undefined model (an empty page)');
            names.push(model.name ?? '');
            assert.ok(names.length <= expected.length * 2, 'models.list does not terminate');
          }
          assert.deepEqual([...names].sort(), [...expected].sort());
          const listCalls = sdkRequests.filter((request) => request.url.pathname === '/v1beta/models');
          assert.equal(listCalls.length, Math.ceil(expected.length / pageSize));
          // [R-MOD-2]: never a request with an empty pageToken.
          assert.ok(
            listCalls.every((request) => request.url.searchParams.get('pageToken') !== ''),
            listCalls.map((request) => request.url.search).join(' '),
          );
          assert.equal(upstream.received.length, 0);
        });

        it('models.get keeps a colon in the id (qwen3:8b) and reports its mapping', async () => {
          const model = await client.models.get({ model: 'qwen3:8b' });
          assert.equal(sdkRequests[0]?.method, 'GET');
          assert.equal(sdkRequests[0]?.url.pathname, '/v1beta/models/qwen3:8b');
          assert.equal(model.name, 'models/qwen3:8b');
          assert.match(`${model.displayName ?? ''} ${model.description ?? ''}`, /qwen3:8b-q4/);
          assert.ok((model.supportedActions ?? []).includes('generateContent'), JSON.stringify(model.supportedActions));

          const embedding = await client.models.get({ model: 'models/gemini-embedding-001' });
          assert.equal(embedding.name, 'models/gemini-embedding-001');
          assert.match(`${embedding.displayName ?? ''} ${embedding.description ?? ''}`, /text-embedding-3-small/);
        });
      });

      describe('errors', () => {
        it('upstream 429 with Retry-After: 7 → ApiError 429 carrying RetryInfo "7s" (unary and stream)', async () => {
          const rateLimited = {
            kind: 'json' as const,
            status: 429,
            headers: { 'retry-after': '7' },
            body: {
              error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' },
            },
          };
          upstream.enqueue(rateLimited, rateLimited);

          const unary = await client.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }).then(
            () => undefined,
            (error: unknown) => error,
          );
          assert.ok(unary instanceof sdk.ApiError, `expected ApiError, got ${String(unary)}`);
          assert.equal(unary.status, 429);
          const body = errorBody(unary);
          assert.equal(body.error.code, 429);
          assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
          const retry = body.error.details?.find(
            (detail) => detail['@type'] === 'type.googleapis.com/google.rpc.RetryInfo',
          );
          assert.equal(retry?.['retryDelay'], '7s', JSON.stringify(body.error.details));

          const stream = await drain(() =>
            client.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' }),
          );
          assert.equal(stream.chunks.length, 0);
          assert.ok(stream.error instanceof sdk.ApiError, `expected ApiError, got ${String(stream.error)}`);
          assert.equal(stream.error.status, 429);
          assert.equal(
            errorBody(stream.error).error.details?.find(
              (detail) => detail['@type'] === 'type.googleapis.com/google.rpc.RetryInfo',
            )?.['retryDelay'],
            '7s',
          );
          // No retries behind the client's back: one upstream call per SDK call.
          assert.equal(upstream.received.length, 2);
        });

        it('upstream 400 → ApiError 400 INVALID_ARGUMENT', async () => {
          upstream.enqueue({
            kind: 'json',
            status: 400,
            body: {
              error: {
                message: "Invalid value for 'temperature': must be <= 2.",
                type: 'invalid_request_error',
                param: 'temperature',
                code: null,
              },
            },
          });
          const error = await client.models
            .generateContent({ model: 'gemini-2.5-flash', contents: 'hi', config: { temperature: 5 } })
            .then(
              () => undefined,
              (caught: unknown) => caught,
            );
          assert.ok(error instanceof sdk.ApiError, `expected ApiError, got ${String(error)}`);
          assert.equal(error.status, 400);
          const body = errorBody(error);
          assert.equal(body.error.code, 400);
          assert.equal(body.error.status, 'INVALID_ARGUMENT');
          assert.match(body.error.message, /temperature/);
        });

        it('error event before any output → the stream throws ApiError with the mapped status (raw error object after commit)', async () => {
          upstream.enqueue({
            kind: 'sse',
            writes: [
              `data: ${JSON.stringify(chunk({ role: 'assistant', content: '' }))}\n\n`,
              `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request.', code: null, type: 'server_error' } })}\n\n`,
            ],
          });
          const { chunks, error } = await drain(() =>
            client.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' }),
          );
          assert.equal(chunks.length, 0, JSON.stringify(chunks.map((response) => response.candidates)));
          assert.ok(error instanceof sdk.ApiError, `expected ApiError, got ${String(error)}`);
          // Upstream server_error (no usable code) → 503 UNAVAILABLE, retryable for Gemini CLI.
          assert.equal(error.status, 503);
          assert.match(error.message, /^got status: UNAVAILABLE\. /);
          const body = errorBody(error);
          assert.equal(body.error.code, 503);
          assert.equal(body.error.status, 'UNAVAILABLE');
        });

        it('error event after some text → the text, then the stream throws ApiError 503 (raw error object, no OTHER)', async () => {
          upstream.enqueue({
            kind: 'sse',
            delayMs: 5,
            writes: [
              `data: ${JSON.stringify(chunk({ role: 'assistant', content: 'Partial ' }))}\n\n`,
              `data: ${JSON.stringify(chunk({ content: 'answer' }))}\n\n`,
              `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request.', code: null, type: 'server_error' } })}\n\n`,
            ],
          });
          const { chunks, error } = await drain(() =>
            client.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' }),
          );
          assert.equal(visibleText(chunks), 'Partial answer');
          assert.deepEqual(
            finishReasons(chunks).filter((reason) => reason !== undefined),
            [],
          );
          assert.ok(error instanceof sdk.ApiError, `expected ApiError, got ${String(error)}`);
          assert.equal(error.status, 503);
          assert.equal(errorBody(error).error.status, 'UNAVAILABLE');
        });

        it('upstream connection dropped after some text → the text, then ApiError 503', async () => {
          upstream.enqueue({
            kind: 'sse',
            delayMs: 5,
            writes: [
              `data: ${JSON.stringify(chunk({ role: 'assistant', content: 'Half a' }))}\n\n`,
              `data: ${JSON.stringify(chunk({ content: ' sentence' }))}\n\n`,
            ],
            endAfter: false,
            destroyAfter: true,
          });
          const { chunks, error } = await drain(() =>
            client.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' }),
          );
          assert.equal(visibleText(chunks), 'Half a sentence');
          assert.deepEqual(
            finishReasons(chunks).filter((reason) => reason !== undefined),
            [],
          );
          assert.ok(error instanceof sdk.ApiError, `expected ApiError, got ${String(error)}`);
          assert.equal(error.status, 503);
          assert.match(errorBody(error).error.message, /closed the connection unexpectedly/);
        });

        it('upstream idle after some text → the text, then ApiError 504 (idle timeout)', async () => {
          upstream.enqueue({
            kind: 'sse',
            writes: [`data: ${JSON.stringify(chunk({ role: 'assistant', content: 'Stalled' }))}\n\n`],
            endAfter: false,
          });
          const { chunks, error } = await drain(() =>
            client.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' }),
          );
          assert.equal(visibleText(chunks), 'Stalled');
          assert.ok(error instanceof sdk.ApiError, `expected ApiError, got ${String(error)}`);
          assert.equal(error.status, 504);
          assert.match(errorBody(error).error.message, /stopped sending data/);
        });
      });
    });
  }
});
