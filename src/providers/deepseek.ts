/**
 * DeepSeek (docs/providers.md §10.3): `thinking` sent explicitly, reasoning required on tool-call turns while thinking,
 * tool_choice only auto/none while thinking, no `json_schema` (json_object with the word "json"), no images, no
 * embeddings, keep-alive comments, blank lines before unary bodies.
 */
import { OPENAI_LIKE_CAPABILITIES, OPENAI_TOOL_NAMES, type ProviderProfile } from './profile.js';

export const deepseek: ProviderProfile = {
  name: 'deepseek',
  displayName: 'DeepSeek',
  defaultBaseUrl: 'https://api.deepseek.com/v1',
  defaultModelMapping: { 'gemini-*-flash-lite*': 'deepseek-v4-flash', 'gemini-*': 'deepseek-v4-pro' },
  defaultModel: 'deepseek-v4-pro',
  auth: 'bearer',
  apiKey: 'required',
  ...OPENAI_TOOL_NAMES,
  maxStopSequences: 16,
  capabilities: {
    ...OPENAI_LIKE_CAPABILITIES,
    images: 'none',
    responseFormat: 'json_object',
    toolChoiceWhileThinking: { none: true, required: false, named: false },
    reasoningHistory: 'require-on-tool-turns',
    thinking: 'thinking-type',
    // logprobs are an error in thinking mode (docs/providers.md §4.3); no `n`.
    logprobs: false,
    multipleChoices: false,
  },
  modelOverrides: [['deepseek-chat', { thinking: 'none', reasoningHistory: 'optional', logprobs: true }]],
  chatPath: '/chat/completions',
  embeddings: false,
  embeddingsPath: '/embeddings',
  maxEmbeddingBatch: 16,
  tokenCount: undefined,
  hostPatterns: [/(^|\.)deepseek\.com$/],
  // 402 "Insufficient Balance".
  balanceErrors: { patterns: [/insufficient[_ ]balance/i] },
};
