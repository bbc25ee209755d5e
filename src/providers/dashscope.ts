/**
 * Qwen on DashScope compatible mode (docs/providers.md §10.6): `enable_thinking:false` on every unary call (thinking +
 * non-stream is a 400), `data:` without a space, tool continuations with `id:""`, embeddings at most 10 per call.
 */
import { OPENAI_LIKE_CAPABILITIES, OPENAI_TOOL_NAMES, type ProviderProfile } from './profile.js';

export const dashscope: ProviderProfile = {
  name: 'dashscope',
  displayName: 'Qwen (DashScope)',
  defaultBaseUrl: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
  defaultModelMapping: { 'gemini-*-flash-lite*': 'qwen-flash', 'gemini-*': 'qwen3-max' },
  defaultModel: 'qwen3-max',
  auth: 'bearer',
  apiKey: 'required',
  ...OPENAI_TOOL_NAMES,
  maxStopSequences: 4,
  capabilities: {
    ...OPENAI_LIKE_CAPABILITIES,
    images: 'none',
    acceptsTopK: true,
    thinking: 'enable-thinking',
    logprobs: false,
    multipleChoices: false,
    webSearch: 'dashscope-enable-search',
  },
  modelOverrides: [
    ['*vl*', { images: 'data-url+http' }],
    ['*omni*', { images: 'data-url+http' }],
    ['qvq*', { images: 'data-url+http' }],
  ],
  chatPath: '/chat/completions',
  embeddings: true,
  embeddingsPath: '/embeddings',
  maxEmbeddingBatch: 10,
  tokenCount: undefined,
  hostPatterns: [/(^|\.)dashscope(-intl)?\.aliyuncs\.com$/],
};
