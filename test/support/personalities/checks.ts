/**
 * Request checks shared by several providers. Each returns a Problem (status, message, label) or undefined; the
 * personality wraps it into its own error envelope. Messages are the documented ones (docs/providers.md) where one
 * exists.
 */
import {
  contentText,
  imageParts,
  isJsonObject,
  type ChatRequest,
  type Json,
  type JsonObject,
  type Problem,
} from './core.js';

/** OpenAI, Groq, DeepSeek (docs/providers.md §3.3). */
export const OPENAI_NAME = /^[a-zA-Z0-9_-]+$/;
/** Kimi (docs/providers.md §3.3). */
export const KIMI_NAME = /^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$/;

/** Tool names in `tools[]` and in history `tool_calls`, in OpenAI's wording (docs/providers.md §3.3). */
export function checkToolNames(chat: ChatRequest, pattern: RegExp, maxLength = 64): Problem | undefined {
  const invalid = (name: string, param: string): Problem | undefined => {
    if (name.length > maxLength) {
      return {
        status: 400,
        why: 'tool-name',
        param,
        code: 'string_above_max_length',
        message: `Invalid '${param}': string too long. Expected a string with maximum length ${maxLength}, but got a string with length ${name.length} instead.`,
      };
    }
    if (!pattern.test(name)) {
      return {
        status: 400,
        why: 'tool-name',
        param,
        code: 'invalid_value',
        message: `Invalid '${param}': string does not match pattern. Expected a string that matches the pattern '${pattern.source}'.`,
      };
    }
    return undefined;
  };
  for (const [index, tool] of chat.tools.entries()) {
    const problem = invalid(tool.name, `tools[${index}].function.name`);
    if (problem !== undefined) return problem;
  }
  for (const message of chat.messages) {
    for (const [index, call] of (message.toolCalls ?? []).entries()) {
      const problem = invalid(call.name, `messages[${message.index}].tool_calls[${index}].function.name`);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

/**
 * The conversation rules every Chat Completions server enforces (OpenAI's wording): known roles, each assistant
 * `tool_calls` message followed by one tool message per id, no tool message without a preceding call, an assistant
 * message has content or calls, tools are declared when history holds calls.
 */
export function checkConversation(
  chat: ChatRequest,
  roles: readonly string[] = ['system', 'user', 'assistant', 'tool'],
): Problem | undefined {
  let open: string[] = [];
  let answered = new Set<string>();
  for (const message of chat.messages) {
    if (!roles.includes(message.role)) {
      return {
        status: 400,
        why: 'role',
        param: `messages[${message.index}].role`,
        code: 'invalid_value',
        message: `Invalid value: '${message.role}'. Supported values are: ${roles.map((role) => `'${role}'`).join(', ')}.`,
      };
    }
    if (message.role === 'tool') {
      if (message.toolCallId === undefined || !open.includes(message.toolCallId)) {
        return {
          status: 400,
          why: 'tool-sequence',
          param: `messages.[${message.index}].role`,
          message:
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
        };
      }
      answered.add(message.toolCallId);
      continue;
    }
    const missing = open.filter((id) => !answered.has(id));
    if (missing.length > 0) {
      return {
        status: 400,
        why: 'tool-sequence',
        param: 'messages',
        message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${missing.join(', ')}`,
      };
    }
    open = [];
    answered = new Set();
    if (message.role === 'assistant') {
      const calls = message.toolCalls ?? [];
      if (calls.length === 0 && (message.content === undefined || message.content === null)) {
        return {
          status: 400,
          why: 'assistant-empty',
          param: `messages.[${message.index}].content`,
          message: `Invalid value for 'content': expected a string, got null.`,
        };
      }
      open = calls.map((call) => call.id);
    }
  }
  const missing = open.filter((id) => !answered.has(id));
  if (missing.length > 0) {
    return {
      status: 400,
      why: 'tool-sequence',
      param: 'messages',
      message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${missing.join(', ')}`,
    };
  }
  return undefined;
}

/** The first assistant tool-call message without a string `reasoning_content` (docs/providers.md §4.2). */
export function toolTurnWithoutReasoning(chat: ChatRequest): number | undefined {
  for (const message of chat.messages) {
    if (message.role !== 'assistant' || (message.toolCalls?.length ?? 0) === 0) continue;
    if (typeof message.raw['reasoning_content'] !== 'string') return message.index;
  }
  return undefined;
}

/** Whether the word "json" appears in the messages (OpenAI and DeepSeek json_object rule, docs/providers.md §6). */
export function mentionsJson(chat: ChatRequest): boolean {
  return chat.messages.some((message) => /json/i.test(contentText(message.content)));
}

export function responseFormatType(chat: ChatRequest): string | undefined {
  const format = chat.raw['response_format'];
  return isJsonObject(format) && typeof format['type'] === 'string' ? format['type'] : undefined;
}

export function responseFormatSchema(chat: ChatRequest): Json | undefined {
  const format = chat.raw['response_format'];
  const schema =
    isJsonObject(format) && isJsonObject(format['json_schema']) ? format['json_schema']['schema'] : undefined;
  return schema;
}

export function hasImages(chat: ChatRequest): boolean {
  return imageParts(chat).length > 0;
}

export function httpImage(chat: ChatRequest): boolean {
  return imageParts(chat).some((image) => /^https?:/i.test(image.url));
}

export function imageMimeTypes(chat: ChatRequest): string[] {
  return imageParts(chat).map((image) => /^data:([^;,]*)[;,]/.exec(image.url)?.[1] ?? '');
}

/** `tool_choice` as a label: auto, none, required, named, or undefined when absent. */
export function toolChoiceKind(chat: ChatRequest): 'auto' | 'none' | 'required' | 'named' | 'other' | undefined {
  const choice = chat.raw['tool_choice'];
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (isJsonObject(choice) && choice['type'] === 'function') return 'named';
  return 'other';
}

/**
 * Kimi's Moonshot-flavoured JSON Schema validator (MFJS, strict by default; docs/providers.md §3.5). Returns the detail
 * Moonshot reports, or undefined when the schema passes.
 */
export function mfjsViolation(schema: Json | undefined): string | undefined {
  if (!isJsonObject(schema)) return 'root schema must be an object';
  if (schema['type'] !== 'object') return 'root schema type must be object';
  const visit = (node: Json, path: string): string | undefined => {
    if (!isJsonObject(node)) return undefined;
    const ref = node['$ref'];
    if (typeof ref === 'string') {
      if (!ref.startsWith('#/$defs')) return `<At path '${path}': references must start with #/$defs>`;
      if ('type' in node)
        return `<At path '${path}': when using $ref, type should be defined in the referenced schema>`;
      const siblings = Object.keys(node).filter((key) => key !== '$ref');
      if (siblings.length > 0)
        return `<At path '${path}': conflicting keywords found after $ref expansion: ${siblings.join(', ')}>`;
      return undefined;
    }
    if (Array.isArray(node['anyOf']) && 'type' in node)
      return `<At path '${path}': when using anyOf, type should be defined in anyOf items instead of the parent schema>`;
    const properties = node['properties'];
    if (isJsonObject(properties)) {
      for (const [name, child] of Object.entries(properties)) {
        const childPath = path === '' ? `properties.${name}` : `${path}.properties.${name}`;
        if (
          isJsonObject(child) &&
          child['type'] === undefined &&
          child['anyOf'] === undefined &&
          child['$ref'] === undefined
        ) {
          return `<At path '${childPath}': type is not defined>`;
        }
        const found = visit(child, childPath);
        if (found !== undefined) return found;
      }
    }
    for (const key of ['items', 'additionalProperties'] as const) {
      const found = visit(node[key] ?? null, path === '' ? key : `${path}.${key}`);
      if (found !== undefined) return found;
    }
    const branches = node['anyOf'];
    if (Array.isArray(branches)) {
      for (const [index, branch] of branches.entries()) {
        const found = visit(branch, `${path === '' ? '' : `${path}.`}anyOf.${index}`);
        if (found !== undefined) return found;
      }
    }
    const defs = node['$defs'];
    if (isJsonObject(defs)) {
      for (const [name, child] of Object.entries(defs)) {
        const found = visit(child, `$defs.${name}`);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return visit(schema, '');
}

/** Whether a request carries a field on any message (Groq rejects `reasoning_content` and `reasoning`). */
export function messageWithField(chat: ChatRequest, field: string): { index: number; role: string } | undefined {
  const message = chat.messages.find((candidate) => field in candidate.raw);
  return message === undefined ? undefined : { index: message.index, role: message.role };
}

/** The first message whose content is a list where the provider wants a string. */
export function listContent(chat: ChatRequest, roles: readonly string[]): number | undefined {
  return chat.messages.find((message) => roles.includes(message.role) && Array.isArray(message.content))?.index;
}

export function numberField(raw: JsonObject, key: string): number | undefined {
  const value = raw[key];
  return typeof value === 'number' ? value : undefined;
}
