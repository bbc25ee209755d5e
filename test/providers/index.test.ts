/** The preset registry (src/providers/index.ts): which preset a base URL implies. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROVIDERS, PROVIDER_NAMES, inferProvider } from '../../src/providers/index.js';

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

describe('which presets need an API key', () => {
  it('every hosted API does; the local servers and the generic preset do not', () => {
    const optional = PROVIDER_NAMES.filter((name) => PROVIDERS[name].apiKey === 'optional');
    assert.deepEqual(optional.sort(), ['generic', 'llamacpp', 'ollama', 'vllm']);
  });
});
