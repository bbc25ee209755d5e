/**
 * The personalities themselves, without the proxy: each accepts a clean request and answers in its dialect, and
 * rejects what the real provider rejects with the provider's documented status and body (docs/providers.md §3–§8). This
 * is what makes the matrix meaningful: a matrix cell can only pass because the proxy sent something the provider takes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProviderName } from '../../src/providers/profile.js';
import {
  PERSONALITIES,
  PersonalityUpstream,
  UPSTREAM_KEY,
  isJsonObject,
  type Json,
  type JsonObject,
  type Personality,
} from '../support/personalities/index.js';
import { createLlamacpp } from '../support/personalities/llamacpp.js';

interface Probe {
  name: string;
  body: JsonObject;
  /** Path under the personality's origin; default: its chat path. */
  path?: string;
  headers?: Record<string, string>;
  status: number;
  why: string;
  /** Exact error body (documented verbatim) or a substring of the serialised body. */
  exact?: Json;
  includes?: string;
}

const CHAT_PATHS: Record<ProviderName, string> = {
  kimi: '/v1/chat/completions',
  deepseek: '/chat/completions',
  zhipu: '/api/paas/v4/chat/completions',
  openai: '/v1/chat/completions',
  azure: '/openai/deployments/o4-mini/chat/completions?api-version=2024-10-21',
  ollama: '/v1/chat/completions',
  openrouter: '/api/v1/chat/completions',
  vllm: '/v1/chat/completions',
  llamacpp: '/v1/chat/completions',
  dashscope: '/compatible-mode/v1/chat/completions',
  groq: '/openai/v1/chat/completions',
  generic: '/v1/chat/completions',
};

const MODELS: Record<ProviderName, string> = {
  kimi: 'kimi-k2.5',
  deepseek: 'deepseek-v4-pro',
  zhipu: 'glm-5',
  openai: 'gpt-5',
  azure: 'o4-mini',
  ollama: 'qwen3:8b',
  openrouter: 'moonshotai/kimi-k2.5',
  vllm: 'Qwen/Qwen3-32B',
  llamacpp: 'gpt-oss-20b',
  dashscope: 'qwen3-max',
  groq: 'moonshotai/kimi-k2-instruct-0905',
  generic: 'r1-distill-qwen-32b',
};

const DOTTED = 'mcp_workspace__calendar.listEvents';
const tool = (
  name: string,
  parameters: JsonObject = { type: 'object', properties: { path: { type: 'string' } } },
): JsonObject => ({ type: 'function', function: { name, parameters } });
const user = (content: Json): JsonObject => ({ role: 'user', content });
const PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const imageMessage = (url: string): JsonObject =>
  user([
    { type: 'text', text: 'what is this?' },
    { type: 'image_url', image_url: { url } },
  ]);

/** A tool-call follow-up; `assistant` extras are merged into the assistant message. */
function followUp(model: string, assistant: JsonObject = {}, extra: JsonObject = {}): JsonObject {
  return {
    model,
    stream: true,
    messages: [
      user('read it'),
      {
        role: 'assistant',
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'read_file', arguments: '{"path":"a"}' } }],
        ...assistant,
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'file text' },
    ],
    tools: [tool('read_file')],
    ...extra,
  };
}

function clean(provider: ProviderName): JsonObject {
  const body: JsonObject = {
    model: MODELS[provider],
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'system', content: 'Be brief.' }, user('hi')],
    tools: [tool('read_file')],
  };
  if (provider === 'dashscope') body['enable_thinking'] = true;
  return body;
}

