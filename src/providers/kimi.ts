/**
 * Moonshot Kimi (docs/providers.md §10.4): usage inside `choices[0]`, ids `functions.<name>:<idx>`, tool names
 * `^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$`, MFJS schema rules, reasoning required on tool-call turns with thinking, no
 * `required` tool_choice, data-URL images on vision models only, fixed temperatures on k2.5/k2.6, a token-count
 * endpoint, no embeddings.
 */
import { OPENAI_LIKE_CAPABILITIES, chatTokenCountPayload, field, type ProviderProfile } from './profile.js';

const AUTO_NONE = { none: true, required: false, named: false } as const;

export const kimi: ProviderProfile = {
  name: 'kimi',
  displayName: 'Moonshot Kimi',
  defaultBaseUrl: 'https://api.moonshot.ai/v1',
  defaultModelMapping: { 'gemini-*-flash-lite*': 'kimi-k2-turbo-preview', 'gemini-*': 'kimi-k2.5' },
  defaultModel: 'kimi-k2.5',
  auth: 'bearer',
  apiKey: 'required',
  toolNameForbidden: /[^a-zA-Z0-9_-]/g,
  toolNameMaxLength: 64,
  toolNameMinLength: 3,
  toolNameFirstCharacter: /[a-zA-Z_]/,
  maxStopSequences: 4,
  capabilities: {
    ...OPENAI_LIKE_CAPABILITIES,
    images: 'none',
    toolChoice: { none: true, required: false, named: true },
    toolChoiceWhileThinking: AUTO_NONE,
    temperature: { min: 0, max: 1 },
    schemaDialect: 'kimi',
    logprobs: false,
    multipleChoices: false,
    webSearch: 'kimi-builtin',
  },
  modelOverrides: [
    ['kimi-k2-thinking*', { reasoningHistory: 'require-on-tool-turns', temperature: 'drop' }],
    [
      'kimi-k2.[5-9]*',
      { images: 'data-url', reasoningHistory: 'require-on-tool-turns', temperature: 'drop', thinking: 'thinking-type' },
    ],
    ['kimi-k3*', { images: 'data-url', reasoningHistory: 'require-on-tool-turns', thinking: 'thinking-type' }],
    ['*vision*', { images: 'data-url' }],
  ],
  chatPath: '/chat/completions',
  embeddings: false,
  embeddingsPath: '/embeddings',
  maxEmbeddingBatch: 16,
  tokenCount: {
    relativeTo: 'base',
    path: '/tokenizers/estimate-token-count',
    payload: chatTokenCountPayload,
    readCount: (answer) => field(answer, 'data', 'total_tokens'),
  },
  hostPatterns: [/(^|\.)moonshot\.(cn|ai)$/, /(^|\.)kimi\.(com|ai)$/],
  // 403 exceeded_current_quota_error, or 429 "… suspended due to insufficient balance".
  balanceErrors: { patterns: [/exceeded_current_quota/i, /suspended due to insufficient balance/i] },
};
