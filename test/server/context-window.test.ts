/**
 * Context windows: models.list/get report the mapped upstream model's window (preset table, then config
 * model_limits); a prompt over the window gets a 400 before any upstream call, while a prompt under it is decided by
 * the byte bound alone (no tokenizing) or by counting; Ollama's silent truncation is reported from prompt_tokens.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelLimitsFor, presetModelLimits } from '../../src/providers/context-windows.js';
import { assertPromptFits, countPromptTokens, truncationWarning } from '../../src/server/context-window.js';
import { loadTokenizer } from '../../src/tokenizer.js';
import type { OpenAIChatRequest } from '../../src/translate/openai-types.js';
import { proxyOverUpstream } from '../support/proxy.js';
import { sseFromChunks } from '../support/scripted-upstream.js';

interface ModelResource {
  name: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
}

/** Ordinary English prose: ~1 token per 4-5 characters, unlike a repeated word that BPE merges. */
function prose(words: number): string {
  const vocabulary = [
    'the',
    'proxy',
    'answers',
    'every',
    'request',
    'with',
    'a',
    'window',
    'of',
    'tokens',
    'while',
    'history',
    'grows',
    'quickly',
    'under',
    'load',
  ];
  return Array.from(
    { length: words },
    (_, index) => `${vocabulary[(index * 7) % vocabulary.length] ?? 'x'}${index % 13 === 0 ? '.' : ''}`,
  ).join(' ');
}

describe('context windows', () => {
  const rig = proxyOverUpstream({
    provider: 'ollama',
    model_mapping: { 'gemini-small': 'tiny-local', 'gemini-*': 'qwen3:8b' },
    model_limits: { 'tiny-*': { context_window: 2048, max_output_tokens: 512 } },
  });
  const upstream = rig.upstream;

  it("models.get and models.list report the mapped model's window and output limit", async () => {
    const qwen = (await (await fetch(`${rig.proxy.url}/v1beta/models/gemini-3.8-flash`)).json()) as ModelResource;
    assert.equal(qwen.inputTokenLimit, 40_960, 'the preset knows qwen3:8b');
    assert.equal(qwen.outputTokenLimit, 40_960, 'no published output limit: bounded by the window');
    const small = (await (await fetch(`${rig.proxy.url}/v1beta/models/gemini-small`)).json()) as ModelResource;
    assert.deepEqual([small.inputTokenLimit, small.outputTokenLimit], [2048, 512], 'config model_limits');
    const list = (await (await fetch(`${rig.proxy.url}/v1beta/models`)).json()) as { models: ModelResource[] };
    const listed = list.models.find((model) => model.name === 'models/gemini-small');
    assert.deepEqual([listed?.inputTokenLimit, listed?.outputTokenLimit], [2048, 512]);
  });

  it('a prompt over the window: 400 INVALID_ARGUMENT naming both numbers, and the upstream is never called', async () => {
    upstream.reset();
    const response = await fetch(`${rig.proxy.url}/v1beta/models/gemini-small:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: prose(4000) }] }] }),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as {
      error: { code: number; status: string; message: string; details?: Array<Record<string, unknown>> };
    };
    assert.equal(body.error.status, 'INVALID_ARGUMENT');
    assert.match(
      body.error.message,
      /^The prompt is about [\d,]+ tokens, over the 2,048-token context window of the upstream model tiny-local: run \/compress/,
    );
    assert.equal(body.error.details?.[0]?.['reason'], 'PROMPT_TOO_LONG');
    assert.equal(upstream.received.length, 0, 'refused before any upstream call');
  });

  it('a prompt under the window reaches the upstream', async () => {
    upstream.reset();
    upstream.enqueue({
      kind: 'sse',
      writes: sseFromChunks([{ choices: [{ index: 0, delta: { content: 'ok' }, finish_reason: 'stop' }] }]),
    });
    const response = await fetch(`${rig.proxy.url}/v1beta/models/gemini-small:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: prose(200) }] }] }),
    });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /"text":"ok"/);
    assert.equal(upstream.received.length, 1);
  });

  it('decides by the byte bound without tokenizing when the body is shorter than the window, counts otherwise', async () => {
    const request: OpenAIChatRequest = {
      model: 'm',
      messages: [
        { role: 'system', content: prose(3000) },
        { role: 'user', content: 'hi' },
      ],
    };
    const body = JSON.stringify(request);
    const roomy = await assertPromptFits({ contextWindow: 200_000, maxOutputTokens: undefined }, 'm', body, request);
    assert.equal(roomy.by, 'bound');
    const tight = await assertPromptFits({ contextWindow: 8_000, maxOutputTokens: undefined }, 'm', body, request);
    assert.equal(tight.by, 'count', `a ${body.length}-byte body against an 8,000-token window is counted`);
    const counted = countPromptTokens(await loadTokenizer(), request);
    assert.ok(
      tight.by === 'count' && tight.tokens === counted && counted > 2_000 && counted < 8_000,
      `counted ${counted}`,
    );
    await assert.rejects(
      assertPromptFits({ contextWindow: 2_048, maxOutputTokens: undefined }, 'm', body, request),
      /over the 2,048-token context window/,
    );
  });

  it('presets and config overrides: patterns, first match, output limit inherited from the preset', () => {
    assert.equal(presetModelLimits('kimi', 'kimi-k2.5')?.contextWindow, 262_144);
    assert.equal(
      presetModelLimits('kimi', 'kimi-k2-0711-preview')?.contextWindow,
      131_072,
      'the more specific pattern is listed first',
    );
    assert.equal(presetModelLimits('vllm', 'anything'), undefined);
    const overrides = [['kimi-k2.5', 131_072, undefined]] as const;
    assert.deepEqual(modelLimitsFor(overrides, 'kimi', 'kimi-k2.5'), {
      contextWindow: 131_072,
      maxOutputTokens: 32_768,
    });
    assert.equal(modelLimitsFor(overrides, 'kimi', 'kimi-k2-turbo-preview')?.contextWindow, 262_144);
  });

  it('GLM vision and 1M models are matched before the families their names start with', () => {
    const window = (model: string): number | undefined => presetModelLimits('zhipu', model)?.contextWindow;
    assert.equal(window('glm-4.6v'), 131_072, 'GLM-4.6V is not GLM-4.6');
    assert.equal(window('glm-4.5v'), 65_536, 'GLM-4.5V is not GLM-4.5');
    assert.equal(window('glm-4.5-air'), 131_072);
    assert.equal(window('glm-4.6'), 200_000);
    assert.equal(window('glm-5.1'), 200_000);
    assert.equal(window('glm-5.2'), 1_048_576);
    assert.deepEqual(presetModelLimits('deepseek', 'deepseek-reasoner'), {
      contextWindow: 131_072,
      maxOutputTokens: 65_536,
    });
  });

  it('Ollama: prompt_tokens far below what the request holds is reported once per model', () => {
    assert.equal(truncationWarning('ollama', 'qwen3:8b', 13_000, 47_000), undefined, 'a normal ratio');
    const warning = truncationWarning('ollama', 'qwen3:8b', 4_096, 47_000);
    assert.match(
      warning ?? '',
      /qwen3:8b reported 4096 prompt tokens for a 47000-character request: .*OLLAMA_CONTEXT_LENGTH/,
    );
    assert.equal(truncationWarning('ollama', 'qwen3:8b', 4_096, 47_000), undefined, 'once');
    assert.equal(
      truncationWarning('openai', 'gpt-5', 10, 47_000),
      undefined,
      'other servers refuse instead of truncating',
    );
  });
});
