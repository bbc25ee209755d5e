/**
 * The shared part of the provider personalities (test/support/personalities/<provider>.ts): the types a personality
 * is made of, the parsed view of a received Chat Completions request, a seeded id generator, and the error envelopes.
 *
 * A personality is a scripted upstream *dialect*: given what the model should say (an Utterance) it produces that
 * provider's documented bytes (docs/providers.md §1–§5, §10), and it checks each request the way the real provider
 * does, answering with the provider's documented error body when the real one would reject it (docs/providers.md
 * §3–§8). Error texts quoted in docs/providers.md are used verbatim; where the doc gives only the shape, the text is
 * composed and marked "composed" next to it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderName } from '../../../src/providers/profile.js';
import type { ReasoningField, StreamDialect, UnaryDialect } from './encode.js';

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------------------
// What the model says

export interface UtteredCall {
  /** The name as the upstream knows it (after the proxy's renaming). */
  name: string;
  arguments: Record<string, Json>;
}

export interface Utterance {
  reasoning?: string;
  text?: string;
  calls?: UtteredCall[];
  /** Default: `tool_calls` with calls, else `stop`. */
  finish?: string;
  /** Token counts; default: estimated from the request and the output. */
  usage?: { prompt?: number; completion?: number; cached?: number };
}

// ---------------------------------------------------------------------------------------------------------------
// The received request, parsed once

export interface ChatToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface ChatMessage {
  index: number;
  role: string;
  raw: JsonObject;
  content: Json | undefined;
  toolCalls: ChatToolCall[] | undefined;
  toolCallId: string | undefined;
}

export interface ChatTool {
  name: string;
  parameters: Json | undefined;
}

export interface ChatRequest {
  raw: JsonObject;
  rawText: string;
  model: string;
  messages: ChatMessage[];
  tools: ChatTool[];
  stream: boolean;
  includeUsage: boolean;
}

/** Minimal structural parse, with OpenAI's wording for what is not even a chat request. */
export function parseChat(rawText: string, body: unknown): ChatRequest | string {
  if (!isJsonObject(body)) return 'We could not parse the JSON body of your request.';
  const model = body['model'];
  if (typeof model !== 'string' || model === '') return 'you must provide a model parameter';
  const rawMessages = body['messages'];
  if (!Array.isArray(rawMessages) || rawMessages.length === 0)
    return "Invalid 'messages': empty array. Expected an array with minimum length 1.";
  const messages: ChatMessage[] = [];
  for (const [index, raw] of rawMessages.entries()) {
    if (!isJsonObject(raw) || typeof raw['role'] !== 'string')
      return `Invalid type for 'messages[${index}]': expected an object with a role.`;
    let toolCalls: ChatToolCall[] | undefined;
    const calls = raw['tool_calls'];
    if (calls !== undefined && calls !== null) {
      if (!Array.isArray(calls)) return `Invalid type for 'messages[${index}].tool_calls': expected an array.`;
      toolCalls = [];
      for (const [callIndex, call] of calls.entries()) {
        const fn = isJsonObject(call) ? call['function'] : undefined;
        if (
          !isJsonObject(call) ||
          typeof call['id'] !== 'string' ||
          !isJsonObject(fn) ||
          typeof fn['name'] !== 'string'
        ) {
          return `Invalid value for 'messages[${index}].tool_calls[${callIndex}]'.`;
        }
        if (typeof fn['arguments'] !== 'string')
          return `Invalid type for 'messages[${index}].tool_calls[${callIndex}].function.arguments': expected a string.`;
        toolCalls.push({ id: call['id'], name: fn['name'], arguments: fn['arguments'] });
      }
    }
    const toolCallId = raw['tool_call_id'];
    messages.push({
      index,
      role: raw['role'],
      raw,
      content: raw['content'],
      toolCalls,
      toolCallId: typeof toolCallId === 'string' ? toolCallId : undefined,
    });
  }
  const tools: ChatTool[] = [];
  const rawTools = body['tools'];
  if (rawTools !== undefined && rawTools !== null) {
    if (!Array.isArray(rawTools)) return "Invalid type for 'tools': expected an array.";
    for (const [index, tool] of rawTools.entries()) {
      const fn = isJsonObject(tool) ? tool['function'] : undefined;
      if (!isJsonObject(tool) || tool['type'] !== 'function' || !isJsonObject(fn) || typeof fn['name'] !== 'string') {
        return `Invalid value for 'tools[${index}]'.`;
      }
      tools.push({ name: fn['name'], parameters: fn['parameters'] });
    }
  }
  const options = body['stream_options'];
  return {
    raw: body,
    rawText,
    model,
    messages,
    tools,
    stream: body['stream'] === true,
    includeUsage: isJsonObject(options) && options['include_usage'] === true,
  };
}

