/**
 * The opt-in exact-match cache of unary answers to deterministic requests (temperature 0, no streaming). The key is
 * a hash of the upstream URL and the exact upstream body, so any difference in the translated request misses.
 */
import { createHash } from 'node:crypto';

export interface ResponseCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
}

export function responseCacheKey(url: string, body: string): string {
  return createHash('sha256').update(url).update('\u0000').update(body).digest('base64url');
}

export class MemoryResponseCache implements ResponseCache {
  private readonly entries = new Map<string, { value: string; expires: number }>();

  constructor(private readonly maxEntries: number) {}

  async get(key: string): Promise<string | undefined> {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expires < Date.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { value, expires: Date.now() + ttlSeconds * 1000 });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }
}
