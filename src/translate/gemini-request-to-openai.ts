/**
 * GenerateContentRequest → Chat Completions request (gemini-contract.md §3). Pure: takes the normalised request, the
 * resolved upstream model and the provider profile; returns the body plus what the response side needs (tool-name
 * codec, JSON mode, thought emission) and warnings for everything it had to drop or degrade.
 */
import { ProxyError } from '../errors.js';
import { capabilitiesFor, type ModelCapabilities, type ProviderProfile, type ToolChoiceSupport } from '../providers/profile.js';
import type {
  GeminiContent,
  GeminiFunctionCall,
  GeminiFunctionResponse,
  GeminiPart,
  GenerateContentRequest,
  JsonObject,
  JsonValue,
} from './gemini-types.js';
import type {
  OpenAIChatRequest,
  OpenAIContentPart,
  OpenAIMessage,
  OpenAITool,
  OpenAIToolCall,
  OpenAIToolChoice,
} from './openai-types.js';
import { normalizeSchema, toolParametersSchema } from './schema.js';
import { normalizeSchemaForKimi } from './schema-kimi.js';
import { createToolNameCodec, type ToolNameCodec } from './tool-names.js';

/** How the response text must be post-processed to honour the requested MIME type ([R-JSON-MODE-2/3]). */
export type ResponseTextMode = 'text' | 'json' | 'enum';

export interface TranslatedRequest {
  body: OpenAIChatRequest;
  toolNames: ToolNameCodec;
  textMode: ResponseTextMode;
  includeThoughts: boolean;
  /** Whether `<think>` tags in content are reasoning for this upstream. */
  thinkTags: boolean;
  /**
   * Indexes of assistant tool-call messages that must carry `reasoning_content` and do not have it yet (the CLI
   * strips thoughts): the caller fills them from its reasoning replay cache, or a placeholder (providers.md §4.2).
   */
  reasoningRequired: number[];
  warnings: string[];
}

export interface TranslateOptions {
  model: string;
  stream: boolean;
  profile: ProviderProfile;
  /** Overrides the profile's `stream_options` support (Azure on old api-versions). */
  streamUsage?: boolean;
}

/** Sent as the result of a call the client never answered (cancelled or denied tool), see [R-REQ-5]. */
export const MISSING_TOOL_RESULT = '{"error":"tool result unavailable"}';

function joinText(parts: GeminiPart[]): string {
  let text = '';
  for (const part of parts) if (part.text !== undefined && part.thought !== true) text += part.text;
  return text;
}

/** Converts the media and text parts of one user turn. Returns a plain string when there is no media. */
function imageAllowed(capabilities: ModelCapabilities, mimeType: string, isHttp: boolean): boolean {
  if (capabilities.images === 'none') return false;
  if (isHttp && capabilities.images !== 'data-url+http') return false;
  const allowList = capabilities.imageMimeTypes;
  return allowList === undefined || allowList.includes(mimeType.toLowerCase());
}

function userContent(parts: GeminiPart[], capabilities: ModelCapabilities, warnings: string[]): string | OpenAIContentPart[] | undefined {
  const items: OpenAIContentPart[] = [];
  let hasMedia = false;
  // Separate parts become separate lines: Gemini CLI sends its session context and the prompt as two parts.
  const pushText = (text: string): void => {
    const last = items[items.length - 1];
    if (last !== undefined && last.type === 'text') last.text += `\n${text}`;
    else items.push({ type: 'text', text });
  };
  for (const part of parts) {
    if (part.thought === true) continue;
    if (part.text !== undefined && part.text !== '') pushText(part.text);
    if (part.inlineData !== undefined) {
      const { mimeType, data } = part.inlineData;
      if (mimeType.startsWith('image/') && imageAllowed(capabilities, mimeType, false)) {
        items.push({ type: 'image_url', image_url: { url: `data:${mimeType};base64,${data}` } });
        hasMedia = true;
      } else {
        // A rejected image stays in the history and fails every later turn (DeepSeek, llama.cpp): a note instead.
        warnings.push(`inlineData of type ${mimeType} is not supported by the upstream model; replaced by a note`);
        pushText(`[${mimeType} attachment omitted: not supported by the upstream model]`);
      }
    }
    if (part.fileData !== undefined) {
      const { fileUri, mimeType } = part.fileData;
      const isHttp = /^https?:\/\//i.test(fileUri);
      const isImage = mimeType === undefined || mimeType.startsWith('image/');
      if (isHttp && isImage && imageAllowed(capabilities, mimeType ?? 'image/*', true)) {
        items.push({ type: 'image_url', image_url: { url: fileUri } });
        hasMedia = true;
      } else {
        warnings.push(`fileData ${fileUri} cannot be passed to the upstream; replaced by a note`);
        pushText(`[file ${fileUri}${mimeType ? ` (${mimeType})` : ''} omitted: not accessible to the upstream model]`);
      }
    }
    if (part.executableCode !== undefined) {
      pushText(`\`\`\`${part.executableCode.language?.toLowerCase() ?? ''}\n${part.executableCode.code}\n\`\`\``);
    }
    if (part.codeExecutionResult !== undefined) {
      pushText(`Code execution result (${part.codeExecutionResult.outcome ?? 'OUTCOME_OK'}):\n${part.codeExecutionResult.output ?? ''}`);
    }
  }
  if (items.length === 0) return undefined;
  if (!hasMedia) return items.map((item) => (item.type === 'text' ? item.text : '')).join('\n');
  return items;
}

