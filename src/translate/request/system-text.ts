/** Appending instructions to the system prompt, shared by the steps that degrade a feature into words. Pure. */
import type { OpenAIChatRequest } from '../openai-types.js';

/** Appends to the leading system (or developer) message, or creates one, so the upstream sees a single system turn. */
export function addSystemText(body: OpenAIChatRequest, text: string, role: 'system' | 'developer'): void {
  const first = body.messages[0];
  if (first !== undefined && (first.role === 'system' || first.role === 'developer'))
    first.content = `${first.content}\n\n${text}`;
  else body.messages.unshift({ role, content: text });
}
