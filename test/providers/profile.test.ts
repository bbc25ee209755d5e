/** Capabilities by model (src/providers/profile.ts): one preset, different answers per model family. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROVIDERS } from '../../src/providers/index.js';
import { capabilitiesFor } from '../../src/providers/profile.js';

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
