/**
 * vLLM (docs/providers.md §10.10): `reasoning` (new) or `reasoning_content` (old), `data: {"error":…}` mid-stream,
 * `finish_reason:"abort"` followed by `[DONE]`, `top_k` accepted, `/tokenize` for countTokens.
 */
import { OPENAI_LIKE_CAPABILITIES, OPENAI_TOOL_NAMES, field, type ProviderProfile } from './profile.js';

export const vllm: ProviderProfile = {
  name: 'vllm',
  displayName: 'vLLM',
  defaultBaseUrl: 'http://127.0.0.1:8000/v1',
  defaultModelMapping: {},
  defaultModel: undefined,
  auth: 'bearer',
  apiKey: 'optional',
  ...OPENAI_TOOL_NAMES,
  maxStopSequences: 16,
  capabilities: { ...OPENAI_LIKE_CAPABILITIES, acceptsTopK: true, thinking: 'template-kwargs', thinkTags: true },
  modelOverrides: [],
  chatPath: '/chat/completions',
  embeddings: true,
  embeddingsPath: '/embeddings',
  maxEmbeddingBatch: 256,
  tokenCount: {
    relativeTo: 'origin',
    path: '/tokenize',
    payload: (request) => ({ model: request.model, messages: request.messages }),
    readCount: (answer) => field(answer, 'count'),
  },
  hostPatterns: [],
  unreachableHint: 'start vLLM with `vllm serve <model>`',
};
