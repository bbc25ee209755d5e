/**
 * Refuses, before any upstream call, a prompt that cannot fit the upstream model's context window: the upstream would
 * answer a provider-specific 400 after queueing and billing it (or, like Ollama, silently drop the start of the
 * conversation). Cheap first: a byte-level BPE token is at least one byte, so a request body of at most `window`
 * UTF-8 bytes fits and nothing is tokenized (every Gemini CLI request on a 128k+ upstream). Only longer bodies are
 * counted with the local tokenizer, text by text, and the counts of long texts are cached: Gemini CLI resends the
 * same system prompt, tool declarations and history on every turn, so only the new turn is tokenized.
 */
import { ProxyError, errorInfo } from '../errors.js';
import { truncatesSilently, type ModelLimits } from '../providers/context-windows.js';
import type { ProviderName } from '../providers/profile.js';
import { loadTokenizer, type CountTokens } from '../tokenizer.js';
import type { OpenAIChatRequest } from '../translate/openai-types.js';

/** Chat-template tokens around each message (role markers, separators). */
const PER_MESSAGE_TOKENS = 4;
/** An image's prompt cost varies by provider and resolution; this is a typical middle. */
const PER_IMAGE_TOKENS = 1_000;
/** Texts shorter than this are counted every time (cheaper than hashing them into the cache). */
const CACHE_MIN_CHARACTERS = 512;
/** Upper bound on the characters whose counts are remembered (~16 MB of keys). */
const CACHE_MAX_CHARACTERS = 8_000_000;

const cached = new Map<string, number>();
let cachedCharacters = 0;

function countCached(count: CountTokens, text: string): number {
  if (text.length < CACHE_MIN_CHARACTERS) return count(text);
  const known = cached.get(text);
  if (known !== undefined) {
    // Most recently used last: eviction takes the oldest.
    cached.delete(text);
    cached.set(text, known);
    return known;
  }
  const tokens = count(text);
  cached.set(text, tokens);
  cachedCharacters += text.length;
  for (const [oldest] of cached) {
    if (cachedCharacters <= CACHE_MAX_CHARACTERS) break;
    cached.delete(oldest);
    cachedCharacters -= oldest.length;
  }
  return tokens;
}

/** The prompt's tokens as the local tokenizer counts them: every text the upstream reads, images at a flat cost. */
export function countPromptTokens(count: CountTokens, request: OpenAIChatRequest): number {
  let tokens = 0;
  for (const message of request.messages) {
    tokens += PER_MESSAGE_TOKENS;
    const content = message.content;
    if (typeof content === 'string') tokens += countCached(count, content);
    else if (Array.isArray(content)) {
      for (const part of content) tokens += part.type === 'text' ? countCached(count, part.text) : PER_IMAGE_TOKENS;
    }
    if (message.role === 'assistant') {
      for (const call of message.tool_calls ?? [])
        tokens += countCached(count, call.function.name) + countCached(count, call.function.arguments);
      if (message.reasoning_content !== undefined) tokens += countCached(count, message.reasoning_content);
    }
  }
  if (request.tools !== undefined && request.tools.length > 0)
    tokens += countCached(count, JSON.stringify(request.tools));
  return tokens;
}

/** How the check decided, for tests and the benchmark: `bound` means nothing was tokenized. */
export type FitDecision = { by: 'bound'; bytes: number } | { by: 'count'; tokens: number };

/**
 * Throws a 400 when the counted prompt exceeds the window; `body` is the serialized request about to be sent.
 * The count is the local tokenizer's, not the upstream's: it can differ by some percent either way, so only a prompt
 * that is over by this count is refused and the upstream still judges the borderline ones.
 */
export async function assertPromptFits(
  limits: ModelLimits,
  model: string,
  body: string,
  request: OpenAIChatRequest,
): Promise<FitDecision> {
  const window = limits.contextWindow;
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes <= window) return { by: 'bound', bytes };
  const tokens = countPromptTokens(await loadTokenizer(), request);
  if (tokens > window) {
    throw new ProxyError(
      'INVALID_REQUEST',
      `The prompt is about ${tokens.toLocaleString('en-US')} tokens, over the ${window.toLocaleString('en-US')}-token context window of the upstream model ${model}: run /compress or /clear in Gemini CLI, or shorten the request.`,
      [
        errorInfo('PROMPT_TOO_LONG', {
          promptTokens: String(tokens),
          contextWindow: String(window),
          upstreamModel: model,
        }),
      ],
    );
  }
  return { by: 'count', tokens };
}

/** No tokenizer yields fewer than one token per this many characters of a chat request's JSON. */
const MAX_CHARACTERS_PER_TOKEN = 8;

const warnedTruncation = new Set<string>();

/**
 * The reported prompt_tokens against the request's size: far fewer tokens than the text can hold means the server
 * dropped part of the prompt. Returns the warning to log, once per upstream model per process.
 */
export function truncationWarning(
  provider: ProviderName,
  model: string,
  promptTokens: number,
  bodyCharacters: number,
): string | undefined {
  if (!truncatesSilently(provider) || promptTokens <= 0) return undefined;
  if (promptTokens * MAX_CHARACTERS_PER_TOKEN >= bodyCharacters) return undefined;
  const key = `${provider}\u0000${model}`;
  if (warnedTruncation.has(key)) return undefined;
  warnedTruncation.add(key);
  return `${model} reported ${promptTokens} prompt tokens for a ${bodyCharacters}-character request: the server most likely cut the prompt to its context length (Ollama: raise OLLAMA_CONTEXT_LENGTH, see the README); this is reported once per model`;
}