/** The text of a message's content (string or text parts). */
export function contentText(content: Json | undefined): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) =>
      isJsonObject(part) && part['type'] === 'text' && typeof part['text'] === 'string' ? part['text'] : '',
    )
    .join('');
}

export interface ImagePart {
  messageIndex: number;
  partIndex: number;
  url: string;
}

export function imageParts(chat: ChatRequest): ImagePart[] {
  const images: ImagePart[] = [];
  for (const message of chat.messages) {
    if (!Array.isArray(message.content)) continue;
    message.content.forEach((part, partIndex) => {
      if (!isJsonObject(part) || part['type'] !== 'image_url') return;
      const image = part['image_url'];
      const url = isJsonObject(image) ? image['url'] : undefined;
      images.push({ messageIndex: message.index, partIndex, url: typeof url === 'string' ? url : '' });
    });
  }
  return images;
}

export function allMessageText(chat: ChatRequest): string {
  return chat.messages.map((message) => contentText(message.content)).join('\n');
}

/** The last user message's text: what the model is answering. */
export function lastUserText(chat: ChatRequest): string {
  for (let index = chat.messages.length - 1; index >= 0; index--) {
    const message = chat.messages[index];
    if (message?.role === 'user') return contentText(message.content);
  }
  return '';
}

export function toolMessages(chat: ChatRequest): ChatMessage[] {
  return chat.messages.filter((message) => message.role === 'tool');
}

/** The upstream name of the declared tool whose name satisfies `test` (names may have been rewritten). */
export function toolNamed(chat: ChatRequest, test: (name: string) => boolean): string {
  const tool = chat.tools.find((candidate) => test(candidate.name));
  if (tool === undefined)
    throw new Error(`no declared tool matches; declared: ${chat.tools.map((candidate) => candidate.name).join(', ')}`);
  return tool.name;
}

// ---------------------------------------------------------------------------------------------------------------
// Rejections

export interface Rejection {
  status: number;
  body: Json;
  headers?: Record<string, string>;
  /** A short label for test output and assertions, e.g. `tool-name`, `reasoning-missing`. */
  why: string;
}

/** A check's verdict before the provider puts it into its own error envelope. */
export interface Problem {
  status: number;
  message: string;
  why: string;
  type?: string;
  code?: Json;
  param?: Json;
}

