/**
 * Provider data and the small pure pieces behind it: inference, capabilities, endpoints, tool-name rules, Kimi
 * schemas, think tags, and the request translator's per-provider decisions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROVIDERS, inferProvider } from '../../src/providers/index.js';
import { capabilitiesFor } from '../../src/providers/profile.js';
import { geminiRequestToOpenAI } from '../../src/translate/gemini-request-to-openai.js';
import { normalizeGenerateContentRequest } from '../../src/translate/normalize-request.js';
import { normalizeSchemaForKimi } from '../../src/translate/schema-kimi.js';
import { ThinkTagSplitter } from '../../src/translate/think-tags.js';
import { createToolNameCodec } from '../../src/translate/tool-names.js';
import { streamUsageOverride, upstreamUrl, authHeaders, type UpstreamTarget } from '../../src/upstream/endpoints.js';

describe('provider inference from the base URL', () => {
  const cases: Array<[string, string]> = [
    ['https://api.moonshot.cn/v1', 'kimi'],
    ['https://api.moonshot.ai/v1', 'kimi'],
    ['https://api.deepseek.com', 'deepseek'],
    ['https://open.bigmodel.cn/api/paas/v4', 'zhipu'],
    ['https://api.z.ai/api/coding/paas/v4', 'zhipu'],
    ['https://myres.openai.azure.com/openai/deployments/gpt4', 'azure'],
    ['http://localhost:11434/v1', 'ollama'],
    ['https://openrouter.ai/api/v1', 'openrouter'],
    ['https://dashscope-intl.aliyuncs.com/compatible-mode/v1', 'dashscope'],
    ['https://api.groq.com/openai/v1', 'groq'],
    ['https://api.openai.com/v1', 'openai'],
    ['http://10.1.2.3:8000/v1', 'generic'],
    ['not a url', 'generic'],
  ];
  for (const [url, provider] of cases) it(`${url} → ${provider}`, () => assert.equal(inferProvider(url), provider));
});

describe('capabilities by model', () => {
  it('OpenAI reasoning models: max_completion_tokens, default temperature only, developer role for o-series', () => {
    assert.equal(capabilitiesFor(PROVIDERS.openai, 'o4-mini').systemRole, 'developer');
    assert.equal(capabilitiesFor(PROVIDERS.openai, 'gpt-5-mini').temperature, 'drop');
    assert.equal(capabilitiesFor(PROVIDERS.openai, 'gpt-4o').temperature, 'any');
    assert.equal(capabilitiesFor(PROVIDERS.openai, 'gpt-4o').maxTokensParameter, 'max_completion_tokens');
  });
  it('Kimi: thinking models need reasoning history; vision only on k2.5+', () => {
    assert.equal(capabilitiesFor(PROVIDERS.kimi, 'kimi-k2.5').reasoningHistory, 'require-on-tool-turns');
    assert.equal(capabilitiesFor(PROVIDERS.kimi, 'kimi-k2.5').images, 'data-url');
    assert.equal(capabilitiesFor(PROVIDERS.kimi, 'kimi-k2-turbo-preview').images, 'none');
    assert.equal(capabilitiesFor(PROVIDERS.kimi, 'kimi-k2-turbo-preview').reasoningHistory, 'optional');
  });
});

describe('upstream endpoints', () => {
  const target = (
    provider: keyof typeof PROVIDERS,
    baseUrl: string,
    azureApiVersion = '2024-10-21',
  ): UpstreamTarget => ({
    provider,
    profile: PROVIDERS[provider],
    baseUrl,
    apiKey: 'k-123',
    azureApiVersion,
  });
  it('Azure: deployment path, api-version, api-key header; the original tool style base still works', () => {
    assert.equal(
      upstreamUrl(target('azure', 'https://r.openai.azure.com'), 'chat', 'gpt-4o'),
      'https://r.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
    );
    assert.equal(
      upstreamUrl(target('azure', 'https://r.openai.azure.com/openai/deployments/prod/'), 'chat', 'ignored'),
      'https://r.openai.azure.com/openai/deployments/prod/chat/completions?api-version=2024-10-21',
    );
    assert.equal(
      upstreamUrl(target('azure', 'https://r.openai.azure.com/openai/v1'), 'chat', 'gpt-4o'),
      'https://r.openai.azure.com/openai/v1/chat/completions',
    );
    assert.equal(
      upstreamUrl(target('azure', 'https://r.openai.azure.com'), 'embeddings', 'emb'),
      'https://r.openai.azure.com/openai/deployments/emb/embeddings?api-version=2024-10-21',
    );
    assert.deepEqual(authHeaders(target('azure', 'https://r.openai.azure.com')), { 'api-key': 'k-123' });
    assert.equal(streamUsageOverride(target('azure', 'https://r.openai.azure.com', '2023-05-15')), false);
    assert.equal(streamUsageOverride(target('azure', 'https://r.openai.azure.com', '2024-10-21')), true);
  });
  it('others: base + path, Bearer', () => {
    assert.equal(
      upstreamUrl(target('zhipu', 'https://open.bigmodel.cn/api/paas/v4/'), 'chat', 'glm-5'),
      'https://open.bigmodel.cn/api/paas/v4/chat/completions',
    );
    assert.deepEqual(authHeaders(target('kimi', 'https://api.moonshot.ai/v1')), { authorization: 'Bearer k-123' });
    assert.equal(streamUsageOverride(target('kimi', 'https://api.moonshot.ai/v1')), undefined);
  });
});

describe('tool-name codec', () => {
  const kimiRules = { forbidden: /[^a-zA-Z0-9_-]/g, maxLength: 64, minLength: 3, firstCharacter: /[a-zA-Z_]/ };
  it('renames reversibly, deterministically and without collisions', () => {
    const names = ['mcp_srv__a.b', 'mcp_srv__a_b', 'calendar.respondToEvent', '1st', 'ab', `mcp_${'x'.repeat(70)}`];
    const codec = createToolNameCodec(names, kimiRules);
    const mapped = names.map((name) => codec.toUpstream(name));
    assert.equal(new Set(mapped).size, names.length);
    for (const name of mapped) assert.match(name, /^[a-zA-Z_][a-zA-Z0-9_-]{2,63}$/);
    for (const name of names) assert.equal(codec.toGemini(codec.toUpstream(name)), name);
    assert.equal(codec.toUpstream('mcp_srv__a_b'), 'mcp_srv__a_b', 'valid names are kept');
    const again = createToolNameCodec([...names].reverse(), kimiRules);
    assert.deepEqual(
      names.map((name) => again.toUpstream(name)),
      mapped,
    );
    assert.equal(codec.toGemini('invented_by_model'), 'invented_by_model');
  });
  it('passes names through where the upstream takes anything (Ollama)', () => {
    const codec = createToolNameCodec(['a.b'], {
      forbidden: undefined,
      maxLength: 256,
      minLength: 1,
      firstCharacter: undefined,
    });
    assert.equal(codec.toUpstream('a.b'), 'a.b');
  });
});

describe('Kimi MFJS schema rewriting', () => {
  it('types every property, moves type into anyOf, keeps $ref only into $defs, no type arrays', () => {
    const out = normalizeSchemaForKimi({
      type: 'object',
      properties: {
        mode: { enum: ['a', 'b'] },
        count: { enum: [1, 2] },
        free: { description: 'anything' },
        either: { type: 'string', anyOf: [{ enum: ['x'] }, { maxLength: 3 }] },
        nullable: { type: ['string', 'null'] },
        ref: { $ref: '#/definitions/Thing', description: 'dropped sibling' },
        external: { $ref: 'https://example.com/schema' },
        list: { items: { type: 'string' } },
      },
      definitions: { Thing: { properties: { a: {} } } },
    });
    assert.deepEqual(out, {
      type: 'object',
      properties: {
        mode: { enum: ['a', 'b'], type: 'string' },
        count: { enum: [1, 2], type: 'integer' },
        free: { description: 'anything', type: 'string' },
        either: {
          anyOf: [
            { enum: ['x'], type: 'string' },
            { maxLength: 3, type: 'string' },
          ],
        },
        nullable: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        ref: { $ref: '#/$defs/Thing' },
        external: { type: 'object' },
        list: { items: { type: 'string' }, type: 'array' },
      },
      $defs: { Thing: { properties: { a: { type: 'string' } }, type: 'object' } },
    });
  });
});

describe('think-tag splitter', () => {
  function run(deltas: string[]): {
    reasoning: string;
    text: string;
    steps: Array<{ reasoning: string; text: string }>;
  } {
    const splitter = new ThinkTagSplitter();
    const steps = deltas.map((delta) => splitter.push(delta));
    steps.push(splitter.flush());
    return {
      reasoning: steps.map((step) => step.reasoning).join(''),
      text: steps.map((step) => step.text).join(''),
      steps,
    };
  }
  it('separates tagged reasoning even when tags are split across deltas', () => {
    const whole = '<think>plan it</think>The answer.';
    for (let cut = 1; cut < whole.length; cut += 1) {
      const result = run([whole.slice(0, cut), whole.slice(cut)]);
      assert.equal(result.reasoning, 'plan it', `cut ${cut}`);
      assert.equal(result.text, 'The answer.', `cut ${cut}`);
    }
    assert.deepEqual(run(['◁think▷k2◁/think▷done']).reasoning, 'k2');
  });
  it('drops the blank lines after the closing tag, also when they come in deltas of their own', () => {
    const result = run(['<think>\nplan it\n</think>', '\n', '\nThe answer.\n', '\nMore.']);
    assert.equal(result.reasoning, '\nplan it\n');
    assert.equal(result.text, 'The answer.\n\nMore.');
  });
  it('does not hold back ordinary text', () => {
    const result = run(['Hello', ' world', ' a < b']);
    assert.deepEqual(
      result.steps.slice(0, 2).map((step) => step.text),
      ['Hello', ' world'],
    );
    assert.equal(result.text, 'Hello world a < b');
  });
});

describe('request translation per provider', () => {
  const cliTurn = normalizeGenerateContentRequest({
    contents: [
      { role: 'user', parts: [{ text: 'read it' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }] },
      {
        role: 'model',
        parts: [{ functionCall: { id: 'functions.read_file:0', name: 'read_file', args: { file_path: 'a' } } }],
      },
      {
        role: 'user',
        parts: [{ functionResponse: { id: 'functions.read_file:0', name: 'read_file', response: { output: 'x' } } }],
      },
    ],
    tools: [
      {
        functionDeclarations: [
          {
            name: 'read_file',
            parametersJsonSchema: { type: 'object', properties: { file_path: { type: 'string' } } },
          },
        ],
      },
    ],
    toolConfig: { functionCallingConfig: { mode: 'ANY' } },
    generationConfig: {
      temperature: 0.2,
      topP: 0.95,
      topK: 64,
      maxOutputTokens: 100,
      thinkingConfig: { includeThoughts: true, thinkingLevel: 'HIGH' },
    },
  });
  const translate = (provider: keyof typeof PROVIDERS, model: string, stream = true) =>
    geminiRequestToOpenAI(cliTurn, { model, stream, profile: PROVIDERS[provider] });

  it('DeepSeek thinking: images become a note, thinking explicit, required degraded to auto + hint, reasoning required', () => {
    const result = translate('deepseek', 'deepseek-v4-pro');
    const first = result.body.messages.find((message) => message.role === 'user');
    assert.equal(typeof first?.content, 'string');
    assert.match(String(first?.content), /image\/png attachment omitted/);
    assert.deepEqual(result.body.thinking, { type: 'enabled' });
    assert.equal(result.body.tool_choice, 'auto');
    assert.match(String(result.body.messages[0]?.content), /must respond by calling the tool read_file/);
    assert.deepEqual(result.reasoningRequired, [2]);
    assert.equal(result.body.top_k, undefined);
  });
  it('Kimi k2.5: fixed temperature dropped, data-URL image kept, no required tool_choice while thinking', () => {
    const result = translate('kimi', 'kimi-k2.5');
    assert.equal(result.body.temperature, undefined);
    assert.ok(JSON.stringify(result.body.messages).includes('data:image/png;base64,AAAA'));
    assert.equal(result.body.tool_choice, 'auto');
  });
  it('OpenAI gpt-5: max_completion_tokens, reasoning_effort, no temperature, required kept', () => {
    const result = translate('openai', 'gpt-5');
    assert.equal(result.body.max_completion_tokens, 100);
    assert.equal(result.body.max_tokens, undefined);
    assert.equal(result.body.reasoning_effort, 'high');
    assert.equal(result.body.temperature, undefined);
    assert.equal(result.body.tool_choice, 'required');
    assert.deepEqual(result.reasoningRequired, []);
  });
  it('DashScope: enable_thinking false on unary calls, top_k kept', () => {
    assert.equal(translate('dashscope', 'qwen3-max', false).body.enable_thinking, false);
    assert.equal(translate('dashscope', 'qwen3-max', true).body.enable_thinking, true);
    assert.equal(translate('dashscope', 'qwen3-max').body.top_k, 64);
  });
  it('GLM: tool_choice never sent beyond auto; json_object ladder with the schema in the prompt', () => {
    assert.equal(translate('zhipu', 'glm-5').body.tool_choice, 'auto');
    const json = geminiRequestToOpenAI(
      normalizeGenerateContentRequest({
        contents: [{ parts: [{ text: 'x' }] }],
        generationConfig: {
          responseMimeType: 'application/json',
          responseJsonSchema: { type: 'OBJECT', properties: { a: { type: 'STRING' } } },
        },
      }),
      { model: 'glm-5', stream: false, profile: PROVIDERS.zhipu },
    );
    assert.deepEqual(json.body.response_format, { type: 'json_object' });
    assert.match(String(json.body.messages[0]?.content), /json only.*"type":"object"/s);
    assert.deepEqual(json.body.thinking, { type: 'disabled' }, 'JSON utility calls do not think');
  });
  it('Ollama: tool_choice ignored upstream, so none is sent and a hint stands in', () => {
    const result = translate('ollama', 'qwen3:8b');
    assert.equal(result.body.tool_choice, undefined);
    assert.match(String(result.body.messages[0]?.content), /must respond by calling/);
  });
  it('Groq: reasoning never sent back', () => {
    const withThoughts = normalizeGenerateContentRequest({
      contents: [
        { role: 'user', parts: [{ text: 'q' }] },
        { role: 'model', parts: [{ text: 'secret plan', thought: true }, { functionCall: { name: 'f', args: {} } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'f', response: { output: 'r' } } }] },
      ],
    });
    const result = geminiRequestToOpenAI(withThoughts, {
      model: 'qwen/qwen3-32b',
      stream: true,
      profile: PROVIDERS.groq,
    });
    assert.ok(!JSON.stringify(result.body).includes('secret plan'));
    assert.equal(result.body.reasoning_format, 'parsed');
  });
});
