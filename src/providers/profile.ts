/**
 * What one upstream dialect accepts, sends and rejects, as typed data (providers.md §1). Translators read a profile;
 * they never branch on a provider's name. The providers issue adds one small file per upstream.
 */
export interface ProviderProfile {
  readonly name: string;
  /** Characters allowed in a tool name; everything else is mapped reversibly (providers.md §3.3). */
  readonly toolNameCharset: RegExp;
  readonly toolNameMaxLength: number;
  /** Whether `top_k` may be sent (Gemini CLI always sends topK:64; OpenAI rejects it). */
  readonly acceptsTopK: boolean;
  readonly maxTokensParameter: 'max_tokens' | 'max_completion_tokens';
  readonly maxStopSequences: number;
  /** `stream_options.include_usage` on streams. */
  readonly streamUsage: boolean;
  /** Best structured-output form the upstream accepts. */
  readonly responseFormat: 'json_schema' | 'json_object' | 'none';
  /** Whether image parts may be sent at all, and whether http(s) URLs (not only data URLs) are accepted. */
  readonly images: boolean;
  readonly imageHttpUrls: boolean;
  /** Path of the chat endpoint relative to the base URL. */
  readonly chatPath: string;
  readonly embeddingsPath: string;
  /** Most inputs one `/embeddings` call may carry (DashScope: 10). */
  readonly maxEmbeddingBatch: number;
}

export const genericProfile: ProviderProfile = {
  name: 'generic',
  toolNameCharset: /[^a-zA-Z0-9_-]/g,
  toolNameMaxLength: 64,
  acceptsTopK: false,
  maxTokensParameter: 'max_tokens',
  maxStopSequences: 4,
  streamUsage: true,
  responseFormat: 'json_schema',
  images: true,
  imageHttpUrls: true,
  chatPath: '/chat/completions',
  embeddingsPath: '/embeddings',
  maxEmbeddingBatch: 256,
};

export const PROVIDER_PROFILES: Readonly<Record<string, ProviderProfile>> = { generic: genericProfile };