/** The CLI sends `{"output": "..."}` for success; a bare string is what the model would have seen from Gemini. */
function toolResultText(response: GeminiFunctionResponse): string {
  const keys = Object.keys(response.response);
  const output = response.response['output'];
  if (keys.length === 1 && typeof output === 'string') return output;
  return JSON.stringify(response.response);
}

interface PendingCall {
  id: string;
  name: string;
  answered: boolean;
}

/**
 * Walks the Gemini history and emits OpenAI messages, keeping every assistant `tool_calls` message immediately
 * followed by one tool message per call ([R-REQ-3], [R-REQ-4], [R-REQ-5]). Ids are opaque ([R-FC-5]); when absent,
 * deterministic ids are made from the call's position and responses are paired first-in-first-out by name.
 */
function convertContents(
  contents: GeminiContent[],
  names: ToolNameCodec,
  capabilities: ModelCapabilities,
  warnings: string[],
): OpenAIMessage[] {
  const messages: OpenAIMessage[] = [];
  let pending: PendingCall[] = [];
  const usedIds = new Set<string>();

  const closePending = (): void => {
    for (const call of pending) {
      if (call.answered) continue;
      warnings.push(`function call ${call.name} (${call.id}) had no response; sent a placeholder result`);
      messages.push({ role: 'tool', tool_call_id: call.id, content: MISSING_TOOL_RESULT });
    }
    pending = [];
  };

  contents.forEach((content, contentIndex) => {
    if (content.role === 'model') {
      closePending();
      const calls: GeminiFunctionCall[] = [];
      for (const part of content.parts) if (part.functionCall !== undefined && part.thought !== true) calls.push(part.functionCall);
      const text = joinText(content.parts);
      // Thoughts never come from Gemini CLI; a raw client's thought text is the best reasoning to replay.
      const thoughts = content.parts.filter((part) => part.thought === true && part.text !== undefined && part.text !== '').map((part) => part.text).join('');
      if (calls.length === 0) {
        if (text !== '') messages.push({ role: 'assistant', content: text });
        return;
      }
      const toolCalls: OpenAIToolCall[] = calls.map((call, callIndex) => {
        let id = call.id ?? `call_${contentIndex}_${callIndex}`;
        // Kimi-style ids repeat across turns; within one assistant message they must be unique.
        if (pending.some((other) => other.id === id)) id = `${id}_${callIndex}`;
        usedIds.add(id);
        pending.push({ id, name: call.name, answered: false });
        return { id, type: 'function', function: { name: names.toUpstream(call.name), arguments: JSON.stringify(call.args) } };
      });
      // Kimi-for-Coding rejects empty assistant content next to tool calls (providers.md §3.6): omit it.
      const assistant: Extract<OpenAIMessage, { role: 'assistant' }> = text === '' ? { role: 'assistant', tool_calls: toolCalls } : { role: 'assistant', content: text, tool_calls: toolCalls };
      if (thoughts !== '' && capabilities.reasoningHistory === 'require-on-tool-turns') assistant.reasoning_content = thoughts;
      messages.push(assistant);
      return;
    }

    const responses: GeminiFunctionResponse[] = [];
    const rest: GeminiPart[] = [];
    for (const part of content.parts) {
      if (part.functionResponse !== undefined) {
        responses.push(part.functionResponse);
        // Media returned inside a function response (gemini-3 placement) goes into the user message after the tool
        // messages, like the sibling placement ([R-REQ-8]).
        if (part.functionResponse.parts !== undefined) rest.push(...part.functionResponse.parts);
      } else rest.push(part);
    }
    if (responses.length === 0) closePending();
    const orphanNotes: string[] = [];
    for (const response of responses) {
      const match =
        (response.id !== undefined ? pending.find((call) => !call.answered && call.id === response.id) : undefined) ??
        pending.find((call) => !call.answered && call.name === response.name);
      if (match === undefined) {
        warnings.push(`function response ${response.name} matches no preceding call; sent as user text`);
        orphanNotes.push(`Result of ${response.name}: ${toolResultText(response)}`);
        continue;
      }
      match.answered = true;
      messages.push({ role: 'tool', tool_call_id: match.id, content: toolResultText(response) });
    }
    if (responses.length > 0) closePending();
    const user = userContent(rest, capabilities, warnings);
    const notes = orphanNotes.join('\n');
    if (user === undefined) {
      if (notes !== '') messages.push({ role: 'user', content: notes });
    } else if (typeof user === 'string') {
      messages.push({ role: 'user', content: notes === '' ? user : `${notes}\n${user}` });
    } else {
      messages.push({ role: 'user', content: notes === '' ? user : [{ type: 'text', text: notes }, ...user] });
    }
  });
  closePending();
  return messages;
}

