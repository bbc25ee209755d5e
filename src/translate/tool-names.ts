/**
 * Reversible tool-name map (docs/providers.md §3.3, [R-TOOL-3], [R-FC-6]). Gemini allows `.` and `:` and MCP names up
 * to
 * 64 characters; most upstreams allow `[a-zA-Z0-9_-]` only. The map is built from every name the request mentions,
 * sorted, so the same name maps the same way in every turn; responses are mapped back, and a name the model invented
 * passes through unchanged.
 */
import { createHash } from 'node:crypto';

export interface ToolNameCodec {
  toUpstream(name: string): string;
  toGemini(name: string): string;
}

const identity: ToolNameCodec = { toUpstream: (name) => name, toGemini: (name) => name };

function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}

export interface ToolNameRules {
  /** Characters to replace; undefined when the upstream takes any name. */
  forbidden: RegExp | undefined;
  maxLength: number;
  minLength: number;
  firstCharacter: RegExp | undefined;
}

export function createToolNameCodec(names: Iterable<string>, rules: ToolNameRules): ToolNameCodec {
  const { forbidden, maxLength, minLength, firstCharacter } = rules;
  if (forbidden === undefined) return identity;
  const unique = [...new Set(names)].sort();
  const valid = (name: string): boolean =>
    name.length >= minLength &&
    name.length <= maxLength &&
    name.replace(forbidden, '') === name &&
    (firstCharacter === undefined || firstCharacter.test(name.charAt(0)));
  if (unique.every(valid)) return identity;

  const forward = new Map<string, string>();
  const used = new Set(unique.filter(valid));
  for (const name of unique) {
    if (valid(name)) {
      forward.set(name, name);
      continue;
    }
    let candidate = name.replace(forbidden, '_');
    if (
      candidate.length < minLength ||
      /^[0-9-]/.test(candidate) ||
      (firstCharacter !== undefined && !firstCharacter.test(candidate.charAt(0)))
    ) {
      candidate = `t_${candidate}`;
    }
    while (candidate.length < minLength) candidate += '_';
    if (candidate.length > maxLength) candidate = `${candidate.slice(0, maxLength - 9)}_${shortHash(name)}`;
    let mapped = candidate;
    for (let suffix = 2; used.has(mapped); suffix += 1) {
      const tail = `_${suffix}`;
      mapped = `${candidate.slice(0, maxLength - tail.length)}${tail}`;
    }
    used.add(mapped);
    forward.set(name, mapped);
  }
  const backward = new Map<string, string>();
  for (const [original, mapped] of forward) backward.set(mapped, original);
  return {
    toUpstream: (name) => forward.get(name) ?? name,
    toGemini: (name) => backward.get(name) ?? name,
  };
}
