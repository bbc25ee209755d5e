/**
 * The preset registry and provider inference from a base URL.
 */
import { azure } from './azure.js';
import { dashscope } from './dashscope.js';
import { deepseek } from './deepseek.js';
import { generic } from './generic.js';
import { groq } from './groq.js';
import { kimi } from './kimi.js';
import { llamacpp } from './llamacpp.js';
import { ollama } from './ollama.js';
import { openai } from './openai.js';
import { openrouter } from './openrouter.js';
import type { BalanceErrorSignatures, ProviderName, ProviderProfile } from './profile.js';
import { vllm } from './vllm.js';
import { zhipu } from './zhipu.js';

export const PROVIDERS: Readonly<Record<ProviderName, ProviderProfile>> = {
  generic,
  openai,
  azure,
  kimi,
  deepseek,
  zhipu,
  dashscope,
  groq,
  openrouter,
  ollama,
  vllm,
  llamacpp,
};

export const PROVIDER_NAMES = Object.keys(PROVIDERS) as ProviderName[];

/**
 * Every preset's balance signatures together: a generic preset may front any of these APIs, and OpenRouter relays the
 * routed provider's body, so an empty balance is recognised whatever the configured preset.
 */
export const BALANCE_ERROR_SIGNATURES: Required<BalanceErrorSignatures> = {
  codes: Object.values(PROVIDERS).flatMap((profile) => profile.balanceErrors?.codes ?? []),
  patterns: Object.values(PROVIDERS).flatMap((profile) => profile.balanceErrors?.patterns ?? []),
};

export function isProviderName(name: string): name is ProviderName {
  return Object.hasOwn(PROVIDERS, name);
}

/** The preset a base URL points at (Moonshot, DeepSeek, bigmodel/z.ai, Azure, :11434, OpenRouter, …), else generic. */
export function inferProvider(baseUrl: string): ProviderName {
  let host: string;
  try {
    const url = new URL(baseUrl);
    host = url.hostname.toLowerCase();
    const withPort = `${host}:${url.port}`;
    for (const profile of Object.values(PROVIDERS)) {
      if (profile.hostPatterns.some((pattern) => pattern.test(host) || pattern.test(withPort))) return profile.name;
    }
  } catch {
    return 'generic';
  }
  return 'generic';
}
