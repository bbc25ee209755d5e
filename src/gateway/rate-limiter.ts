/**
 * Per-client request and token limits, as token buckets refilled continuously: a bucket of `perMinute` capacity
 * gains `perMinute / 60` every second. Requests take one request token and their estimated prompt tokens up front;
 * the real usage settles the difference afterwards (a bucket may go below zero, which delays the next request).
 * The answer to an exhausted bucket carries the wait until it would allow the request ([RetryInfo]).
 */
import type { ClientLimits } from '../config/load.js';

export type { ClientLimits } from '../config/load.js';

interface Bucket {
  level: number;
  updated: number;
}

export type LimitDecision =
  { allowed: true } | { allowed: false; retryAfterSeconds: number; limit: 'requests' | 'tokens' };

export interface RateLimiterStore {
  /** Takes `amount` from the bucket if it holds at least `required`; returns the level before, after refill. */
  take(key: string, perMinute: number, amount: number, required: number): Promise<{ ok: boolean; level: number }>;
  /** Adds `amount` (negative to charge more) without checking. */
  adjust(key: string, perMinute: number, amount: number): Promise<void>;
}

export class MemoryRateLimiterStore implements RateLimiterStore {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  private refill(key: string, perMinute: number): Bucket {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { level: perMinute, updated: now };
    bucket.level = Math.min(perMinute, bucket.level + ((now - bucket.updated) / 60_000) * perMinute);
    bucket.updated = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 100_000) {
      const oldest = this.buckets.keys().next();
      if (oldest.done !== true) this.buckets.delete(oldest.value);
    }
    return bucket;
  }

  async take(
    key: string,
    perMinute: number,
    amount: number,
    required: number,
  ): Promise<{ ok: boolean; level: number }> {
    const bucket = this.refill(key, perMinute);
    const level = bucket.level;
    if (level < required) return { ok: false, level };
    bucket.level -= amount;
    return { ok: true, level };
  }

  async adjust(key: string, perMinute: number, amount: number): Promise<void> {
    const bucket = this.refill(key, perMinute);
    bucket.level = Math.min(perMinute, bucket.level + amount);
  }
}

export class RateLimiter {
  constructor(private readonly store: RateLimiterStore) {}

  /** Checks and charges one request with an estimated token cost. */
  async admit(client: string, limits: ClientLimits, estimatedTokens: number): Promise<LimitDecision> {
    if (limits.requestsPerMinute > 0) {
      const result = await this.store.take(`r:${client}`, limits.requestsPerMinute, 1, 1);
      if (!result.ok)
        return {
          allowed: false,
          limit: 'requests',
          retryAfterSeconds: ((1 - result.level) / limits.requestsPerMinute) * 60,
        };
    }
    if (limits.tokensPerMinute > 0) {
      // A request larger than the whole minute budget can never pass: it only needs a full bucket.
      const required = Math.min(estimatedTokens, limits.tokensPerMinute);
      const result = await this.store.take(`t:${client}`, limits.tokensPerMinute, estimatedTokens, required);
      if (!result.ok) {
        if (limits.requestsPerMinute > 0) await this.store.adjust(`r:${client}`, limits.requestsPerMinute, 1);
        return {
          allowed: false,
          limit: 'tokens',
          retryAfterSeconds: ((required - result.level) / limits.tokensPerMinute) * 60,
        };
      }
    }
    return { allowed: true };
  }

  /** Settles the difference between the estimate and the tokens really used. */
  async settle(client: string, limits: ClientLimits, estimatedTokens: number, actualTokens: number): Promise<void> {
    if (limits.tokensPerMinute > 0 && actualTokens !== estimatedTokens) {
      await this.store.adjust(`t:${client}`, limits.tokensPerMinute, estimatedTokens - actualTokens);
    }
  }
}
