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

/** What a count consists of: the texts to tokenize, and the fixed framing and image costs. */
export interface TokenCountParts {
  texts: string[];
  fixedTokens: number;
}

export function tokenCountParts(request: OpenAIChatRequest): TokenCountParts {
  const texts: string[] = [];
  let fixedTokens = PER_REPLY;
  for (const message of request.messages) {
    fixedTokens += PER_MESSAGE;
    const content = 'content' in message ? message.content : undefined;
    if (typeof content === 'string') texts.push(content);
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (part.type === 'text') texts.push(part.text);
        else fixedTokens += IMAGE_TOKENS;
      }
    }
    if (message.role === 'assistant' && message.tool_calls !== undefined) {
      for (const call of message.tool_calls) {
        texts.push(call.function.name, call.function.arguments);
        fixedTokens += 3;
      }
    }
  }
  if (request.tools !== undefined && request.tools.length > 0) texts.push(JSON.stringify(request.tools));
  return { texts, fixedTokens };
}

export function countRequestTokens(request: OpenAIChatRequest, count: CountTokens): number {
  const { texts, fixedTokens } = tokenCountParts(request);
  return texts.reduce((total, text) => total + count(text), fixedTokens);
}