function collectToolNames(request: GenerateContentRequest): string[] {
  const names: string[] = [];
  for (const tool of request.tools) for (const declaration of tool.functionDeclarations) names.push(declaration.name);
  for (const content of request.contents) {
    for (const part of content.parts) {
      if (part.functionCall !== undefined) names.push(part.functionCall.name);
      if (part.functionResponse !== undefined) names.push(part.functionResponse.name);
    }
  }
  for (const name of request.toolConfig?.allowedFunctionNames ?? []) names.push(name);
  return names;
}

function convertTools(request: GenerateContentRequest, names: ToolNameCodec, capabilities: ModelCapabilities, warnings: string[]): OpenAITool[] {
  const tools: OpenAITool[] = [];
  const builtIns = request.tools.flatMap((tool) => tool.builtIns);
  for (const tool of request.tools) {
    for (const declaration of tool.functionDeclarations) {
      const schema = declaration.parametersJsonSchema ?? declaration.parameters;
      const parameters = toolParametersSchema(schema);
      const fn: OpenAITool['function'] = {
        name: names.toUpstream(declaration.name),
        parameters: capabilities.schemaDialect === 'kimi' ? normalizeSchemaForKimi(parameters) : parameters,
      };
      if (declaration.description !== undefined && declaration.description !== '') fn.description = declaration.description;
      tools.push({ type: 'function', function: fn });
    }
  }
  if (builtIns.length > 0) {
    if (tools.length === 0) {
      // [R-TOOL-4]: a model without web access would invent search results or page content; a 400 makes Gemini CLI
      // fall back (web_fetch fetches locally) or report a tool error the main model can see.
      throw new ProxyError(
        'UNSUPPORTED_FEATURE',
        `Built-in tool ${builtIns.join(', ')} is not available through this proxy (the upstream has no Google ${builtIns.includes('googleSearch') ? 'web search' : 'tool'} equivalent).`,
      );
    }
    warnings.push(`dropped Google built-in tools: ${builtIns.join(', ')}`);
  }
  return tools;
}

interface ToolChoiceResult {
  toolChoice?: OpenAIToolChoice;
  tools: OpenAITool[];
  /** An instruction that stands in for a forced choice the upstream cannot express. */
  hint?: string;
}

/**
 * toolConfig → tool_choice (gemini-contract.md §3.5), then degraded to what the upstream supports (providers.md §3.4):
 * a forced choice it cannot express becomes `auto` with the offer narrowed and a system hint, and is logged.
 */
