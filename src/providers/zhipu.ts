/**
 * Zhipu GLM / Z.ai (docs/providers.md §10.5): the base URL already holds the version (`…/api/paas/v4`), tool_choice
 * `auto` only, `json_object` only, `max_tokens` only, thinking on by default on 4.7/5, finish values `sensitive`,
 * `network_error`, `model_context_window_exceeded`, balance errors as 429 code "1113", a tokenizer endpoint.
 */
import {
  OPENAI_LIKE_CAPABILITIES,
  OPENAI_TOOL_NAMES,
  chatTokenCountPayload,
  field,
  type ProviderProfile,
} from './profile.js';

export const zhipu: ProviderProfile = {
  name: 'zhipu',
  displayName: 'Zhipu GLM / Z.ai',
  defaultBaseUrl: 'https://api.z.ai/api/paas/v4',
  defaultModelMapping: { 'gemini-*-flash-lite*': 'glm-4.7-flash', 'gemini-*': 'glm-5' },
  defaultModel: 'glm-5',
  auth: 'bearer',
  apiKey: 'required',
  ...OPENAI_TOOL_NAMES,
  maxStopSequences: 1,
  capabilities: {
    ...OPENAI_LIKE_CAPABILITIES,
    images: 'none',
    responseFormat: 'json_object',
    toolChoice: { none: false, required: false, named: false },
    thinking: 'thinking-type',
    logprobs: false,
    multipleChoices: false,
    webSearch: 'zhipu-web-search-tool',
  },
  modelOverrides: [['glm-*v*', { images: 'data-url+http' }]],
  chatPath: '/chat/completions',
  embeddings: true,
  embeddingsPath: '/embeddings',
  maxEmbeddingBatch: 64,
  tokenCount: {
    relativeTo: 'base',
    path: '/tokenizer',
    payload: chatTokenCountPayload,
    readCount: (answer) => field(answer, 'usage', 'prompt_tokens'),
  },
  hostPatterns: [/(^|\.)bigmodel\.cn$/, /(^|\.)z\.ai$/],
  // A 429 with code "1113" and "余额不足或无可用资源包" / "Insufficient balance or no resource package".
  balanceErrors: { codes: ['1113'], patterns: [/no resource package/i, /余额不足/] },
};
