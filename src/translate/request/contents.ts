/**
 * Gemini `contents` → Chat Completions messages (docs/gemini-contract.md §3.2). Every assistant `tool_calls` message is
 * immediately followed by one tool message per call ([R-REQ-3], [R-REQ-4], [R-REQ-5]). Ids are opaque ([R-FC-5]);
 * when absent, deterministic ids are made from the call's position and responses are paired first-in-first-out by
 * name. Pure.
 */
import type { ModelCapabilities } from '../../providers/profile.js';
import type { GeminiContent, GeminiFunctionCall, GeminiFunctionResponse, GeminiPart } from '../gemini-types.js';
import type { OpenAIMessage, OpenAIToolCall } from '../openai-types.js';
import type { ToolNameCodec } from '../tool-names.js';
import type { TranslationWarning } from '../warnings.js';
import { userContent } from './media.js';

/** Sent as the result of a call the client never answered (cancelled or denied tool), see [R-REQ-5]. */
export const MISSING_TOOL_RESULT = '{"error":"tool result unavailable"}';

function joinText(parts: GeminiPart[]): string {
  let text = '';
  for (const part of parts) if (part.text !== undefined && part.thought !== true) text += part.text;
  return text;
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

interface HistoryState {
  readonly messages: OpenAIMessage[];
  pending: PendingCall[];
  readonly names: ToolNameCodec;
  readonly capabilities: ModelCapabilities;
  readonly warnings: TranslationWarning[];
}

/** Answers every call still open with a placeholder, so no `tool_calls` message is left without its tool messages. */
function closePending(state: HistoryState): void {
  for (const call of state.pending) {
    if (call.answered) continue;
    state.warnings.push({
      kind: 'repaired',
      field: 'contents',
      detail: `function call ${call.name} (${call.id}) had no response; sent a placeholder result`,
    });
    state.messages.push({ role: 'tool', tool_call_id: call.id, content: MISSING_TOOL_RESULT });
  }
  state.pending = [];
}

function modelTurn(state: HistoryState, content: GeminiContent, contentIndex: number): void {
  closePending(state);
  const calls: GeminiFunctionCall[] = [];
  for (const part of content.parts)
    if (part.functionCall !== undefined && part.thought !== true) calls.push(part.functionCall);
  const text = joinText(content.parts);
  // Thoughts never come from Gemini CLI; a raw client's thought text is the best reasoning to replay.
  const thoughts = content.parts
    .filter((part) => part.thought === true && part.text !== undefined && part.text !== '')
    .map((part) => part.text)
    .join('');
  if (calls.length === 0) {
    if (text !== '') state.messages.push({ role: 'assistant', content: text });
    return;
  }
  const toolCalls: OpenAIToolCall[] = calls.map((call, callIndex) => {
    let id = call.id ?? `call_${contentIndex}_${callIndex}`;
    // Kimi-style ids repeat across turns; within one assistant message they must be unique.
    if (state.pending.some((other) => other.id === id)) id = `${id}_${callIndex}`;
    state.pending.push({ id, name: call.name, answered: false });
    return {
      id,
      type: 'function',
      function: { name: state.names.toUpstream(call.name), arguments: JSON.stringify(call.args) },
    };
  });
  // Kimi-for-Coding rejects empty assistant content next to tool calls (docs/providers.md §3.6): omit it.
  const assistant: Extract<OpenAIMessage, { role: 'assistant' }> =
    text === ''
      ? { role: 'assistant', tool_calls: toolCalls }
      : { role: 'assistant', content: text, tool_calls: toolCalls };
  if (thoughts !== '' && state.capabilities.reasoningHistory === 'require-on-tool-turns')
    assistant.reasoning_content = thoughts;
  state.messages.push(assistant);
}

function userTurn(state: HistoryState, content: GeminiContent): void {
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
  if (responses.length === 0) closePending(state);
  const orphanNotes: string[] = [];
  for (const response of responses) {
    const match =
      (response.id !== undefined
        ? state.pending.find((call) => !call.answered && call.id === response.id)
        : undefined) ?? state.pending.find((call) => !call.answered && call.name === response.name);
    if (match === undefined) {
      state.warnings.push({
        kind: 'replaced',
        field: 'contents',
        detail: `function response ${response.name} matches no preceding call; sent as user text`,
      });
      orphanNotes.push(`Result of ${response.name}: ${toolResultText(response)}`);
      continue;
    }
    match.answered = true;
    state.messages.push({ role: 'tool', tool_call_id: match.id, content: toolResultText(response) });
  }
  if (responses.length > 0) closePending(state);
  const user = userContent(rest, state.capabilities, state.warnings);
  const notes = orphanNotes.join('\n');
  if (user === undefined) {
    if (notes !== '') state.messages.push({ role: 'user', content: notes });
  } else if (typeof user === 'string') {
    state.messages.push({ role: 'user', content: notes === '' ? user : `${notes}\n${user}` });
  } else {
    state.messages.push({ role: 'user', content: notes === '' ? user : [{ type: 'text', text: notes }, ...user] });
  }
}

/**
 * Consecutive contents of one role become one ([R-REQ-2]): SDK 1.30 records a streamed answer as one model content
 * per chunk, and strict chat templates (llama.cpp, vLLM with Mistral templates) reject two assistant or two user
 * messages in a row. Parts keep their order, so text deltas join up and tool calls stay in sequence.
 */
function mergeSameRole(contents: GeminiContent[]): GeminiContent[] {
  const merged: GeminiContent[] = [];
  for (const content of contents) {
    if (content.parts.length === 0) continue;
    const last = merged[merged.length - 1];
    if (last !== undefined && last.role === content.role) last.parts = [...last.parts, ...content.parts];
    else merged.push({ role: content.role, parts: content.parts });
  }
  return merged;
}

/** Walks the Gemini history and emits the OpenAI messages. */
export function convertContents(
  contents: GeminiContent[],
  names: ToolNameCodec,
  capabilities: ModelCapabilities,
  warnings: TranslationWarning[],
): OpenAIMessage[] {
  const state: HistoryState = { messages: [], pending: [], names, capabilities, warnings };
  mergeSameRole(contents).forEach((content, contentIndex) => {
    if (content.role === 'model') modelTurn(state, content, contentIndex);
    else userTurn(state, content);
  });
  closePending(state);
  return state.messages;
}
