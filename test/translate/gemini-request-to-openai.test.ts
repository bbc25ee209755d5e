/**
 * The request translator's per-provider decisions (src/translate/gemini-request-to-openai.ts): one Gemini CLI turn
 * translated for each preset's capabilities.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROVIDERS } from '../../src/providers/index.js';
import { geminiRequestToOpenAI } from '../../src/translate/gemini-request-to-openai.js';
import { normalizeGenerateContentRequest } from '../../src/translate/normalize-request.js';

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
