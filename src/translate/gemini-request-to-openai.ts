/**
 * GenerateContentRequest → Chat Completions request (docs/gemini-contract.md §3). Pure: takes the normalised request,
 * the resolved upstream model and the provider profile; returns the body plus what the response side needs (tool-name
 * codec, JSON mode, thought emission) and warnings for everything it had to drop or degrade. Each concern lives in
 * its own module under ./request/; this entry point only orders them.
 */
import { ProxyError } from '../errors.js';
import { capabilitiesFor, type ModelCapabilities, type ProviderProfile } from '../providers/profile.js';
import type { GenerateContentRequest } from './gemini-types.js';
import type { OpenAIChatRequest, OpenAIMessage } from './openai-types.js';
import type { TranslationWarning } from './warnings.js';
import { applyCandidates, applyLogprobs } from './request/candidates.js';
import { convertContents } from './request/contents.js';
import { convertResponseFormat, type ResponseTextMode } from './request/response-format.js';
import { applySampling } from './request/sampling.js';
import { addSystemText } from './request/system-text.js';
import { applyThinking, thinkingRequested } from './request/thinking.js';
import { convertToolChoice } from './request/tool-choice.js';
import { collectToolNames, convertTools } from './request/tools.js';
import { createToolNameCodec, type ToolNameCodec } from './tool-names.js';

export { MISSING_TOOL_RESULT } from './request/contents.js';
export type { ResponseTextMode } from './request/response-format.js';

export interface TranslatedRequest {
  body: OpenAIChatRequest;
  toolNames: ToolNameCodec;
  textMode: ResponseTextMode;
  includeThoughts: boolean;
  /** Whether `<think>` tags in content are reasoning for this upstream. */
  thinkTags: boolean;
  /**
   * Indexes of assistant tool-call messages that must carry `reasoning_content` and do not have it yet (the CLI
   * strips thoughts): the caller fills them from its reasoning replay cache, or a placeholder (docs/providers.md §4.2).
   */
  reasoningRequired: number[];
  /** Upstream calls to make in parallel, one candidate each, for a candidateCount the upstream's `n` cannot serve. */
  parallelCalls: number;
  warnings: TranslationWarning[];
}

export interface TranslateOptions {
  model: string;
  stream: boolean;
  profile: ProviderProfile;
  /** Overrides the profile's `stream_options` support (Azure on old api-versions). */
  streamUsage?: boolean;
}

/** Request features this proxy cannot serve at all: refused before anything is translated. */
function refuseUnsupported(request: GenerateContentRequest): void {
  const config = request.generationConfig;
  if (request.cachedContent !== undefined) {
    throw new ProxyError(
      'UNSUPPORTED_FEATURE',
      'cachedContent is not supported by this proxy: send the full contents instead.',
    );
  }
  const modalities = config.responseModalities?.filter((modality) => modality !== 'TEXT') ?? [];
  if (modalities.length > 0) {
    throw new ProxyError(
      'UNSUPPORTED_FEATURE',
      `responseModalities ${modalities.join(', ')} is not supported: this proxy returns TEXT only.`,
    );
  }
}

function initialMessages(
  request: GenerateContentRequest,
  names: ToolNameCodec,
  capabilities: ModelCapabilities,
  warnings: TranslationWarning[],
): OpenAIMessage[] {
  const messages: OpenAIMessage[] = [];
  if (request.systemInstruction !== undefined) {
    // The SDK sends role "user" on the system instruction; it is ignored. Every text part counts, not just the first.
    const system = request.systemInstruction.parts
      .filter((part) => part.text !== undefined && part.text !== '')
      .map((part) => part.text)
      .join('\n');
    if (system !== '') messages.push({ role: capabilities.systemRole, content: system });
  }
  messages.push(...convertContents(request.contents, names, capabilities, warnings));
  return messages;
}

/**
 * Reasoning on earlier assistant tool-call turns: marked for the caller to fill, or removed (docs/providers.md §4.2).
 */
function reasoningHistory(body: OpenAIChatRequest, capabilities: ModelCapabilities, thinkingActive: boolean): number[] {
  const required: number[] = [];
  if (capabilities.reasoningHistory === 'require-on-tool-turns' && thinkingActive) {
    body.messages.forEach((message, index) => {
      if (message.role === 'assistant' && message.tool_calls !== undefined && message.reasoning_content === undefined)
        required.push(index);
    });
  }
  if (capabilities.reasoningHistory === 'forbid') {
    for (const message of body.messages) if (message.role === 'assistant') delete message.reasoning_content;
  }
  return required;
}

export function geminiRequestToOpenAI(request: GenerateContentRequest, options: TranslateOptions): TranslatedRequest {
  const { profile } = options;
  const capabilities = capabilitiesFor(profile, options.model);
  const warnings: TranslationWarning[] = [];
  const config = request.generationConfig;
  refuseUnsupported(request);

  const names = createToolNameCodec(collectToolNames(request), {
    forbidden: profile.toolNameForbidden,
    maxLength: profile.toolNameMaxLength,
    minLength: profile.toolNameMinLength,
    firstCharacter: profile.toolNameFirstCharacter,
  });
  const body: OpenAIChatRequest = {
    model: options.model,
    messages: initialMessages(request, names, capabilities, warnings),
  };
  if (options.stream) {
    body.stream = true;
    if (options.streamUsage ?? capabilities.streamUsage) body.stream_options = { include_usage: true };
  }

  const textMode = convertResponseFormat(request, body, capabilities, warnings);
  const thinking = thinkingRequested(request, textMode);
  // Models that always think (kimi-k2-thinking) have no switch but the same restrictions.
  const thinkingActive =
    capabilities.thinking === 'thinking-type' ? thinking : capabilities.reasoningHistory === 'require-on-tool-turns';

  const choice = convertToolChoice(
    request,
    convertTools(request, names, capabilities, warnings),
    names,
    capabilities,
    thinkingActive,
    warnings,
  );
  if (choice.tools.length > 0) body.tools = choice.tools;
  if (choice.tools.length > 0 && capabilities.parallelToolCallsFlag === true) body.parallel_tool_calls = true;
  if (choice.toolChoice !== undefined) body.tool_choice = choice.toolChoice;
  if (choice.hint !== undefined) addSystemText(body, choice.hint, capabilities.systemRole);

  applySampling(config, body, capabilities, profile, warnings);
  const parallelCalls = applyCandidates(config, body, capabilities);
  applyLogprobs(config, body, capabilities);
  applyThinking(request, body, capabilities, options.stream, thinking);

  return {
    body,
    toolNames: names,
    textMode,
    includeThoughts: config.thinkingConfig?.includeThoughts === true,
    thinkTags: capabilities.thinkTags,
    reasoningRequired: reasoningHistory(body, capabilities, thinkingActive),
    parallelCalls,
    warnings,
  };
}
