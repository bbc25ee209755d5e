/**
 * OpenAI (docs/providers.md §10.1): reasoning models (o-series, gpt-5) take `max_completion_tokens`, only the default
 * temperature, `reasoning_effort`; o-series want the `developer` role; `top_k` is rejected.
 */
import {
  OPENAI_LIKE_CAPABILITIES,
  OPENAI_TOOL_NAMES,
  type ModelCapabilities,
  type ProviderProfile,
} from './profile.js';

export const REASONING_MODEL_OVERRIDES: Partial<ModelCapabilities> = {
  maxTokensParameter: 'max_completion_tokens',
  temperature: 'drop',
  // "Unsupported parameter: 'top_p' is not supported with this model." (docs/providers.md §10.1)
  acceptsTopP: false,
  thinking: 'reasoning-effort',
  // Reasoning models reject logprobs.
  logprobs: false,
};

export const openai: ProviderProfile = {
  name: 'openai',
  displayName: 'OpenAI',
  defaultBaseUrl: 'https://api.openai.com/v1',
  defaultModelMapping: { 'gemini-*-flash-lite*': 'gpt-5-mini', 'gemini-*': 'gpt-5' },
  defaultModel: 'gpt-5',
  auth: 'bearer',
  apiKey: 'required',
  ...OPENAI_TOOL_NAMES,
  maxStopSequences: 4,
  capabilities: { ...OPENAI_LIKE_CAPABILITIES, maxTokensParameter: 'max_completion_tokens' },
  modelOverrides: [
    // Search models answer with web results; they take no sampling parameters (src/search/native.ts drops them).
    ['gpt-*search*', { webSearch: 'openai-search-model' }],
    ['o[0-9]*', { ...REASONING_MODEL_OVERRIDES, systemRole: 'developer' }],
    ['gpt-5*', REASONING_MODEL_OVERRIDES],
    ['gpt-3.5*', { images: 'none' }],
  ],
  chatPath: '/chat/completions',
  embeddings: true,
  embeddingsPath: '/embeddings',
  maxEmbeddingBatch: 2048,
  tokenCount: undefined,
  hostPatterns: [/(^|\.)openai\.com$/],
  // A 429, but out of credit: not retryable.
  balanceErrors: { patterns: [/insufficient_quota/i, /exceeded your current quota/i] },
};