export function openAIEnvelope(problem: Problem): Json {
  return {
    error: {
      message: problem.message,
      type: problem.type ?? 'invalid_request_error',
      param: problem.param ?? null,
      code: problem.code ?? null,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic ids

/** mulberry32, seeded from a string: ids look random but every run produces the same ones. */
export class Rng {
  private state: number;

  constructor(seed: string) {
    let hash = 2166136261;
    for (const char of seed) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
    this.state = hash >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  string(length: number, alphabet: string): string {
    let out = '';
    for (let index = 0; index < length; index++) out += alphabet.charAt(Math.floor(this.next() * alphabet.length));
    return out;
  }

  uuid(): string {
    const hex = this.string(32, HEX);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}

export const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const HEX = '0123456789abcdef';
export const DIGITS = '0123456789';

// ---------------------------------------------------------------------------------------------------------------
// The personality contract

export interface ModelTraits {
  vision: boolean;
  /** Reasoning behaviour: `off` never reasons; `default-on` reasons unless switched off; `always` cannot be switched off. */
  thinking: 'off' | 'default-on' | 'default-off' | 'always';
  /** OpenAI-style reasoning model: `max_completion_tokens`, temperature 1 only, `reasoning_effort`. */
  reasoningModel?: boolean;
  /** Tools supported (Ollama: `… does not support tools` otherwise). Default true. */
  tools?: boolean;
  /** The model name reported in responses (Azure deployments report the underlying model). */
  reportedAs?: string;
}

export type Route = { kind: 'chat'; model?: string } | { kind: 'tokens' };

/** Per-request facts a check may need. */
export interface CheckContext {
  url: URL;
  headers: IncomingHttpHeaders;
  traits: ModelTraits;
  /** Whether the model reasons on this request (thinking mode). */
  thinking: boolean;
}

export interface UsageReport {
  prompt: number;
  completion: number;
  /** `completion_tokens_details.reasoning_tokens`, when this dialect reports it. */
  reasoning?: number;
  /** Cached prompt tokens, in whichever field this dialect uses. */
  cached?: number;
}

export interface QuotaBehaviour {
  rejection: Rejection;
  /** What the proxy must answer (docs/providers.md §8.3): balance → 400 FAILED_PRECONDITION, rate limit → 429. */
  expect: {
    httpStatus: 400 | 429;
    status: 'FAILED_PRECONDITION' | 'RESOURCE_EXHAUSTED';
    reason: 'UPSTREAM_INSUFFICIENT_BALANCE' | 'UPSTREAM_RATE_LIMITED';
    retryDelay?: string;
  };
}

export interface Personality {
  readonly name: ProviderName;
  /** The path part of the base URL the proxy is configured with (zhipu `/api/paas/v4`, azure ``). */
  readonly basePath: string;
  /** Known models. */
  readonly models: Readonly<Record<string, ModelTraits>>;
  /** Traits of any other name, for servers that ignore `model` (llama.cpp serves whatever is loaded). */
  readonly anyModel?: ModelTraits;
  readonly stream: StreamDialect;
  readonly unary: UnaryDialect;
  readonly quota: QuotaBehaviour;
  /** Which endpoint a path is, or undefined for a 404. */
  route(url: URL): Route | undefined;
  /** Credentials check; undefined when accepted. */
  authenticate(headers: IncomingHttpHeaders, url: URL): Rejection | undefined;
  /** The provider's envelope for a check's verdict. */
  envelope(problem: Problem): Json;
  notFound(url: URL): Rejection;
  unknownModel(model: string): Rejection;
  /** Whether the model reasons on this request. */
  thinking(chat: ChatRequest, traits: ModelTraits): boolean;
  /** Provider rules; the first problem wins. */
  validate(chat: ChatRequest, context: CheckContext): Rejection | undefined;
  /** Parameters the provider silently ignores (recorded, so tests can insist nothing important is lost). */
  ignored?(chat: ChatRequest, context: CheckContext): string[];
  /** How many of the model's calls the provider returns in one turn (llama.cpp without parallel_tool_calls: 1). */
  callLimit?(chat: ChatRequest): number | undefined;
  /** Reply of the tokenizer endpoint (Moonshot, Zhipu, vLLM, llama.cpp). */
  countTokens?(body: unknown, rawText: string): { reply: Json } | { rejection: Rejection };
  /** Where reasoning goes on this request, when it depends on the request (Groq `reasoning_format`). */
  reasoningFor?(chat: ChatRequest): ReasoningField;
  /** A fresh response id in the provider's format. */
  responseId(rng: Rng): string;
}

export function reject(personality: Pick<Personality, 'envelope'>, problem: Problem): Rejection {
  return { status: problem.status, body: personality.envelope(problem), why: problem.why };
}

export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['authorization'];
  const match = typeof value === 'string' ? /^Bearer\s+(\S+)$/i.exec(value) : null;
  return match?.[1];
}

/** The key every test config uses for the upstream (`sk-…`). */
export const UPSTREAM_KEY = 'sk-personality-test-key-0123456789';
