/**
 * `thinkingConfig` → the upstream's own reasoning control (docs/gemini-contract.md §3.6, docs/providers.md §4.3). Pure.
 */
import { unreachable } from '../../exhaustive.js';
import type { ModelCapabilities } from '../../providers/profile.js';
import type { GenerateContentRequest } from '../gemini-types.js';
import type { OpenAIChatRequest } from '../openai-types.js';
import type { ResponseTextMode } from './response-format.js';

/** Whether the request asks for thinking: off for budget 0, MINIMAL, and JSON-mode calls. */
export function thinkingRequested(request: GenerateContentRequest, textMode: ResponseTextMode): boolean {
  const thinking = request.generationConfig.thinkingConfig;
  if (thinking === undefined || textMode !== 'text') return false;
  return thinking.thinkingBudget !== 0 && thinking.thinkingLevel !== 'MINIMAL';
}

function effortFor(request: GenerateContentRequest): string | undefined {
  const thinking = request.generationConfig.thinkingConfig;
  if (thinking === undefined) return undefined;
  const level = thinking.thinkingLevel;
  if (level === 'LOW' || level === 'MEDIUM' || level === 'HIGH') return level.toLowerCase();
  if (level === 'MINIMAL' || thinking.thinkingBudget === 0) return 'minimal';
  const budget = thinking.thinkingBudget;
  if (budget === undefined || budget < 0) return undefined;
  return budget <= 2048 ? 'low' : budget <= 8192 ? 'medium' : 'high';
}

export function applyThinking(
  request: GenerateContentRequest,
  body: OpenAIChatRequest,
  capabilities: ModelCapabilities,
  stream: boolean,
  requested: boolean,
): void {
  const config = request.generationConfig.thinkingConfig;
  switch (capabilities.thinking) {
    case 'none':
      return;
    case 'thinking-type':
      body.thinking = { type: requested ? 'enabled' : 'disabled' };
      return;
    case 'enable-thinking':
      // DashScope: thinking on a non-streaming call is a 400, and Qwen3 thinks by default.
      body.enable_thinking = stream && requested;
      return;
    case 'reasoning-format':
      body.reasoning_format = 'parsed';
      return;
    case 'reasoning-effort': {
      const effort = effortFor(request);
      if (effort !== undefined) body.reasoning_effort = effort;
      return;
    }
    case 'openrouter-reasoning': {
      if (config === undefined) return;
      if (!requested) body.reasoning = { enabled: false };
      else if (config.thinkingBudget !== undefined && config.thinkingBudget > 0)
        body.reasoning = { max_tokens: config.thinkingBudget };
      else {
        const effort = effortFor(request);
        body.reasoning = effort === undefined ? { enabled: true } : { effort };
      }
      return;
    }
    case 'template-kwargs':
      if (!requested && (config !== undefined || request.generationConfig.responseMimeType !== undefined))
        body.chat_template_kwargs = { enable_thinking: false };
      return;
    default:
      unreachable(capabilities.thinking, 'thinking control');
  }
}
