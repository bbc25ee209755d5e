/**
 * OpenAI `usage` dialects → Gemini `usageMetadata` ([R-USE-1], [R-USE-2]). Reasoning tokens are reported once, as
 * thoughts, never also inside candidates.
 */
import type { UsageMetadata } from './gemini-types.js';
import type { OpenAIUsage } from './openai-types.js';

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

export function mapUsage(usage: OpenAIUsage): UsageMetadata {
  const prompt = count(usage.prompt_tokens);
  const completion = count(usage.completion_tokens);
  const reasoning = Math.min(count(usage.completion_tokens_details?.reasoning_tokens), completion);
  const cached =
    count(usage.prompt_tokens_details?.cached_tokens) ||
    count(usage.cached_tokens) ||
    count(usage.prompt_cache_hit_tokens);
  const candidates = completion - reasoning;
  const metadata: UsageMetadata = {
    promptTokenCount: prompt,
    candidatesTokenCount: candidates,
    totalTokenCount: prompt + candidates + reasoning,
  };
  if (cached > 0) metadata.cachedContentTokenCount = cached;
  if (reasoning > 0) metadata.thoughtsTokenCount = reasoning;
  return metadata;
}

/** Used only when the upstream reports no usage ([R-USE-4]): about four characters per token. */
export function estimateUsage(
  promptCharacters: number,
  outputCharacters: number,
  thoughtCharacters: number,
): UsageMetadata {
  const prompt = Math.ceil(promptCharacters / 4);
  const candidates = Math.ceil(outputCharacters / 4);
  const thoughts = Math.ceil(thoughtCharacters / 4);
  const metadata: UsageMetadata = {
    promptTokenCount: prompt,
    candidatesTokenCount: candidates,
    totalTokenCount: prompt + candidates + thoughts,
  };
  if (thoughts > 0) metadata.thoughtsTokenCount = thoughts;
  return metadata;
}
