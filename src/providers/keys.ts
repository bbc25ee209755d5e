/**
 * Which presets need an upstream API key: every hosted API does; local servers (Ollama, vLLM, llama.cpp) and the
 * generic preset usually run without one. Used to refuse a keyless `init` and to warn at start.
 */
import type { ProviderName } from './profile.js';

const KEYLESS: ReadonlySet<ProviderName> = new Set(['generic', 'ollama', 'vllm', 'llamacpp']);

export function needsApiKey(provider: ProviderName): boolean {
  return !KEYLESS.has(provider);
}
