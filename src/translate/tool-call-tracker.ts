/**
 * Assembles streamed `tool_calls` deltas into whole calls (docs/providers.md §3.2). Handles incremental fragments,
 * whole arguments in one chunk, `id:""` continuations, reused, sparse or missing `index`, and zero-argument calls.
 * Calls are finalised only at the end of the response, never because the partial arguments already parse ([R-FC-1]).
 */
import type { JsonObject } from './gemini-types.js';
import type { OpenAIToolCallDelta } from './openai-types.js';

interface OpenCall {
  id: string;
  index: number | undefined;
  name: string;
  arguments: string;
}

export type FinalizedCalls =
  { ok: true; calls: Array<{ id: string; name: string; args: JsonObject }> } | { ok: false; malformed: string[] };

/** One repair pass for truncated JSON: close an open string, then open brackets in reverse order. */
function repairJson(text: string): string {
  const closers: string[] = [];
  let inString = false;
  let escaped = false;
  for (const char of text) {
    if (inString) {
      if (escaped) escaped = false;
      else if (char === '\\') escaped = true;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === '{') closers.push('}');
    else if (char === '[') closers.push(']');
    else if (char === '}' || char === ']') closers.pop();
  }
  let repaired = text;
  if (escaped) repaired = repaired.slice(0, -1);
  if (inString) repaired += '"';
  return repaired + closers.reverse().join('');
}

function parseArguments(text: string): JsonObject | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  for (const candidate of [trimmed, repairJson(trimmed)]) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as JsonObject;
      return { value: value as JsonObject[string] };
    } catch {
      // try the repaired text next
    }
  }
  return undefined;
}

export class ToolCallTracker {
  private readonly calls: OpenCall[] = [];

  get size(): number {
    return this.calls.length;
  }

  push(delta: OpenAIToolCallDelta): void {
    const id = typeof delta.id === 'string' ? delta.id : '';
    const index = typeof delta.index === 'number' ? delta.index : undefined;
    const target = this.findTarget(id, index);
    if (target.name === '' && typeof delta.function?.name === 'string') target.name = delta.function.name;
    const fragment = delta.function?.arguments;
    if (typeof fragment === 'string' && fragment !== '') target.arguments += fragment;
  }

  private findTarget(id: string, index: number | undefined): OpenCall {
    if (id !== '') {
      const known = this.calls.find((call) => call.id === id);
      if (known !== undefined) return known;
      const atIndex = index === undefined ? undefined : this.latestAt(index);
      if (atIndex !== undefined && atIndex.id === '') {
        atIndex.id = id;
        return atIndex;
      }
      return this.open(id, index);
    }
    if (index !== undefined) return this.latestAt(index) ?? this.open('', index);
    return this.calls[this.calls.length - 1] ?? this.open('', undefined);
  }

  private latestAt(index: number): OpenCall | undefined {
    for (let position = this.calls.length - 1; position >= 0; position -= 1) {
      const call = this.calls[position];
      if (call !== undefined && call.index === index) return call;
    }
    return undefined;
  }

  private open(id: string, index: number | undefined): OpenCall {
    const call: OpenCall = { id, index, name: '', arguments: '' };
    this.calls.push(call);
    return call;
  }

  /** In first-seen order. Calls that never got a name are dropped; unparseable arguments make the turn malformed. */
  finalize(): FinalizedCalls {
    const calls: Array<{ id: string; name: string; args: JsonObject }> = [];
    const malformed: string[] = [];
    for (const call of this.calls) {
      if (call.name === '') continue;
      const args = parseArguments(call.arguments);
      if (args === undefined) malformed.push(call.name);
      else calls.push({ id: call.id, name: call.name, args });
    }
    return malformed.length > 0 ? { ok: false, malformed } : { ok: true, calls };
  }
}
