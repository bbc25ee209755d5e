/**
 * Gemini model name → upstream model ([R-MAP-1], [R-MAP-2]): exact key first, then the most specific glob pattern
 * (`*` any run of characters, `?` one character), then the default model. Gemini CLI sends at least six different
 * names even with `-m`, so a default (or a catch-all pattern) keeps every one of them from a 404.
 */

interface PatternRule<T> {
  pattern: string;
  /** Literal characters: more means more specific. */
  specificity: number;
  target: T;
  order: number;
}

export type ModelResolution = { upstreamModel: string; matchedBy: 'exact' | 'pattern' | 'default'; rule?: string };
export type TargetResolution<T> = { target: T; matchedBy: ModelResolution['matchedBy']; rule?: string };

/** Model names Gemini CLI 0.61 sends (docs/gemini-contract.md §8.1); listed by models.list when they resolve. */
export const GEMINI_CLI_MODEL_NAMES = [
  'gemini-3-pro-preview',
  'gemini-3.1-pro-preview',
  'gemini-3.1-pro-preview-customtools',
  'gemini-3-flash-preview',
  'gemini-2.5-pro',
  'gemini-3.5-flash',
  'gemini-3-flash',
  'gemini-3.8-flash',
  'gemini-3.1-flash-lite',
  'gemini-3.5-flash-lite',
  'gemini-2.5-flash',
  'gemini-2.5-flash-lite',
  'gemini-3.1-flash-lite-preview',
  'gemma-4-31b-it',
  'gemma-4-26b-a4b-it',
  'gemini-embedding-001',
] as const;

/**
 * Glob match without a regex: a pattern like `gemini-*-*-*-pro` compiled to `.*` runs backtracks, and a 3,000-character
 * model name in the URL blocked the event loop for 5 s. The literal pieces between `*`s are matched leftmost-first
 * (for `*` and `?` that is always a correct choice), so the work is at most pattern length × name length.
 */
export function globMatches(pattern: string, name: string): boolean {
  const pieces = pattern.split('*');
  const pieceAt = (piece: string, at: number): boolean => {
    if (at + piece.length > name.length) return false;
    for (let index = 0; index < piece.length; index += 1) {
      const char = piece.charCodeAt(index);
      if (char !== 0x3f && char !== name.charCodeAt(at + index)) return false;
    }
    return true;
  };
  const first = pieces[0] ?? '';
  if (pieces.length === 1) return first.length === name.length && pieceAt(first, 0);
  const last = pieces[pieces.length - 1] ?? '';
  if (first.length + last.length > name.length || !pieceAt(first, 0) || !pieceAt(last, name.length - last.length))
    return false;
  let position = first.length;
  const end = name.length - last.length;
  for (let index = 1; index < pieces.length - 1; index += 1) {
    const piece = pieces[index] ?? '';
    let found = -1;
    for (let at = position; at + piece.length <= end; at += 1) {
      if (pieceAt(piece, at)) {
        found = at;
        break;
      }
    }
    if (found === -1) return false;
    position = found + piece.length;
  }
  return true;
}

export class ModelMapper<T = string> {
  private readonly exact = new Map<string, T>();
  private readonly patterns: Array<PatternRule<T>> = [];
  private readonly defaultModel: T | undefined;

  constructor(mapping: Readonly<Record<string, T>>, defaultModel: T | undefined) {
    let order = 0;
    for (const [key, target] of Object.entries(mapping)) {
      const name = key.replace(/^models\//, '');
      if (name.includes('*') || name.includes('?')) {
        this.patterns.push({ pattern: name, specificity: name.replace(/[*?]/g, '').length, target, order: order++ });
      } else {
        this.exact.set(name, target);
      }
    }
    this.patterns.sort((a, b) => b.specificity - a.specificity || a.order - b.order);
    this.defaultModel = defaultModel;
  }

  isEmpty(): boolean {
    return this.exact.size === 0 && this.patterns.length === 0 && this.defaultModel === undefined;
  }

  resolveTarget(geminiModel: string): TargetResolution<T> | undefined {
    const exact = this.exact.get(geminiModel);
    if (exact !== undefined) return { target: exact, matchedBy: 'exact' };
    for (const rule of this.patterns) {
      if (globMatches(rule.pattern, geminiModel))
        return { target: rule.target, matchedBy: 'pattern', rule: rule.pattern };
    }
    if (this.defaultModel !== undefined) return { target: this.defaultModel, matchedBy: 'default' };
    return undefined;
  }

  resolve(this: ModelMapper<string>, geminiModel: string): ModelResolution | undefined {
    const resolution = this.resolveTarget(geminiModel);
    if (resolution === undefined) return undefined;
    const result: ModelResolution = { upstreamModel: resolution.target, matchedBy: resolution.matchedBy };
    if (resolution.rule !== undefined) result.rule = resolution.rule;
    return result;
  }

  /** Gemini names to advertise: every exact key, then the Gemini CLI names that resolve. */
  listedNames(): string[] {
    const names = new Set(this.exact.keys());
    for (const name of GEMINI_CLI_MODEL_NAMES) if (this.resolveTarget(name) !== undefined) names.add(name);
    return [...names];
  }
}
