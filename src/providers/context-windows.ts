/**
 * Each preset's models' context windows and output limits, as published by the providers (token counts; patterns use
 * `*`, first match wins, case-insensitive). They size Gemini CLI's compression threshold, are reported by
 * models.list/get as inputTokenLimit/outputTokenLimit, and let the proxy refuse a prompt that cannot fit before it
 * costs an upstream call. A model not listed has no known window: config `model_limits` can give one (it also
 * overrides these). Ollama's entries are the models' own windows; the server only uses as much as its
 * OLLAMA_CONTEXT_LENGTH (or `num_ctx`) allows and silently drops the rest (README, "Ollama").
 */
import type { ProviderName } from './profile.js';

export interface ModelLimits {
  /** Prompt and answer together, in tokens. */
  readonly contextWindow: number;
  /** Most tokens one answer may have; undefined when not published. */
  readonly maxOutputTokens: number | undefined;
}

type Table = ReadonlyArray<readonly [pattern: string, contextWindow: number, maxOutputTokens: number | undefined]>;

const OPENAI: Table = [
  ['gpt-5*', 400_000, 128_000],
  ['gpt-4.1*', 1_047_576, 32_768],
  ['gpt-4o*', 128_000, 16_384],
  ['o3*', 200_000, 100_000],
  ['o4-mini*', 200_000, 100_000],
  ['gpt-oss*', 131_072, 32_768],
];

const KIMI: Table = [
  ['kimi-k2-0711*', 131_072, 32_768],
  ['kimi-k2*', 262_144, 32_768],
  ['kimi-k3*', 262_144, 32_768],
  ['moonshot-v1-8k*', 8_192, 4_096],
  ['moonshot-v1-32k*', 32_768, 4_096],
  ['moonshot-v1-128k*', 131_072, 4_096],
];

const QWEN3_LOCAL: Table = [
  ['qwen3:0.6b', 40_960, undefined],
  ['qwen3:1.7b', 40_960, undefined],
  ['qwen3:4b', 262_144, undefined],
  ['qwen3:8b', 40_960, undefined],
  ['qwen3:14b', 40_960, undefined],
  ['qwen3:30b*', 262_144, undefined],
  ['qwen3:32b', 40_960, undefined],
  ['qwen3-coder*', 262_144, undefined],
  ['gpt-oss*', 131_072, undefined],
  ['llama3.1*', 131_072, undefined],
  ['llama3.2*', 131_072, undefined],
];

const TABLES: Readonly<Record<ProviderName, Table>> = {
  generic: [],
  openai: OPENAI,
  azure: OPENAI,
  kimi: KIMI,
  deepseek: [
    ['deepseek-chat', 131_072, 8_192],
    ['deepseek-reasoner', 131_072, 65_536],
  ],
  zhipu: [
    ['glm-5*', 200_000, 128_000],
    ['glm-4.7*', 200_000, 128_000],
    ['glm-4.6*', 200_000, 128_000],
    ['glm-4.5*', 131_072, 98_304],
  ],
  dashscope: [
    ['qwen3-max*', 262_144, 65_536],
    ['qwen-flash*', 1_000_000, 32_768],
    ['qwen-plus*', 1_000_000, 32_768],
    ['qwen3-coder-plus*', 1_000_000, 65_536],
  ],
  groq: [
    ['moonshotai/kimi-k2-instruct-0905', 262_144, 16_384],
    ['llama-3.1-8b-instant', 131_072, 131_072],
    ['llama-3.3-70b-versatile', 131_072, 32_768],
    ['openai/gpt-oss-*', 131_072, 65_536],
  ],
  openrouter: [
    ['moonshotai/kimi-k2*', 262_144, undefined],
    ['openai/gpt-5*', 400_000, 128_000],
  ],
  ollama: QWEN3_LOCAL,
  vllm: [],
  llamacpp: [],
};

const patterns = new Map<string, RegExp>();

/** `*` is the only wildcard; everything else is literal. */
export function matchesModelPattern(pattern: string, model: string): boolean {
  let regex = patterns.get(pattern);
  if (regex === undefined) {
    regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\/?]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
    patterns.set(pattern, regex);
  }
  return regex.test(model);
}

/** The preset's published limits for one upstream model, or undefined when the preset does not know the model. */
export function presetModelLimits(provider: ProviderName, model: string): ModelLimits | undefined {
  for (const [pattern, contextWindow, maxOutputTokens] of TABLES[provider]) {
    if (matchesModelPattern(pattern, model)) return { contextWindow, maxOutputTokens };
  }
  return undefined;
}

/** Config `model_limits`, in file order: upstream model name or pattern, context window, output limit. */
export type ModelLimitOverrides = ReadonlyArray<
  readonly [pattern: string, contextWindow: number, maxOutputTokens: number | undefined]
>;

/** Config `model_limits` first (an override without an output limit keeps the preset's), then the preset's table. */
export function modelLimitsFor(
  overrides: ModelLimitOverrides,
  provider: ProviderName,
  model: string,
): ModelLimits | undefined {
  const preset = presetModelLimits(provider, model);
  for (const [pattern, contextWindow, maxOutputTokens] of overrides) {
    if (matchesModelPattern(pattern, model))
      return { contextWindow, maxOutputTokens: maxOutputTokens ?? preset?.maxOutputTokens };
  }
  return preset;
}

/**
 * Servers that cut an over-long prompt to their configured context length and still answer, instead of refusing it
 * (Ollama keeps the end of the prompt, up to OLLAMA_CONTEXT_LENGTH / num_ctx tokens).
 */
const SILENT_TRUNCATION: ReadonlySet<ProviderName> = new Set(['ollama']);

export function truncatesSilently(provider: ProviderName): boolean {
  return SILENT_TRUNCATION.has(provider);
}
