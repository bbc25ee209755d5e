/**
 * `toolConfig` → `tool_choice` (docs/gemini-contract.md §3.5), then degraded to what the upstream supports
 * (docs/providers.md §3.4): a forced choice it cannot express becomes `auto` with the offer narrowed and a system hint,
 * and is logged. Pure.
 */
import type { ModelCapabilities, ToolChoiceSupport } from '../../providers/profile.js';
import type { GenerateContentRequest } from '../gemini-types.js';
import type { OpenAITool, OpenAIToolChoice } from '../openai-types.js';
import { unreachable } from '../../exhaustive.js';
import type { ToolNameCodec } from '../tool-names.js';
import type { TranslationWarning } from '../warnings.js';

export interface ToolChoiceResult {
  toolChoice?: OpenAIToolChoice;
  tools: OpenAITool[];
  /** An instruction that stands in for a forced choice the upstream cannot express. */
  hint?: string;
}

export function convertToolChoice(
  request: GenerateContentRequest,
  tools: OpenAITool[],
  names: ToolNameCodec,
  capabilities: ModelCapabilities,
  thinking: boolean,
  warnings: TranslationWarning[],
): ToolChoiceResult {
  const config = request.toolConfig;
  if (config === undefined || tools.length === 0) return { tools };
  const support: ToolChoiceSupport =
    thinking && capabilities.toolChoiceWhileThinking !== undefined
      ? capabilities.toolChoiceWhileThinking
      : capabilities.toolChoice;
  const allowed = (config.allowedFunctionNames ?? []).map((name) => names.toUpstream(name));
  const narrowed = allowed.length === 0 ? tools : tools.filter((tool) => allowed.includes(tool.function.name));
  const offer = narrowed.length === 0 ? tools : narrowed;
  const listed = offer.map((tool) => tool.function.name).join(', ');
  const honours = capabilities.honoursToolChoice;

  switch (config.mode) {
    case 'NONE':
      if (honours && support.none) return { toolChoice: 'none', tools };
      warnings.push({
        kind: 'degraded',
        field: 'toolConfig.functionCallingConfig.mode',
        detail: 'NONE is not supported by the upstream: tools were left out instead',
      });
      return { tools: [] };
    case 'ANY': {
      const only = offer.length === 1 ? offer[0] : undefined;
      if (only !== undefined && allowed.length > 0 && honours && support.named) {
        return { toolChoice: { type: 'function', function: { name: only.function.name } }, tools: offer };
      }
      if (honours && support.required) return { toolChoice: 'required', tools: offer };
      warnings.push({
        kind: 'degraded',
        field: 'toolConfig.functionCallingConfig.mode',
        detail: `ANY is not supported by the upstream${thinking ? ' while thinking' : ''}: sent as auto with a hint, offering ${listed}`,
      });
      return {
        ...(honours ? { toolChoice: 'auto' as const } : {}),
        tools: offer,
        hint: `You must respond by calling ${offer.length === 1 ? `the tool ${listed}` : `one of these tools: ${listed}`}. Do not answer with text only.`,
      };
    }
    case 'AUTO':
    case 'VALIDATED':
    case 'MODE_UNSPECIFIED':
    case undefined:
      // allowedFunctionNames narrows the offer under AUTO as well.
      return { tools: offer };
    default:
      return unreachable(config.mode, 'function calling mode');
  }
}
