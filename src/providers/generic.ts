/** Any OpenAI-compatible server: OpenAI's rules, nothing assumed beyond them. */
import { OPENAI_LIKE_CAPABILITIES, OPENAI_TOOL_NAMES, type ProviderProfile } from './profile.js';

export const generic: ProviderProfile = {
  name: 'generic',
  displayName: 'Generic OpenAI-compatible',
  defaultBaseUrl: undefined,
  defaultModelMapping: {},
  defaultModel: undefined,
  auth: 'bearer',
  // It may front a local server as well as a hosted API: a missing key is not reported.
  apiKey: 'optional',
  ...OPENAI_TOOL_NAMES,
  maxStopSequences: 4,
  capabilities: { ...OPENAI_LIKE_CAPABILITIES, thinkTags: true, multipleChoices: false },
  modelOverrides: [],
  chatPath: '/chat/completions',
  embeddings: true,
  embeddingsPath: '/embeddings',
  maxEmbeddingBatch: 256,
  tokenCount: undefined,
  hostPatterns: [],
};