const COMMON = (provider: ProviderName): Probe[] => {
  const model = MODELS[provider];
  const probes: Probe[] = [
    {
      name: 'a tool call without its tool message',
      body: {
        model,
        messages: [
          user('x'),
          {
            role: 'assistant',
            tool_calls: [{ id: 'c9', type: 'function', function: { name: 'read_file', arguments: '{}' } }],
          },
          user('y'),
        ],
        tools: [tool('read_file')],
        ...(provider === 'dashscope' ? { enable_thinking: false } : {}),
      },
      status: 400,
      why: 'tool-sequence',
    },
  ];
  if (provider !== 'llamacpp' && provider !== 'azure')
    probes.push({
      name: 'an unknown model',
      body: { ...clean(provider), model: 'no-such-model-7' },
      status: provider === 'deepseek' || provider === 'zhipu' || provider === 'openrouter' ? 400 : 404,
      why: 'model',
    });
  if (provider !== 'ollama')
    probes.push({
      name: 'a wrong key',
      body: clean(provider),
      headers: { authorization: 'Bearer sk-wrong' },
      status: 401,
      why: 'auth',
    });
  return probes;
};

const SPECIFIC: Partial<Record<ProviderName, Probe[]>> = {
  openai: [
    {
      name: 'top_k',
      body: { ...clean('openai'), top_k: 64 },
      status: 400,
      why: 'unknown-argument:top_k',
      exact: {
        error: {
          message: 'Unrecognized request argument supplied: top_k',
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      },
    },
    {
      name: 'another provider’s thinking control',
      body: { ...clean('openai'), thinking: { type: 'enabled' } },
      status: 400,
      why: 'unknown-argument:thinking',
    },
    {
      name: 'max_tokens on a reasoning model',
      body: { ...clean('openai'), max_tokens: 100 },
      status: 400,
      why: 'max_tokens',
      includes: "Use 'max_completion_tokens' instead.",
    },
    {
      name: 'temperature 0.2 on a reasoning model',
      body: { ...clean('openai'), temperature: 0.2 },
      status: 400,
      why: 'temperature',
      includes: "'temperature' does not support 0.2 with this model. Only the default (1) value is supported.",
    },
    {
      name: 'reasoning_effort on gpt-4o',
      body: { ...clean('openai'), model: 'gpt-4o', reasoning_effort: 'high' },
      status: 400,
      why: 'reasoning_effort',
    },
    {
      name: 'a dotted tool name',
      body: { ...clean('openai'), tools: [tool(DOTTED)] },
      status: 400,
      why: 'tool-name',
      includes: "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
    },
    {
      name: 'a dotted name in history',
      body: followUp('gpt-5', {
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'a.b', arguments: '{}' } }],
      }),
      status: 400,
      why: 'tool-name',
      includes: 'messages[1].tool_calls[0].function.name',
    },
    {
      name: 'an image on gpt-3.5-turbo',
      body: { model: 'gpt-3.5-turbo', messages: [imageMessage(PNG)] },
      status: 400,
      why: 'image',
      includes: 'image_url is only supported by certain models',
    },
    {
      name: 'json_object without "json"',
      body: { model: 'gpt-5', messages: [user('hi')], response_format: { type: 'json_object' } },
      status: 400,
      why: 'json-word',
    },
  ],
  azure: [
    {
      name: 'stream_options on api-version 2024-06-01',
      path: '/openai/deployments/o4-mini/chat/completions?api-version=2024-06-01',
      body: clean('azure'),
      status: 400,
      why: 'stream_options',
      includes: 'Unrecognized request argument supplied: stream_options',
    },
    {
      name: 'a bearer key instead of api-key',
      headers: { authorization: `Bearer ${UPSTREAM_KEY}`, 'api-key': '' },
      body: clean('azure'),
      status: 401,
      why: 'auth',
    },
    {
      name: 'the OpenAI path',
      path: '/v1/chat/completions',
      body: clean('azure'),
      status: 404,
      why: 'path',
      exact: { error: { code: '404', message: 'Resource not found' } },
    },
    {
      name: 'no api-version',
      path: '/openai/deployments/o4-mini/chat/completions',
      body: clean('azure'),
      status: 404,
      why: 'path',
    },
    {
      name: 'an unknown deployment',
      path: '/openai/deployments/gpt-9/chat/completions?api-version=2024-10-21',
      body: clean('azure'),
      status: 404,
      why: 'model',
      includes: 'DeploymentNotFound',
    },
    { name: 'max_tokens on o4-mini', body: { ...clean('azure'), max_tokens: 10 }, status: 400, why: 'max_tokens' },
  ],
  deepseek: [
    {
      name: 'a thinking follow-up without reasoning_content',
      body: followUp('deepseek-v4-pro'),
      status: 400,
      why: 'reasoning-missing',
      exact: {
        error: {
          message: 'The `reasoning_content` in the thinking mode must be passed back to the API.',
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_request_error',
        },
      },
    },
    {
      name: 'the same follow-up with thinking disabled',
      body: followUp('deepseek-v4-pro', {}, { thinking: { type: 'disabled' } }),
      status: 200,
      why: '',
    },
    {
      name: 'the same follow-up with reasoning_content',
      body: followUp('deepseek-v4-pro', { reasoning_content: 'Read the file.' }),
      status: 200,
      why: '',
    },
    {
      name: 'an image_url part',
      body: { model: 'deepseek-v4-pro', messages: [imageMessage(PNG)] },
      status: 400,
      why: 'image',
      includes: 'unknown variant `image_url`, expected `text`',
    },
    {
      name: 'json_schema',
      body: {
        model: 'deepseek-v4-pro',
        messages: [user('json please')],
        response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { type: 'object' } } },
      },
      status: 400,
      why: 'json_schema',
      includes: 'This response_format type is unavailable now',
    },
    {
      name: 'json_object without "json"',
      body: { model: 'deepseek-v4-pro', messages: [user('hi')], response_format: { type: 'json_object' } },
      status: 400,
      why: 'json-word',
      includes: "Prompt must contain the word 'json'",
    },
    {
      name: 'tool_choice required while thinking',
      body: { ...clean('deepseek'), tool_choice: 'required' },
      status: 400,
      why: 'tool_choice',
      includes: 'Thinking mode does not support this tool_choice',
    },
    {
      name: 'a dotted tool name',
      body: { ...clean('deepseek'), tools: [tool(DOTTED)] },
      status: 400,
      why: 'tool-name',
    },
    {
      name: 'list content on a tool message',
      body: followUp(
        'deepseek-chat',
        {},
        {
          messages: [
            user('x'),
            {
              role: 'assistant',
              tool_calls: [{ id: 'c', type: 'function', function: { name: 'read_file', arguments: '{}' } }],
            },
            { role: 'tool', tool_call_id: 'c', content: [{ type: 'text', text: 'r' }] },
          ],
        },
      ),
      status: 422,
      why: 'list-content',
    },
  ],
  kimi: [
    {
      name: 'a thinking follow-up without reasoning_content',
      body: followUp('kimi-k2.5'),
      status: 400,
      why: 'reasoning-missing',
      exact: {
        error: {
          message: 'thinking is enabled but reasoning_content is missing in assistant tool call message at index 1',
          type: 'invalid_request_error',
        },
      },
    },
    {
      name: 'the same follow-up with reasoning_content',
      body: followUp('kimi-k2.5', { reasoning_content: 'Read the file.' }),
      status: 200,
      why: '',
    },
    {
      name: 'a typeless property (MFJS)',
      body: {
        ...clean('kimi'),
        tools: [tool('read_file', { type: 'object', properties: { truncateMode: { enum: ['head', 'tail'] } } })],
      },
      status: 400,
      why: 'mfjs',
      includes: "<At path 'properties.truncateMode': type is not defined>",
    },
    {
      name: 'type beside anyOf (MFJS)',
      body: {
        ...clean('kimi'),
        tools: [
          tool('read_file', {
            type: 'object',
            properties: { when: { type: 'string', anyOf: [{ format: 'date' }, { format: 'date-time' }] } },
          }),
        ],
      },
      status: 400,
      why: 'mfjs',
      includes: 'when using anyOf, type should be defined in anyOf items instead of the parent schema',
    },
    {
      name: '$ref outside #/$defs (MFJS)',
      body: {
        ...clean('kimi'),
        tools: [
          tool('read_file', {
            type: 'object',
            properties: { who: { $ref: '#/definitions/Person' } },
            definitions: { Person: { type: 'object' } },
          }),
        ],
      },
      status: 400,
      why: 'mfjs',
      includes: 'references must start with #/$defs',
    },
    {
      name: 'a sibling of $ref (MFJS)',
      body: {
        ...clean('kimi'),
        tools: [
          tool('read_file', {
            type: 'object',
            properties: { who: { $ref: '#/$defs/P', description: 'x' } },
            $defs: { P: { type: 'object' } },
          }),
        ],
      },
      status: 400,
      why: 'mfjs',
      includes: 'conflicting keywords found after $ref expansion: description',
    },
    { name: 'a dotted tool name', body: { ...clean('kimi'), tools: [tool(DOTTED)] }, status: 400, why: 'tool-name' },
    { name: 'a two-letter tool name', body: { ...clean('kimi'), tools: [tool('ls')] }, status: 400, why: 'tool-name' },
    {
      name: 'an http image URL',
      body: { model: 'kimi-k2.5', messages: [imageMessage('https://example.com/cat.png')] },
      status: 400,
      why: 'image-url',
    },
    {
      name: 'an image on a text model',
      body: { model: 'kimi-k2-turbo-preview', messages: [imageMessage(PNG)] },
      status: 400,
      why: 'image',
    },
    {
      name: 'empty content beside tool calls',
      body: followUp('kimi-k2-turbo-preview', { content: '' }),
      status: 400,
      why: 'empty-content',
      includes: 'text content is empty',
    },
    {
      name: 'tool_choice required',
      body: { ...clean('kimi'), model: 'kimi-k2-turbo-preview', tool_choice: 'required' },
      status: 400,
      why: 'tool_choice',
    },
    {
      name: 'temperature 0.7 on kimi-k2.5',
      body: { ...clean('kimi'), temperature: 0.7 },
      status: 400,
      why: 'temperature',
    },
  ],
  zhipu: [
    {
      name: 'tool_choice required',
      body: { ...clean('zhipu'), tool_choice: 'required' },
      status: 400,
      why: 'tool_choice',
      includes: 'Tool choice must be auto',
    },
    {
      name: 'a named tool_choice',
      body: { ...clean('zhipu'), tool_choice: { type: 'function', function: { name: 'read_file' } } },
      status: 400,
      why: 'tool_choice',
    },
    {
      name: 'json_schema',
      body: {
        model: 'glm-5',
        messages: [user('x')],
        response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { type: 'object' } } },
      },
      status: 400,
      why: 'json_schema',
    },
    {
      name: 'a /v1 path under /api/paas/v4',
      path: '/api/paas/v4/v1/chat/completions',
      body: clean('zhipu'),
      status: 404,
      why: 'path',
    },
    { name: 'an image on glm-5', body: { model: 'glm-5', messages: [imageMessage(PNG)] }, status: 400, why: 'image' },
  ],
  dashscope: [
    {
      name: 'a unary call without enable_thinking:false',
      body: { model: 'qwen3-max', messages: [user('hi')] },
      status: 400,
      why: 'enable_thinking',
      exact: {
        error: {
          code: 'invalid_parameter_error',
          param: null,
          message: 'parameter.enable_thinking must be set to false for non-streaming calls',
          type: 'invalid_request_error',
        },
        id: 'chatcmpl-5b7e0c1d-9f2a-4c3b-8d1e-7a6f5e4d3c2b',
        request_id: '5b7e0c1d-9f2a-4c3b-8d1e-7a6f5e4d3c2b',
      },
    },
    {
      name: 'a unary call with enable_thinking:false',
      body: { model: 'qwen3-max', messages: [user('hi')], enable_thinking: false },
      status: 200,
      why: '',
    },
    {
      name: 'an image on qwen3-max',
      body: { model: 'qwen3-max', stream: true, messages: [imageMessage(PNG)] },
      status: 400,
      why: 'image',
    },
  ],
  groq: [
    {
      name: 'reasoning_content on an assistant message',
      body: followUp('qwen/qwen3-32b', { reasoning_content: 'x' }),
      status: 400,
      why: 'reasoning-field',
      exact: {
        error: {
          message:
            "'messages.1' : for 'role:assistant' the following must be satisfied[('messages.1' : property 'reasoning_content' is unsupported)]",
          type: 'invalid_request_error',
        },
      },
    },
    {
      name: 'reasoning on an assistant message',
      body: followUp('qwen/qwen3-32b', { reasoning: 'x' }),
      status: 400,
      why: 'reasoning-field',
      includes: "property 'reasoning' is unsupported",
    },
    { name: 'a dotted tool name', body: { ...clean('groq'), tools: [tool(DOTTED)] }, status: 400, why: 'tool-name' },
    {
      name: 'reasoning_format on a non-reasoning model',
      body: { ...clean('groq'), reasoning_format: 'parsed' },
      status: 400,
      why: 'reasoning_format',
    },
    {
      name: 'an image on a text model',
      body: { model: 'llama-3.3-70b-versatile', messages: [imageMessage(PNG)] },
      status: 400,
      why: 'image',
    },
    {
      name: 'a doubled /v1',
      path: '/openai/v1/v1/chat/completions',
      body: clean('groq'),
      status: 404,
      why: 'path',
      includes: 'unknown_url',
    },
  ],
  openrouter: [
    {
      name: 'an invalid reasoning object',
      body: { ...clean('openrouter'), reasoning: { effort: 'extreme' } },
      status: 400,
      why: 'reasoning',
    },
    {
      name: 'an image on a text model (wrapped provider error)',
      body: { model: 'moonshotai/kimi-k2-0905', messages: [imageMessage(PNG)] },
      status: 400,
      why: 'image',
      includes: '"metadata":{"provider_name":"Chutes","raw":',
    },
  ],
  ollama: [
    {
      name: 'an http image URL',
      body: { model: 'qwen3-vl:8b', messages: [imageMessage('https://example.com/cat.png')] },
      status: 400,
      why: 'image-url',
      includes: 'image URLs are not currently supported, please use base64 encoded data instead',
    },
    {
      name: 'a gif',
      body: { model: 'qwen3-vl:8b', messages: [imageMessage('data:image/gif;base64,R0lGODlhAQABAAAAACw=')] },
      status: 400,
      why: 'image-type',
      includes: 'invalid image input',
    },
    {
      name: 'tools on gemma3',
      body: { ...clean('ollama'), model: 'gemma3:12b' },
      status: 400,
      why: 'tools',
      includes: 'does not support tools',
    },
    {
      name: 'an unknown reasoning_effort',
      body: { ...clean('ollama'), reasoning_effort: 'extreme' },
      status: 400,
      why: 'reasoning_effort',
      includes: 'invalid reasoning value: \\"extreme\\"',
    },
  ],
  vllm: [
    {
      name: 'an image on a text model',
      body: { model: 'Qwen/Qwen3-32B', messages: [imageMessage(PNG)] },
      status: 400,
      why: 'image',
      includes: '"code":400',
    },
  ],
  generic: [
    { name: 'a dotted tool name', body: { ...clean('generic'), tools: [tool(DOTTED)] }, status: 400, why: 'tool-name' },
  ],
};

