/**
 * OpenRouter (docs/providers.md §10.8): comment lines, the finish chunk twice, `reasoning` + `reasoning_details`,
 * errors wrapped in `metadata.raw`, `reasoning:{…}` as the thinking control; everything else follows the routed
 * provider.
 */
import { OPENAI_LIKE_CAPABILITIES, OPENAI_TOOL_NAMES, type ProviderProfile } from './profile.js';

export const openrouter: ProviderProfile = {
  name: 'openrouter',
  displayName: 'OpenRouter',
  defaultBaseUrl: 'https://openrouter.ai/api/v1',
  defaultModelMapping: { 'gemini-*-flash-lite*': 'moonshotai/kimi-k2.5', 'gemini-*': 'moonshotai/kimi-k2.5' },
  defaultModel: 'moonshotai/kimi-k2.5',
  auth: 'bearer',
  apiKey: 'required',
  ...OPENAI_TOOL_NAMES,
  maxStopSequences: 4,
  capabilities: {
    ...OPENAI_LIKE_CAPABILITIES,
    acceptsTopK: true,
    thinking: 'openrouter-reasoning',
    multipleChoices: false,
    webSearch: 'openrouter-web-plugin',
  },
  modelOverrides: [],
  chatPath: '/chat/completions',
  embeddings: true,
  embeddingsPath: '/embeddings',
  maxEmbeddingBatch: 256,
  tokenCount: undefined,
  hostPatterns: [/(^|\.)openrouter\.ai$/],
  balanceErrors: { patterns: [/insufficient credits/i] },
};
