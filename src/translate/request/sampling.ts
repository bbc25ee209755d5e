/** The sampling fields of `generationConfig` (docs/gemini-contract.md §3.6), within the upstream's limits. Pure. */
import type { ModelCapabilities, ProviderProfile } from '../../providers/profile.js';
import type { GeminiGenerationConfig } from '../gemini-types.js';
import type { OpenAIChatRequest } from '../openai-types.js';
import type { TranslationWarning } from '../warnings.js';

export function applySampling(
  config: GeminiGenerationConfig,
  body: OpenAIChatRequest,
  capabilities: ModelCapabilities,
  profile: ProviderProfile,
  warnings: TranslationWarning[],
): void {
  if (config.temperature !== undefined) {
    const rule = capabilities.temperature;
    if (rule === 'any') body.temperature = config.temperature;
    else if (rule !== 'drop') body.temperature = Math.min(rule.max, Math.max(rule.min, config.temperature));
  }
  if (config.topP !== undefined && capabilities.acceptsTopP) body.top_p = config.topP;
  if (config.topK !== undefined && capabilities.acceptsTopK) body.top_k = config.topK;
  if (config.maxOutputTokens !== undefined) body[capabilities.maxTokensParameter] = config.maxOutputTokens;
  if (config.stopSequences !== undefined && config.stopSequences.length > 0) {
    if (config.stopSequences.length > profile.maxStopSequences) {
      warnings.push({
        kind: 'clamped',
        field: 'generationConfig.stopSequences',
        detail: `${config.stopSequences.length} sequences, the upstream takes ${profile.maxStopSequences}`,
      });
    }
    body.stop = config.stopSequences.slice(0, profile.maxStopSequences);
  }
  if (config.seed !== undefined) body.seed = config.seed;
  if (config.presencePenalty !== undefined) body.presence_penalty = config.presencePenalty;
  if (config.frequencyPenalty !== undefined) body.frequency_penalty = config.frequencyPenalty;
}
