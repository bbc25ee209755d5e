/**
 * Ollama's `/v1` (docs/providers.md §10.9): ignores `tool_choice` (tools are filtered instead) and
 * `max_completion_tokens`, takes base64 jpeg/png/webp images only, `reasoning` field, whole arguments per chunk,
 * usage only with `include_usage`; tool names pass through.
 */
import { OPENAI_LIKE_CAPABILITIES, type ProviderProfile } from './profile.js';

export const ollama: ProviderProfile = {
  name: 'ollama',
  displayName: 'Ollama',
  defaultBaseUrl: 'http://127.0.0.1:11434/v1',
  defaultModelMapping: {},
  defaultModel: 'qwen3:8b',
  auth: 'bearer',
  apiKey: 'optional',
  toolNameForbidden: undefined,
  toolNameMaxLength: 256,
  toolNameMinLength: 1,
  toolNameFirstCharacter: undefined,
  maxStopSequences: 16,
  capabilities: {
    ...OPENAI_LIKE_CAPABILITIES,
    images: 'data-url',
    imageMimeTypes: ['image/jpeg', 'image/jpg', 'image/png', 'image/webp'],
    honoursToolChoice: false,
    thinkTags: true,
    logprobs: false,
    multipleChoices: false,
  },
  modelOverrides: [],
  chatPath: '/chat/completions',
  embeddings: true,
  embeddingsPath: '/embeddings',
  maxEmbeddingBatch: 256,
  tokenCount: undefined,
  hostPatterns: [/:11434$/],
  unreachableHint: 'start Ollama with `ollama serve`, and fetch the model once with `ollama pull <model>`',
};
