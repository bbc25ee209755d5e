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

// Sources, checked 2026-12-02 through a search of public documentation; "K" in a provider's page is read as 1,024
// tokens where the provider's own API limits are powers of two (128K = 131,072), else as 1,000. Where no source was
// found the comment says so: treat that number as a best guess and override it with config `model_limits`.

// OpenAI (Azure serves the same models). gpt-4.1: 1,047,576 / 32,768, the model page
// https://platform.openai.com/docs/models/gpt-4.1 as quoted by https://vercel.com/ai-gateway/models/gpt-4.1-fast.md;
// gpt-4o 128K / 16,384 and the gpt-5 family 400K / 128K:
// https://docs.uipath.com/autopilot/other/latest/user-guide/supported-models-and-limits.md;
// o3 200,000 / 100,000: https://platform.openai.com/docs/models/o3 (as cited in agcodex-core's openai_model_info.rs
// on docs.rs); o4-mini: no page found, taken to be o3's. gpt-oss: a 128K token pool shared by prompt and answer
// (https://openai.com/index/gpt-oss-model-card/), no separate output limit published.
const OPENAI: Table = [
  ['gpt-5*', 400_000, 128_000],
  ['gpt-4.1*', 1_047_576, 32_768],
  ['gpt-4o*', 128_000, 16_384],
  ['o3*', 200_000, 100_000],
  ['o4-mini*', 200_000, 100_000],
  ['gpt-oss*', 131_072, undefined],
];

// Moonshot Kimi. K2 0711 had 128K, K2 0905 and later (turbo, thinking, k2.5) 256K = 262,144: "extending context
// length from 128K to 256K tokens" (https://developer.puter.com/ai/moonshotai/), 262.1K
// (https://vercel.com/ai-gateway/models/kimi-k2-0905/uptime); K2's 32,768 output:
// https://novita.ai/zh/models/model-detail/moonshotai-kimi-k2-instruct. kimi-k3: no source found (assumed K2.5's).
// moonshot-v1-*: the window is in the model's name; no output limit found (4,096 is a guess).
const KIMI: Table = [
  ['kimi-k2-0711*', 131_072, 32_768],
  ['kimi-k2*', 262_144, 32_768],
  ['kimi-k3*', 262_144, 32_768],
  ['moonshot-v1-8k*', 8_192, 4_096],
  ['moonshot-v1-32k*', 32_768, 4_096],
  ['moonshot-v1-128k*', 131_072, 4_096],
];

// Ollama: the window of the model as Ollama packages it, not what the server gives a request, which is
// OLLAMA_CONTEXT_LENGTH or num_ctx, by default 4k below 24 GiB of VRAM, 32k up to 48 GiB, 256k above
// (https://github.com/ollama/ollama/blob/main/docs/context-length.mdx); no output limit beyond the window.
// Qwen3 8B/14B/32B: 32,768 native, 131,072 with YaRN (https://huggingface.co/Qwen/Qwen3-8B); Ollama's builds declare
// 40,960 (the library page, https://ollama.com/library/qwen3, was not found through the search: the 40,960 is what
// the proxy's own Ollama preset has always assumed). qwen3:4b and qwen3:30b are the 2507 updates with 262,144
// (`qwen3.context_length` in a Qwen3-4B-Instruct-2507 GGUF). Llama 3.1/3.2: 131,072 (`llama.context_length` of
// Meta's GGUF). gpt-oss: see OpenAI. qwen3-coder: 262,144, no source found.
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
  // DeepSeek's pricing page (https://api-docs.deepseek.com/quick_start/pricing) said 64K / 8K for both models in
  // early 2025; since V3.1 (August 2025) both aliases serve 128K, deepseek-chat up to 8K of output and
  // deepseek-reasoner up to 64K (V3.2 pricing table as copied in RooCode's
  // https://github.com/RooCodeInc/Roo-Code/blob/main/packages/types/src/providers/deepseek.ts, Dec 2025, which
  // keeps 8K for both; 64K for the reasoner: https://docs.empiriolabs.ai/models/deepseek-v3-2).
  deepseek: [
    ['deepseek-chat', 131_072, 8_192],
    ['deepseek-reasoner', 131_072, 65_536],
  ],
  // Z.ai GLM. GLM-4.5 and 4.5-Air: 128K / 96K (https://docs.z.ai/guides/llm/glm-4.5). GLM-4.6: 200K / 128K
  // (Z.ai's figures as quoted in https://www.cometapi.com/es/glm-4-6-api); GLM-4.6V (vision): 128K
  // (https://vercel.com/ai-gateway/models/glm-4.6v/faq), output not found. GLM-4.7, GLM-5 and 5.1: 200K
  // (https://www.morphllm.com/glm-5, https://aiwiki.ai/wiki/glm_5), output assumed GLM-4.6's. GLM-5.2 and later:
  // 1,048,576 / 131,072 (https://openrouter.ai/~z-ai/glm-latest/api, https://wavespeed.ai/zh-CN/llm/z-ai/glm-5.2).
  // GLM-4.5V (vision): 64K (https://vercel.com/ai-gateway/models/glm-4.5v/about, https://sup.ai/models/zai-glm-4.5v);
  // its output limit is 16K there and "64K" on https://docs.z.ai/guides/vlm/glm-4.5v, so none is claimed.
  zhipu: [
    ['glm-5.2*', 1_048_576, 131_072],
    ['glm-5.3*', 1_048_576, 131_072],
    ['glm-5.4*', 1_048_576, 131_072],
    ['glm-5*', 200_000, 128_000],
    ['glm-4.7*', 200_000, 128_000],
    ['glm-4.6v*', 131_072, undefined],
    ['glm-4.6*', 200_000, 128_000],
    ['glm-4.5v*', 65_536, undefined],
    ['glm-4.5*', 131_072, 98_304],
  ],
  // Alibaba Model Studio (DashScope). qwen3-max: 256K context, 64K output (Model Studio's model list as mirrored in
  // a platform's parsed qwen3-max.json; also https://docs.empiriolabs.ai/models/qwen3-max). qwen-plus, qwen-flash,
  // qwen3-coder-plus: 1,000,000 (the 1M tier of the model list,
  // https://www.alibabacloud.com/help/en/model-studio/models);
  // their 32,768 / 65,536 outputs: no source found through the search. qwen3.5-plus / qwen3.6-plus: 1,000,000 /
  // 65,536 (help.aliyun.com's model table as cited in a provider-config audit;
  // https://vercel.com/ai-gateway/models/qwen3.6-plus/faq).
  dashscope: [
    ['qwen3-max*', 262_144, 65_536],
    ['qwen3.5-plus*', 1_000_000, 65_536],
    ['qwen3.6-plus*', 1_000_000, 65_536],
    ['qwen-flash*', 1_000_000, 32_768],
    ['qwen-plus*', 1_000_000, 32_768],
    ['qwen3-coder-plus*', 1_000_000, 65_536],
  ],
  // Groq: its model pages (https://console.groq.com/docs/models) were not found through the search; the windows are
  // the models' own (Kimi K2 0905 262,144, Llama 3.1/3.3 131,072, gpt-oss 131,072) and the output limits are
  // unverified.
  groq: [
    ['moonshotai/kimi-k2-instruct-0905', 262_144, 16_384],
    ['llama-3.1-8b-instant', 131_072, 131_072],
    ['llama-3.3-70b-versatile', 131_072, 32_768],
    ['openai/gpt-oss-*', 131_072, 65_536],
  ],
  // OpenRouter reports each model's own limits (see Kimi and OpenAI above).
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
