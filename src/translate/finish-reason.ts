/**
 * Upstream `finish_reason` → Gemini `finishReason` ([R-FIN-4]). Never throws on an unknown value.
 */
import type { FinishReason } from './gemini-types.js';

/** Upstream values that mean the generation failed rather than finished ([R-FIN-4]). */
const FAILURE_REASONS = new Set(['abort', 'error', 'network_error', 'insufficient_system_resource']);

export function isFailureFinish(reason: string): boolean {
  return FAILURE_REASONS.has(reason);
}

export function mapFinishReason(reason: string): FinishReason {
  switch (reason) {
    case 'stop':
    case 'tool_calls':
    case 'function_call':
    case 'end_turn':
    case 'eos':
      return 'STOP';
    case 'length':
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'MAX_TOKENS';
    case 'content_filter':
    case 'sensitive':
      return 'SAFETY';
    default:
      return 'OTHER';
  }
}
