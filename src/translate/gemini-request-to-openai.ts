/**
 * GenerateContentRequest → Chat Completions request (gemini-contract.md §3). Pure: takes the normalised request, the
 * resolved upstream model and the provider profile; returns the body plus what the response side needs (tool-name
 * codec, JSON mode, thought emission) and warnings for everything it had to drop or degrade.
 */
import { ProxyError } from '../errors.js';
import type { ProviderProfile } from '../providers/profile.js';
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
import { createToolNameCodec, type ToolNameCodec } from './tool-names.js';

/** How the response text must be post-processed to honour the requested MIME type ([R-JSON-MODE-2/3]). */
export type ResponseTextMode = 'text' | 'json' | 'enum';

export interface TranslatedRequest {
  body: OpenAIChatRequest;
  toolNames: ToolNameCodec;
  textMode: ResponseTextMode;
  includeThoughts: boolean;
  warnings: string[];
}

export interface TranslateOptions {
  model: string;
  stream: boolean;
  profile: ProviderProfile;
}

/** Sent as the result of a call the client never answered (cancelled or denied tool), see [R-REQ-5]. */
export const MISSING_TOOL_RESULT = '{"error":"tool result unavailable"}';

function joinText(parts: GeminiPart[]): string {
  let text = '';
  for (const part of parts) if (part.text !== undefined && part.thought !== true) text += part.text;
  return text;
}