async function send(
  origin: string,
  path: string,
  body: JsonObject,
  headers: Record<string, string>,
): Promise<{ status: number; text: string; json: unknown }> {
  const response = await fetch(`${origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text.trim());
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

function defaultHeaders(personality: Personality): Record<string, string> {
  return personality.name === 'azure' ? { 'api-key': UPSTREAM_KEY } : { authorization: `Bearer ${UPSTREAM_KEY}` };
}

for (const [provider, personality] of Object.entries(PERSONALITIES) as Array<[ProviderName, Personality]>) {
  describe(`personality ${provider}`, () => {
    let upstream: PersonalityUpstream;
    before(async () => {
      upstream = await new PersonalityUpstream(personality).start();
      upstream.onChat(() => ({ reasoning: 'Thinking it over.', text: 'Hello there.' }));
    });
    after(() => upstream.stop());

    it('accepts a clean streamed request and answers in its dialect', async () => {
      const response = await send(upstream.origin, CHAT_PATHS[provider], clean(provider), defaultHeaders(personality));
      assert.equal(response.status, 200, response.text);
      const prefix = personality.stream.dataPrefix;
      assert.ok(response.text.includes(`${prefix}{`), `events start with "${prefix}"`);
      assert.ok(response.text.trimEnd().endsWith(`${prefix}[DONE]`), response.text.slice(-200));
      const events = response.text
        .split('\n\n')
        .filter((block) => block.startsWith('data:') && !block.includes('[DONE]'))
        .map((block) => JSON.parse(block.slice(prefix.length)) as JsonObject);
      const text = events
        .flatMap((event) => (Array.isArray(event['choices']) ? event['choices'] : []))
        .map((choice) =>
          isJsonObject(choice) && isJsonObject(choice['delta']) && typeof choice['delta']['content'] === 'string'
            ? choice['delta']['content']
            : '',
        )
        .join('');
      assert.ok(text.includes('Hello there.'), text);
      assert.equal(upstream.rejections.length, 0, upstream.describe());
    });

    for (const probe of [...COMMON(provider), ...(SPECIFIC[provider] ?? [])]) {
      it(`${probe.status === 200 ? 'accepts' : 'rejects'} ${probe.name}`, async () => {
        const before = upstream.exchanges.length;
        const response = await send(
          upstream.origin,
          probe.path ?? CHAT_PATHS[provider],
          probe.body,
          probe.headers ?? defaultHeaders(personality),
        );
        assert.equal(response.status, probe.status, `${response.text}\n${upstream.describe()}`);
        const exchange = upstream.exchanges[before];
        assert.ok(exchange !== undefined);
        if (probe.status === 200) {
          assert.equal(exchange.rejection, undefined);
          return;
        }
        assert.equal(exchange.rejection?.why, probe.why, upstream.describe());
        if (probe.exact !== undefined) assert.deepEqual(response.json, probe.exact);
        if (probe.includes !== undefined)
          assert.ok(response.text.includes(probe.includes), `${response.text} lacks ${probe.includes}`);
      });
    }
  });
}

describe('personality llamacpp without --mmproj / --jinja', () => {
  it('answers images and tools with the documented 500s', async () => {
    const bare = await new PersonalityUpstream(createLlamacpp({ mmproj: false, jinja: false })).start();
    try {
      bare.onChat(() => ({ text: 'x' }));
      const headers = { authorization: `Bearer ${UPSTREAM_KEY}` };
      const image = await send(
        bare.origin,
        '/v1/chat/completions',
        { model: 'm', messages: [imageMessage(PNG)] },
        headers,
      );
      assert.equal(image.status, 500);
      assert.deepEqual(image.json, {
        error: { code: 500, message: 'image input is not supported by this server', type: 'server_error' },
      });
      const tools = await send(bare.origin, '/v1/chat/completions', clean('llamacpp'), headers);
      assert.equal(tools.status, 500);
      assert.match(tools.text, /tools param requires --jinja flag/);
      const plain = await send(bare.origin, '/v1/chat/completions', { model: 'm', messages: [user('hi')] }, headers);
      assert.equal(plain.status, 200, plain.text);
    } finally {
      await bare.stop();
    }
  });
});
