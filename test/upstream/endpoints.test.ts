/** Upstream URLs and auth headers per preset (src/upstream/endpoints.ts), Azure's deployment paths included. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROVIDERS } from '../../src/providers/index.js';
import { authHeaders, streamUsageOverride, upstreamUrl, type UpstreamTarget } from '../../src/upstream/endpoints.js';

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