/** Converts the media and text parts of one user turn. Returns a plain string when there is no media. */
function userContent(parts: GeminiPart[], profile: ProviderProfile, warnings: string[]): string | OpenAIContentPart[] | undefined {
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
      if (mimeType.startsWith('image/') && profile.images) {
        items.push({ type: 'image_url', image_url: { url: `data:${mimeType};base64,${data}` } });
        hasMedia = true;
      } else {
        warnings.push(`inlineData of type ${mimeType} is not supported by the upstream; replaced by a note`);
        pushText(`[${mimeType} attachment omitted: not supported by the upstream model]`);
      }
    }
    if (part.fileData !== undefined) {
      const { fileUri, mimeType } = part.fileData;
      const isHttp = /^https?:\/\//i.test(fileUri);
      const isImage = mimeType === undefined || mimeType.startsWith('image/');
      if (isHttp && isImage && profile.images && profile.imageHttpUrls) {
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
  profile: ProviderProfile,
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
      messages.push(text === '' ? { role: 'assistant', tool_calls: toolCalls } : { role: 'assistant', content: text, tool_calls: toolCalls });
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
    const user = userContent(rest, profile, warnings);
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

function convertTools(request: GenerateContentRequest, names: ToolNameCodec, warnings: string[]): OpenAITool[] {
  const tools: OpenAITool[] = [];
  const builtIns = request.tools.flatMap((tool) => tool.builtIns);
  for (const tool of request.tools) {
    for (const declaration of tool.functionDeclarations) {
      const schema = declaration.parametersJsonSchema ?? declaration.parameters;
      const fn: OpenAITool['function'] = { name: names.toUpstream(declaration.name), parameters: toolParametersSchema(schema) };
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

function convertToolChoice(
  request: GenerateContentRequest,
  tools: OpenAITool[],
  names: ToolNameCodec,
): { toolChoice?: OpenAIToolChoice; tools: OpenAITool[] } {
  const config = request.toolConfig;
  if (config === undefined || tools.length === 0) return { tools };
  switch (config.mode) {
    case 'NONE':
      return { toolChoice: 'none', tools };
    case 'ANY': {
      const allowed = (config.allowedFunctionNames ?? []).map((name) => names.toUpstream(name));
      const filtered = allowed.length === 0 ? tools : tools.filter((tool) => allowed.includes(tool.function.name));
      const kept = filtered.length === 0 ? tools : filtered;
      const only = kept.length === 1 ? kept[0] : undefined;
      if (only !== undefined && allowed.length > 0) return { toolChoice: { type: 'function', function: { name: only.function.name } }, tools: kept };
      return { toolChoice: 'required', tools: kept };
    }
    default: {
      // AUTO, VALIDATED, MODE_UNSPECIFIED. allowedFunctionNames narrows the offer under AUTO as well.
      const allowed = (config.allowedFunctionNames ?? []).map((name) => names.toUpstream(name));
      if (allowed.length === 0) return { tools };
      const filtered = tools.filter((tool) => allowed.includes(tool.function.name));
      return { tools: filtered.length === 0 ? tools : filtered };
    }
  }
}

function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function convertResponseFormat(
  request: GenerateContentRequest,
  body: OpenAIChatRequest,
  profile: ProviderProfile,
  warnings: string[],
): ResponseTextMode {
  const config = request.generationConfig;
  const mime = config.responseMimeType?.toLowerCase();
  const rawSchema = config.responseJsonSchema ?? config.responseSchema;
  if (mime === 'text/x.enum') {
    const schema = rawSchema === undefined ? undefined : normalizeSchema(rawSchema);
    const values = isJsonObject(schema) && Array.isArray(schema['enum']) ? schema['enum'] : [];
    if (profile.responseFormat === 'json_schema') {
      body.response_format = {
        type: 'json_schema',
        json_schema: {
          name: 'response',
          strict: false,
          schema: { type: 'object', properties: { value: { type: 'string', enum: values } }, required: ['value'] },
        },
      };
    } else if (profile.responseFormat === 'json_object') body.response_format = { type: 'json_object' };
    return 'enum';
  }
  if (mime !== 'application/json') return 'text';
  if (rawSchema === undefined) {
    if (profile.responseFormat !== 'none') body.response_format = { type: 'json_object' };
    return 'json';
  }
  const schema = normalizeSchema(rawSchema);
  if (profile.responseFormat === 'json_schema' && isJsonObject(schema)) {
    body.response_format = { type: 'json_schema', json_schema: { name: 'response', schema, strict: false } };
  } else {
    if (profile.responseFormat === 'json_object') body.response_format = { type: 'json_object' };
    warnings.push('response schema not supported by the upstream; sent as an instruction');
    const instruction = `Respond with JSON only, no prose and no markdown fence, matching this JSON schema:\n${JSON.stringify(schema)}`;
    const first = body.messages[0];
    if (first !== undefined && first.role === 'system') first.content = `${first.content}\n\n${instruction}`;
    else body.messages.unshift({ role: 'system', content: instruction });
  }
  return 'json';
}

export function geminiRequestToOpenAI(request: GenerateContentRequest, options: TranslateOptions): TranslatedRequest {
  const { profile } = options;
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
    throw new ProxyError('UNSUPPORTED_FEATURE', `candidateCount ${config.candidateCount} is not supported by this upstream: only 1 candidate.`);
  }

  const names = createToolNameCodec(collectToolNames(request), profile.toolNameCharset, profile.toolNameMaxLength);
  const messages: OpenAIMessage[] = [];
  if (request.systemInstruction !== undefined) {
    // The SDK sends role "user" on the system instruction; it is ignored. Every text part counts, not just the first.
    const system = request.systemInstruction.parts
      .filter((part) => part.text !== undefined && part.text !== '')
      .map((part) => part.text)
      .join('\n');
    if (system !== '') messages.push({ role: 'system', content: system });
  }
  messages.push(...convertContents(request.contents, names, profile, warnings));

  const body: OpenAIChatRequest = { model: options.model, messages };
  if (options.stream) {
    body.stream = true;
    if (profile.streamUsage) body.stream_options = { include_usage: true };
  }

  const { toolChoice, tools } = convertToolChoice(request, convertTools(request, names, warnings), names);
  if (tools.length > 0) body.tools = tools;
  if (toolChoice !== undefined) body.tool_choice = toolChoice;

  if (config.temperature !== undefined) body.temperature = config.temperature;
  if (config.topP !== undefined) body.top_p = config.topP;
  if (config.topK !== undefined && profile.acceptsTopK) body.top_k = config.topK;
  if (config.maxOutputTokens !== undefined) body[profile.maxTokensParameter] = config.maxOutputTokens;
  if (config.stopSequences !== undefined && config.stopSequences.length > 0) {
    if (config.stopSequences.length > profile.maxStopSequences) {
      warnings.push(`stopSequences clamped from ${config.stopSequences.length} to ${profile.maxStopSequences}`);
    }
    body.stop = config.stopSequences.slice(0, profile.maxStopSequences);
  }
  if (config.seed !== undefined) body.seed = config.seed;
  if (config.presencePenalty !== undefined) body.presence_penalty = config.presencePenalty;
  if (config.frequencyPenalty !== undefined) body.frequency_penalty = config.frequencyPenalty;
  const textMode = convertResponseFormat(request, body, profile, warnings);

  return {
    body,
    toolNames: names,
    textMode,
    includeThoughts: config.thinkingConfig?.includeThoughts === true,
    warnings,
  };
}
