/**
 * The reasoning replay cache (docs/providers.md §4.2): DeepSeek and Kimi thinking models reject a follow-up whose
 * assistant tool-call message lacks its `reasoning_content`, but Gemini CLI strips thoughts from history. The
 * reasoning of each tool-call turn is kept here, keyed by the call (id, upstream name, arguments) and, because a
 * client may invent ids, by name and arguments alone; the follow-up looks it up.
 */
import { createHash } from 'node:crypto';

export interface ReasoningReplayCache {
  get(keys: readonly string[]): Promise<string | undefined>;
  set(keys: readonly string[], reasoning: string): Promise<void>;
}

export function reasoningKeys(id: string, name: string, argumentsJson: string): string[] {
  const hash = (text: string): string => createHash('sha256').update(text).digest('base64url').slice(0, 24);
  const withoutId = hash(`${name}\u0000${argumentsJson}`);
  return id === '' ? [withoutId] : [hash(`${id}\u0000${name}\u0000${argumentsJson}`), withoutId];
}

/** In-process LRU with a time to live. */
export class MemoryReasoningCache implements ReasoningReplayCache {
  private readonly entries = new Map<string, { reasoning: string; expires: number }>();

  constructor(
    private readonly maxEntries = 20_000,
    private readonly ttlMs = 12 * 60 * 60 * 1000,
  ) {}

  async get(keys: readonly string[]): Promise<string | undefined> {
    const now = Date.now();
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry === undefined) continue;
      this.entries.delete(key);
      if (entry.expires < now) continue;
      this.entries.set(key, entry);
      return entry.reasoning;
    }
    return undefined;
  }

  async set(keys: readonly string[], reasoning: string): Promise<void> {
    const expires = Date.now() + this.ttlMs;
    for (const key of keys) {
      this.entries.delete(key);
      this.entries.set(key, { reasoning, expires });
    }
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }
}
