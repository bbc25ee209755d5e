/**
 * Groq (docs/providers.md §10.7): rejects `reasoning_content`/`reasoning` on messages, `reasoning_format:"parsed"` on
 * reasoning models, usage twice, `event: error` mid-stream, OpenAI's tool-name rule, no embeddings.
 */
import { OPENAI_LIKE_CAPABILITIES, OPENAI_TOOL_NAMES, type ProviderProfile } from './profile.js';

export const groq: ProviderProfile = {
  name: 'groq',
  displayName: 'Groq',
  defaultBaseUrl: 'https://api.groq.com/openai/v1',
  defaultModelMapping: {
    'gemini-*-flash-lite*': 'llama-3.1-8b-instant',
    'gemini-*': 'moonshotai/kimi-k2-instruct-0905',
  },
  defaultModel: 'moonshotai/kimi-k2-instruct-0905',
  auth: 'bearer',
  apiKey: 'required',
  ...OPENAI_TOOL_NAMES,
  maxStopSequences: 4,
  capabilities: {
    ...OPENAI_LIKE_CAPABILITIES,
    images: 'none',
    reasoningHistory: 'forbid',
    thinkTags: true,
    logprobs: false,
    multipleChoices: false,
  },
  modelOverrides: [
    ['*llama-4*', { images: 'data-url+http' }],
    ['*qwen3*', { thinking: 'reasoning-format' }],
    ['*gpt-oss*', { thinking: 'reasoning-format' }],
    ['*deepseek-r1*', { thinking: 'reasoning-format' }],
  ],
  chatPath: '/chat/completions',
  embeddings: false,
  embeddingsPath: '/embeddings',
  maxEmbeddingBatch: 16,
  tokenCount: undefined,
  hostPatterns: [/(^|\.)groq\.com$/],
};
