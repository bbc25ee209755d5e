/**
 * countTokens over the *translated* upstream request ([R-CT-1]): system prompt, messages, tool declarations and
 * images, counted with a real BPE tokenizer passed in by the caller. Pure.
 */
import type { OpenAIChatRequest } from './openai-types.js';
import type { CountTokens } from '../tokenizer.js';

/** Chat framing per message (role and separators), as in OpenAI's published counting recipe. */
const PER_MESSAGE = 3;
const PER_REPLY = 3;
/** A fixed per-image cost (Gemini bills 258 tokens for an image up to 384 px). */
export const IMAGE_TOKENS = 258;

export function countRequestTokens(request: OpenAIChatRequest, count: CountTokens): number {
  let total = PER_REPLY;
  for (const message of request.messages) {
    total += PER_MESSAGE;
    const content = 'content' in message ? message.content : undefined;
    if (typeof content === 'string') total += count(content);
    else if (Array.isArray(content)) {
      for (const part of content) total += part.type === 'text' ? count(part.text) : IMAGE_TOKENS;
    }
    if (message.role === 'assistant' && message.tool_calls !== undefined) {
      for (const call of message.tool_calls) total += count(call.function.name) + count(call.function.arguments) + 3;
    }
  }
  if (request.tools !== undefined && request.tools.length > 0) total += count(JSON.stringify(request.tools));
  return total;
}