function convertToolChoice(
  request: GenerateContentRequest,
  tools: OpenAITool[],
  names: ToolNameCodec,
  capabilities: ModelCapabilities,
  thinking: boolean,
  warnings: string[],
): ToolChoiceResult {
  const config = request.toolConfig;
  if (config === undefined || tools.length === 0) return { tools };
  const support: ToolChoiceSupport = thinking && capabilities.toolChoiceWhileThinking !== undefined ? capabilities.toolChoiceWhileThinking : capabilities.toolChoice;
  const allowed = (config.allowedFunctionNames ?? []).map((name) => names.toUpstream(name));
  const narrowed = allowed.length === 0 ? tools : tools.filter((tool) => allowed.includes(tool.function.name));
  const offer = narrowed.length === 0 ? tools : narrowed;
  const listed = offer.map((tool) => tool.function.name).join(', ');
  const honours = capabilities.honoursToolChoice;

  switch (config.mode) {
    case 'NONE':
      if (honours && support.none) return { toolChoice: 'none', tools };
      warnings.push('toolConfig NONE is not supported by the upstream: tools were left out instead');
      return { tools: [] };
    case 'ANY': {
      const only = offer.length === 1 ? offer[0] : undefined;
      if (only !== undefined && allowed.length > 0 && honours && support.named) {
        return { toolChoice: { type: 'function', function: { name: only.function.name } }, tools: offer };
      }
      if (honours && support.required) return { toolChoice: 'required', tools: offer };
      warnings.push(`toolConfig ANY is not supported by the upstream${thinking ? ' while thinking' : ''}: sent as auto with a hint, offering ${listed}`);
      return {
        ...(honours ? { toolChoice: 'auto' as const } : {}),
        tools: offer,
        hint: `You must respond by calling ${offer.length === 1 ? `the tool ${listed}` : `one of these tools: ${listed}`}. Do not answer with text only.`,
      };
    }
    default:
      // AUTO, VALIDATED, MODE_UNSPECIFIED. allowedFunctionNames narrows the offer under AUTO as well.
      return { tools: offer };
  }
}

function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function addSystemText(body: OpenAIChatRequest, text: string, role: 'system' | 'developer'): void {
  const first = body.messages[0];
  if (first !== undefined && (first.role === 'system' || first.role === 'developer')) first.content = `${first.content}\n\n${text}`;
  else body.messages.unshift({ role, content: text });
}

/**
 * Structured output (gemini-contract.md §3.8) down the fallback ladder of providers.md §6: `json_schema`, else
 * `json_object` plus the schema in the system prompt (with the word "json", which DeepSeek requires), else the
 * instruction alone. The response side then strips fences and prose.
 */
function convertResponseFormat(
  request: GenerateContentRequest,
  body: OpenAIChatRequest,
  capabilities: ModelCapabilities,
  warnings: string[],
): ResponseTextMode {
  const config = request.generationConfig;
  const mime = config.responseMimeType?.toLowerCase();
  const rawSchema = config.responseJsonSchema ?? config.responseSchema;
  let schema: JsonObject | undefined;
  let mode: ResponseTextMode;
  if (mime === 'text/x.enum') {
    const normalized = rawSchema === undefined ? undefined : normalizeSchema(rawSchema);
    const values = isJsonObject(normalized) && Array.isArray(normalized['enum']) ? normalized['enum'] : [];
    schema = { type: 'object', properties: { value: { type: 'string', enum: values } }, required: ['value'] };
    mode = 'enum';
  } else if (mime === 'application/json') {
    const normalized = rawSchema === undefined ? undefined : normalizeSchema(rawSchema);
    schema = isJsonObject(normalized) ? normalized : undefined;
    mode = 'json';
  } else {
    return 'text';
  }

  if (schema === undefined) {
    if (capabilities.responseFormat !== 'none') body.response_format = { type: 'json_object' };
    addSystemText(body, 'Respond with a single json value only: no prose, no markdown fence.', capabilities.systemRole);
    return mode;
  }
  if (capabilities.responseFormat === 'json_schema') {
    const sent = capabilities.schemaDialect === 'kimi' ? normalizeSchemaForKimi(schema) : schema;
    body.response_format = { type: 'json_schema', json_schema: { name: 'response', schema: sent, strict: false } };
    return mode;
  }
  if (capabilities.responseFormat === 'json_object') body.response_format = { type: 'json_object' };
  warnings.push(`response schema sent as an instruction${capabilities.responseFormat === 'json_object' ? ' with json_object' : ''}: the upstream has no json_schema`);
  addSystemText(
    body,
    `Respond with json only: a single JSON value, no prose and no markdown fence, matching this JSON schema:\n${JSON.stringify(schema)}`,
    capabilities.systemRole,
  );
  return mode;
}

/** Whether the request asks for thinking (gemini-contract.md §3.6): off for budget 0, MINIMAL, and JSON-mode calls. */
function thinkingRequested(request: GenerateContentRequest, textMode: ResponseTextMode): boolean {
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

/** thinkingConfig → the upstream's own control (providers.md §4.3). */
function applyThinking(request: GenerateContentRequest, body: OpenAIChatRequest, capabilities: ModelCapabilities, stream: boolean, requested: boolean): void {
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
      else if (config.thinkingBudget !== undefined && config.thinkingBudget > 0) body.reasoning = { max_tokens: config.thinkingBudget };
      else {
        const effort = effortFor(request);
        body.reasoning = effort === undefined ? { enabled: true } : { effort };
      }
      return;
    }
    case 'template-kwargs':
      if (!requested && (config !== undefined || request.generationConfig.responseMimeType !== undefined)) body.chat_template_kwargs = { enable_thinking: false };
      return;
  }
}

