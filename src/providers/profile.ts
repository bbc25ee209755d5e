/**
 * What one upstream dialect accepts, sends and rejects, as typed data (docs/providers.md §1, §10). Translators read a
 * profile's resolved capabilities; they never branch on a provider's name. Each preset is one small file in this
 * folder; capabilities that differ by model are listed as pattern overrides, first match wins.
 */

export type ProviderName =
  | 'generic'
  | 'openai'
  | 'azure'
  | 'kimi'
  | 'deepseek'
  | 'zhipu'
  | 'dashscope'
  | 'groq'
  | 'openrouter'
  | 'ollama'
  | 'vllm'
  | 'llamacpp';

/**
 * The upstream's own web search, which answers Gemini's googleSearch when `web_search.backend` is `provider` or unset
 * (src/search/native.ts holds the request and response shapes of each).
 */
export type NativeWebSearch =
  /** Zhipu: `tools:[{type:"web_search",web_search:{enable,search_result}}]`; results in a top-level `web_search`. */
  | 'zhipu-web-search-tool'
  /** OpenRouter: `plugins:[{id:"web"}]`; sources as `url_citation` annotations. */
  | 'openrouter-web-plugin'
  /** Moonshot: the builtin `$web_search` function, whose calls the client echoes back; no source URLs. */
  | 'kimi-builtin'
  /** DashScope: `enable_search`; no source URLs in compatible mode. */
  | 'dashscope-enable-search'
  /** OpenAI's search models: `web_search_options`; sources as `url_citation` annotations. */
  | 'openai-search-model';

/** How Gemini's thinkingConfig is expressed upstream (docs/providers.md §4.3). */
export type ThinkingControl =
  | 'none'
  /** `reasoning_effort: low|medium|high` (OpenAI reasoning models). */
  | 'reasoning-effort'
  /** `thinking: {type: enabled|disabled}` (DeepSeek V4, Kimi k2.5+, GLM 4.5+). */
  | 'thinking-type'
  /** `enable_thinking: bool`, false on every unary call (DashScope). */
  | 'enable-thinking'
  /** `reasoning_format: parsed` (Groq reasoning models). */
  | 'reasoning-format'
  /** `reasoning: {effort | max_tokens | enabled}` (OpenRouter). */
  | 'openrouter-reasoning'
  /** `chat_template_kwargs: {enable_thinking: false}` when thinking is off (vLLM Qwen3 templates). */
  | 'template-kwargs';

export interface ToolChoiceSupport {
  readonly none: boolean;
  readonly required: boolean;
  readonly named: boolean;
}

export interface ModelCapabilities {
  /** `data-url`: base64 data URLs only; `data-url+http`: also http(s) URLs (docs/providers.md §7). */
  readonly images: 'none' | 'data-url' | 'data-url+http';
  /** When set, only these image MIME types are sent; others become a text note (Ollama). */
  readonly imageMimeTypes?: readonly string[];
  readonly responseFormat: 'json_schema' | 'json_object' | 'none';
  readonly toolChoice: ToolChoiceSupport;
  /** Narrower tool_choice support while thinking is on (DeepSeek, Kimi). */
  readonly toolChoiceWhileThinking?: ToolChoiceSupport;
  /** Whether `tool_choice` is honoured at all; Ollama ignores it, so `tools` are filtered instead. */
  readonly honoursToolChoice: boolean;
  /** Reasoning text on earlier assistant tool-call turns (docs/providers.md §4.2). */
  readonly reasoningHistory: 'require-on-tool-turns' | 'forbid' | 'optional';
  readonly maxTokensParameter: 'max_tokens' | 'max_completion_tokens';
  /** `drop`: fixed-temperature models reject or ignore custom values; a range is clamped. */
  readonly temperature: 'any' | 'drop' | { readonly min: number; readonly max: number };
  readonly acceptsTopK: boolean;
  /** False for models that refuse `top_p` (OpenAI's reasoning models: o-series, gpt-5); Gemini CLI always sends topP. */
  readonly acceptsTopP: boolean;
  readonly streamUsage: boolean;
  readonly thinking: ThinkingControl;
  /** `<think>…</think>` (or ◁think▷) inside `content` is reasoning. */
  readonly thinkTags: boolean;
  readonly systemRole: 'system' | 'developer';
  /** Kimi's MFJS validator (strict by default) needs every property typed and `$ref` only into `#/$defs`. */
  readonly schemaDialect: 'plain' | 'kimi';
  /** `logprobs`/`top_logprobs` are honoured (Gemini `responseLogprobs`/`logprobs`); otherwise such a request is a 400. */
  readonly logprobs: boolean;
  /** `n` > 1 returns that many choices (Gemini `candidateCount`); otherwise candidateCount > 1 is a 400. */
  readonly multipleChoices: boolean;
  /** Send `parallel_tool_calls: true` with tools: the server returns one call per turn otherwise (llama.cpp). */
  readonly parallelToolCallsFlag?: boolean;
  /** The upstream's native web search, if it has one. */
  readonly webSearch?: NativeWebSearch;
}

/** The part of a translated chat request a token-count endpoint may need (structural, so translate/ stays above). */
export interface TokenCountRequest {
  readonly model: string;
  readonly messages: ReadonlyArray<{ readonly content?: unknown }>;
  readonly tools?: readonly unknown[] | undefined;
}

