/**
 * Shared state in Redis for several proxy instances (issue: scale-out): token buckets for client limits, usage
 * counters, the reasoning replay cache and the response cache. Redis trouble never stops the proxy: commands fail
 * fast (no offline queue, a short command timeout), caches and usage fail open, limits fail open or closed by config,
 * the failure is logged once, and ioredis reconnects by itself; recovery is logged once too.
 */
import { createRequire } from 'node:module';
import type { Redis as RedisClient } from 'ioredis';
import type { Logger } from 'pino';
import { ProxyError } from '../errors.js';
import type { RateLimiterStore } from '../gateway/rate-limiter.js';
import type { ReasoningReplayCache } from './reasoning-cache.js';
import type { ResponseCache } from './response-cache.js';

/** Refill, then take `amount` if at least `required` is there. Returns {ok, level before taking}. */
const TAKE_SCRIPT = `
local perMinute = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local required = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local data = redis.call('HMGET', KEYS[1], 'level', 'updated')
local level = tonumber(data[1])
local updated = tonumber(data[2])
if level == nil or updated == nil then level = perMinute; updated = now end
level = math.min(perMinute, level + math.max(0, now - updated) / 60000 * perMinute)
local before = level
local ok = 0
if level >= required then level = level - amount; ok = 1 end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], 180000)
return {ok, tostring(before)}
`;

const ADJUST_SCRIPT = `
local perMinute = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local data = redis.call('HMGET', KEYS[1], 'level', 'updated')
local level = tonumber(data[1])
local updated = tonumber(data[2])
if level == nil or updated == nil then level = perMinute; updated = now end
level = math.min(perMinute, level + math.max(0, now - updated) / 60000 * perMinute + amount)
redis.call('HSET', KEYS[1], 'level', tostring(level), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], 180000)
return 1
`;

export interface RedisStateOptions {
  url: string;
  keyPrefix: string;
  rateLimitFailure: 'open' | 'closed';
  commandTimeoutMs: number;
  reasoningTtlSeconds?: number;
}

export interface UsageIncrement {
  model: string;
  requests: number;
  errors: number;
  promptTokens: number;
  outputTokens: number;
  thoughtsTokens: number;
}

/** ioredis costs ~17 MB resident; it is loaded only when redis_url is set. */
function loadRedis(): typeof import('ioredis').Redis {
  const require = createRequire(import.meta.url);
  return (require('ioredis') as typeof import('ioredis')).Redis;
}

export class RedisState {
  readonly client: RedisClient;
  private readonly options: RedisStateOptions;
  private readonly log: Logger;
  private healthy = true;

  constructor(options: RedisStateOptions, log: Logger) {
    this.options = options;
    this.log = log;
    const Redis = loadRedis();
    this.client = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * times, 2000),
      lazyConnect: false,
    });
    this.client.on('error', (error: Error) => this.failed(error));
    this.client.on('ready', () => {
      if (!this.healthy) this.log.info('redis connection restored: shared state is in use again');
      this.healthy = true;
    });
  }

  get isHealthy(): boolean {
    return this.healthy && this.client.status === 'ready';
  }

  private failed(error: unknown): void {
    if (!this.healthy) return;
    this.healthy = false;
    this.log.warn(
      `redis unavailable (${error instanceof Error ? error.message : String(error)}): serving on; caches and usage skip Redis, rate limits fail ${this.options.rateLimitFailure}, reconnecting in the background`,
    );
  }

  private key(kind: string, name: string): string {
    return `${this.options.keyPrefix}${kind}:${name}`;
  }

  /** Runs a command; on any Redis failure logs once and returns `fallback()`. */
  private async guard<T>(operation: () => Promise<T>, fallback: () => T): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      this.failed(error);
      return fallback();
    }
  }

  readonly rateLimiterStore: RateLimiterStore = {
    take: (bucket, perMinute, amount, required) =>
      this.guard(
        async () => {
          const result = (await this.client.eval(
            TAKE_SCRIPT,
            1,
            this.key('limit', bucket),
            perMinute,
            amount,
            required,
            Date.now(),
          )) as [number, string];
          return { ok: result[0] === 1, level: Number(result[1]) };
        },
        () => {
          if (this.options.rateLimitFailure === 'open') return { ok: true, level: Number.POSITIVE_INFINITY };
          throw new ProxyError(
            'UPSTREAM_UNAVAILABLE',
            'Rate limits cannot be checked right now because the shared store (Redis) is unavailable: retry shortly.',
          );
        },
      ),
    adjust: (bucket, perMinute, amount) =>
      this.guard(
        async () => {
          await this.client.eval(ADJUST_SCRIPT, 1, this.key('limit', bucket), perMinute, amount, Date.now());
        },
        () => undefined,
      ),
  };

  readonly reasoningCache: ReasoningReplayCache = {
    get: (keys) =>
      this.guard(
        async () => {
          const values = await this.client.mget(...keys.map((key) => this.key('reasoning', key)));
          return values.find((value): value is string => typeof value === 'string') ?? undefined;
        },
        () => undefined,
      ),
    set: (keys, reasoning) =>
      this.guard(
        async () => {
          const ttl = this.options.reasoningTtlSeconds ?? 12 * 3600;
          const pipeline = this.client.multi();
          for (const key of keys) pipeline.set(this.key('reasoning', key), reasoning, 'EX', ttl);
          await pipeline.exec();
        },
        () => undefined,
      ),
  };

  readonly responseCache: ResponseCache = {
    get: (key) =>
      this.guard(
        async () => (await this.client.get(this.key('response', key))) ?? undefined,
        () => undefined,
      ),
    set: (key, value, ttlSeconds) =>
      this.guard(
        async () => {
          await this.client.set(this.key('response', key), value, 'EX', Math.max(1, Math.round(ttlSeconds)));
        },
        () => undefined,
      ),
  };

  /** Adds one request to today's shared counters (UTC day, kept 90 days). Fire and forget. */
  recordUsage(increment: UsageIncrement): void {
    const day = new Date().toISOString().slice(0, 10);
    const key = this.key('usage', day);
    void this.guard(
      async () => {
        const field = (name: string): string => `${increment.model}|${name}`;
        await this.client
          .multi()
          .hincrby(key, field('requests'), increment.requests)
          .hincrby(key, field('errors'), increment.errors)
          .hincrby(key, field('prompt_tokens'), increment.promptTokens)
          .hincrby(key, field('output_tokens'), increment.outputTokens)
          .hincrby(key, field('thoughts_tokens'), increment.thoughtsTokens)
          .expire(key, 90 * 86_400)
          .exec();
      },
      () => undefined,
    );
  }

  /** Today's counters across every instance, per model. */
  async usage(
    day = new Date().toISOString().slice(0, 10),
  ): Promise<Record<string, Record<string, number>> | undefined> {
    return this.guard(
      async () => {
        const raw = await this.client.hgetall(this.key('usage', day));
        const out: Record<string, Record<string, number>> = {};
        for (const [field, value] of Object.entries(raw)) {
          const separator = field.lastIndexOf('|');
          const model = field.slice(0, separator);
          const name = field.slice(separator + 1);
          (out[model] ??= {})[name] = Number(value);
        }
        return out;
      },
      () => undefined,
    );
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
