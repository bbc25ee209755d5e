/**
 * llama.cpp server (docs/providers.md §10.11): several deterministic failures come back as 500 (mapped to 400 by the
 * error classifier), images only with `--mmproj`, `/tokenize` counts raw text, tool names pass through, parallel
 * calls only on request.
 */
import { OPENAI_LIKE_CAPABILITIES, field, type ProviderProfile } from './profile.js';

export const llamacpp: ProviderProfile = {
  name: 'llamacpp',
  displayName: 'llama.cpp server',
  defaultBaseUrl: 'http://127.0.0.1:8080/v1',
  defaultModelMapping: {},
  defaultModel: 'default',
  auth: 'bearer',
  apiKey: 'optional',
  toolNameForbidden: undefined,
  toolNameMaxLength: 256,
  toolNameMinLength: 1,
  toolNameFirstCharacter: undefined,
  maxStopSequences: 16,
  // Parallel calling is off by default on llama.cpp and needs `parallel_tool_calls: true` (docs/providers.md §3.7).
  capabilities: {
    ...OPENAI_LIKE_CAPABILITIES,
    images: 'data-url',
    acceptsTopK: true,
    thinkTags: true,
    parallelToolCallsFlag: true,
    multipleChoices: false,
  },
  modelOverrides: [],
  chatPath: '/chat/completions',
  embeddings: true,
  embeddingsPath: '/embeddings',
  maxEmbeddingBatch: 64,
  tokenCount: {
    relativeTo: 'origin',
    path: '/tokenize',
    // The server's /tokenize takes plain text, not messages: the message texts joined.
    payload: (request) => ({
      content: request.messages
        .map((message) => (typeof message.content === 'string' ? message.content : ''))
        .join('\n'),
    }),
    readCount: (answer) => {
      const tokens = field(answer, 'tokens');
      return Array.isArray(tokens) ? tokens.length : undefined;
    },
  },
  hostPatterns: [/:8080$/],
  unreachableHint: 'start llama-server with `llama-server -m <model.gguf> --jinja`',
};