/**
 * A provider's own tokenizer endpoint (docs/providers.md §9.1): where it is, what it takes, where the count is in its
 * answer. countTokens falls back to the local tokenizer on any failure, so `readCount` may return anything.
 */
export interface TokenCountEndpoint {
  /** `base`: appended to the configured base URL; `origin`: to the base URL without a trailing `/v1` (servers' root). */
  readonly relativeTo: 'base' | 'origin';
  readonly path: string;
  readonly payload: (request: TokenCountRequest) => unknown;
  readonly readCount: (answer: unknown) => unknown;
}

/** Read `answer.a.b…` of a parsed JSON answer, undefined when any step is missing. */
export function field(answer: unknown, ...path: string[]): unknown {
  let node = answer;
  for (const key of path)
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

/** Moonshot's and Zhipu's form of the chat request: model, messages and tools. */
export function chatTokenCountPayload(request: TokenCountRequest): unknown {
  return { model: request.model, messages: request.messages, ...(request.tools ? { tools: request.tools } : {}) };
}

export interface ProviderProfile {
  readonly name: ProviderName;
  readonly displayName: string;
  readonly defaultBaseUrl: string | undefined;
  /** Gemini name → upstream model, used when the config says nothing (quick start). */
  readonly defaultModelMapping: Readonly<Record<string, string>>;
  readonly defaultModel: string | undefined;
  readonly auth: 'bearer' | 'azure-api-key';
  /**
   * `required`: every hosted API; a config without a key is reported at start and `init` asks for one.
   * `optional`: local servers (Ollama, vLLM, llama.cpp) and the generic preset, which usually run without one.
   */
  readonly apiKey: 'required' | 'optional';
  /** Characters not allowed in tool names (replaced reversibly); undefined = names pass through. */
  readonly toolNameForbidden: RegExp | undefined;
  readonly toolNameMaxLength: number;
  readonly toolNameMinLength: number;
  /** The first character must match this (Kimi: a letter or underscore). */
  readonly toolNameFirstCharacter: RegExp | undefined;
  readonly maxStopSequences: number;
  readonly capabilities: ModelCapabilities;
  /** Model-pattern overrides, first match wins (`*` wildcard, case-insensitive). */
  readonly modelOverrides: ReadonlyArray<readonly [pattern: string, overrides: Partial<ModelCapabilities>]>;
  readonly chatPath: string;
  readonly embeddings: boolean;
  readonly embeddingsPath: string;
  /** Most inputs one `/embeddings` call may carry (DashScope: 10). */
  readonly maxEmbeddingBatch: number;
  readonly tokenCount: TokenCountEndpoint | undefined;
  /** Hosts (or `:port`) that identify this provider in a base URL, for inference. */
  readonly hostPatterns: readonly RegExp[];
  /**
   * What to do when nothing listens at the base URL (a local server that is not started): an imperative clause that
   * ends a sentence, such as "start Ollama with `ollama serve`".
   */
  readonly unreachableHint?: string;
  /** How this provider reports an empty balance or quota, which no retry can fix (docs/providers.md §8.3). */
  readonly balanceErrors?: BalanceErrorSignatures;
}

/** Matched against an error body's `type`, `code` and `message`. */
export interface BalanceErrorSignatures {
  /** Exact `code` values (Zhipu's digit string "1113"). */
  readonly codes?: readonly string[];
  readonly patterns: readonly RegExp[];
}

export const FULL_TOOL_CHOICE: ToolChoiceSupport = { none: true, required: true, named: true };

export const OPENAI_LIKE_CAPABILITIES: ModelCapabilities = {
  images: 'data-url+http',
  responseFormat: 'json_schema',
  toolChoice: FULL_TOOL_CHOICE,
  honoursToolChoice: true,
  reasoningHistory: 'optional',
  maxTokensParameter: 'max_tokens',
  temperature: 'any',
  acceptsTopK: false,
  acceptsTopP: true,
  streamUsage: true,
  thinking: 'none',
  thinkTags: false,
  systemRole: 'system',
  schemaDialect: 'plain',
  logprobs: true,
  multipleChoices: true,
};

/** The OpenAI tool-name rule, also enforced by Groq and DeepSeek: `^[a-zA-Z0-9_-]{1,64}$`. */
export const OPENAI_TOOL_NAMES = {
  toolNameForbidden: /[^a-zA-Z0-9_-]/g,
  toolNameMaxLength: 64,
  toolNameMinLength: 1,
  toolNameFirstCharacter: undefined,
} as const;

const patternCache = new Map<string, RegExp>();

function patternRegex(pattern: string): RegExp {
  let regex = patternCache.get(pattern);
  if (regex === undefined) {
    // `*` is a wildcard and `[…]` a character class; everything else is literal.
    regex = new RegExp(`^${pattern.replace(/[.+^${}()|\\/?]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
    patternCache.set(pattern, regex);
  }
  return regex;
}

/** The capabilities that apply to one upstream model. */
export function capabilitiesFor(profile: ProviderProfile, model: string): ModelCapabilities {
  for (const [pattern, overrides] of profile.modelOverrides) {
    if (patternRegex(pattern).test(model)) return { ...profile.capabilities, ...overrides };
  }
  return profile.capabilities;
}
