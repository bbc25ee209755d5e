/**
 * `candidateCount` → `n` and `responseLogprobs`/`logprobs` → `logprobs`/`top_logprobs` (docs/gemini-contract.md §3.6),
 * where the preset says the upstream honours them. Candidates without `n` come from parallel calls; logprobs the
 * upstream cannot return are a 400 naming the field, never a silent drop.
 * Pure.
 */
import { ProxyError, invalidRequest } from '../../errors.js';
import type { ModelCapabilities } from '../../providers/profile.js';
import type { GeminiGenerationConfig } from '../gemini-types.js';
import type { OpenAIChatRequest } from '../openai-types.js';

/** Gemini's own limit on candidateCount. */
export const MAX_CANDIDATES = 8;
/** OpenAI's (and Gemini's) limit on top candidates per token. */
const MAX_TOP_LOGPROBS = 20;

/**
 * Returns how many parallel upstream calls the candidates need: 1 when the upstream takes `n` (or one candidate was
 * asked for), else candidateCount, and the caller merges the calls by candidate index.
 */
export function applyCandidates(
  config: GeminiGenerationConfig,
  body: OpenAIChatRequest,
  capabilities: ModelCapabilities,
): number {
  const count = config.candidateCount;
  // 0 is proto3's default, what a client that serialises every field sends for "unset".
  if (count === undefined || count === 0 || count === 1) return 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_CANDIDATES) {
    throw invalidRequest(
      `Invalid value at 'generationConfig.candidateCount' (${count}): must be an integer from 1 to ${MAX_CANDIDATES}.`,
    );
  }
  if (!capabilities.multipleChoices) return count;
  body.n = count;
  return 1;
}

export function applyLogprobs(
  config: GeminiGenerationConfig,
  body: OpenAIChatRequest,
  capabilities: ModelCapabilities,
): void {
  const top = config.logprobs;
  if (config.responseLogprobs !== true) {
    if (top !== undefined && top > 0)
      throw invalidRequest(
        `'generationConfig.logprobs' is only valid when 'generationConfig.responseLogprobs' is true.`,
      );
    return;
  }
  if (!capabilities.logprobs) {
    throw new ProxyError(
      'UNSUPPORTED_FEATURE',
      'responseLogprobs is not supported by this upstream model (it returns no logprobs).',
    );
  }
  if (top !== undefined && (!Number.isInteger(top) || top < 0 || top > MAX_TOP_LOGPROBS)) {
    throw invalidRequest(
      `Invalid value at 'generationConfig.logprobs' (${top}): must be an integer from 0 to ${MAX_TOP_LOGPROBS}.`,
    );
  }
  body.logprobs = true;
  if (top !== undefined && top > 0) body.top_logprobs = top;
}