export function geminiRequestToOpenAI(request: GenerateContentRequest, options: TranslateOptions): TranslatedRequest {
  const { profile } = options;
  const capabilities = capabilitiesFor(profile, options.model);
  const warnings: string[] = [];
  const config = request.generationConfig;

  if (request.cachedContent !== undefined) {
    throw new ProxyError('UNSUPPORTED_FEATURE', 'cachedContent is not supported by this proxy: send the full contents instead.');
  }
  const modalities = config.responseModalities?.filter((modality) => modality !== 'TEXT') ?? [];
  if (modalities.length > 0) {
    throw new ProxyError('UNSUPPORTED_FEATURE', `responseModalities ${modalities.join(', ')} is not supported: this proxy returns TEXT only.`);
  }
  if (config.candidateCount !== undefined && config.candidateCount > 1) {
    throw new ProxyError('UNSUPPORTED_FEATURE', `candidateCount ${config.candidateCount} is not supported by this proxy: only 1 candidate.`);
  }

  const names = createToolNameCodec(collectToolNames(request), {
    forbidden: profile.toolNameForbidden,
    maxLength: profile.toolNameMaxLength,
    minLength: profile.toolNameMinLength,
    firstCharacter: profile.toolNameFirstCharacter,
  });
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

  const body: OpenAIChatRequest = { model: options.model, messages };
  if (options.stream) {
    body.stream = true;
    if (options.streamUsage ?? capabilities.streamUsage) body.stream_options = { include_usage: true };
  }

  const textMode = convertResponseFormat(request, body, capabilities, warnings);
  const thinking = thinkingRequested(request, textMode);
  // Models that always think (kimi-k2-thinking) have no switch but the same restrictions.
  const thinkingActive = capabilities.thinking === 'thinking-type' ? thinking : capabilities.reasoningHistory === 'require-on-tool-turns';

  const choice = convertToolChoice(request, convertTools(request, names, capabilities, warnings), names, capabilities, thinkingActive, warnings);
  if (choice.tools.length > 0) body.tools = choice.tools;
  if (choice.tools.length > 0 && capabilities.parallelToolCallsFlag === true) body.parallel_tool_calls = true;
  if (choice.toolChoice !== undefined) body.tool_choice = choice.toolChoice;
  if (choice.hint !== undefined) addSystemText(body, choice.hint, capabilities.systemRole);

  if (config.temperature !== undefined) {
    const rule = capabilities.temperature;
    if (rule === 'any') body.temperature = config.temperature;
    else if (rule !== 'drop') body.temperature = Math.min(rule.max, Math.max(rule.min, config.temperature));
  }
  if (config.topP !== undefined) body.top_p = config.topP;
  if (config.topK !== undefined && capabilities.acceptsTopK) body.top_k = config.topK;
  if (config.maxOutputTokens !== undefined) body[capabilities.maxTokensParameter] = config.maxOutputTokens;
  if (config.stopSequences !== undefined && config.stopSequences.length > 0) {
    if (config.stopSequences.length > profile.maxStopSequences) {
      warnings.push(`stopSequences clamped from ${config.stopSequences.length} to ${profile.maxStopSequences}`);
    }
    body.stop = config.stopSequences.slice(0, profile.maxStopSequences);
  }
  if (config.seed !== undefined) body.seed = config.seed;
  if (config.presencePenalty !== undefined) body.presence_penalty = config.presencePenalty;
  if (config.frequencyPenalty !== undefined) body.frequency_penalty = config.frequencyPenalty;
  applyThinking(request, body, capabilities, options.stream, thinking);

  const reasoningRequired: number[] = [];
  if (capabilities.reasoningHistory === 'require-on-tool-turns' && thinkingActive) {
    body.messages.forEach((message, index) => {
      if (message.role === 'assistant' && message.tool_calls !== undefined && message.reasoning_content === undefined) reasoningRequired.push(index);
    });
  }
  if (capabilities.reasoningHistory === 'forbid') {
    for (const message of body.messages) if (message.role === 'assistant') delete message.reasoning_content;
  }

  return {
    body,
    toolNames: names,
    textMode,
    includeThoughts: config.thinkingConfig?.includeThoughts === true,
    thinkTags: capabilities.thinkTags,
    reasoningRequired,
    warnings,
  };
}
