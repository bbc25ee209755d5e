/**
 * Builds what every handler shares from the resolved config: the upstream client and pool, the limiter, the caches
 * (in Redis when `redis_url` is set, so several instances share them), the redactor and the detailed log.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/load.js';
import { MemoryRateLimiterStore, RateLimiter } from '../gateway/rate-limiter.js';
import { UpstreamPool } from '../gateway/upstream-pool.js';
import { RedisState } from '../shared/redis-state.js';
import { MemoryResponseCache } from '../shared/response-cache.js';
import { UpstreamClient } from '../upstream/client.js';
import type { ProxyContext } from './context.js';
import { DetailedLogWriter, createRedactor } from './detailed-log.js';
import { fileModes } from '../shared/private-files.js';
import { MemoryReasoningCache } from '../shared/reasoning-cache.js';

export function createProxyContext(config: ResolvedConfig, log: Logger): ProxyContext {
  const upstream = new UpstreamClient({
    connectSeconds: config.timeouts.connectSeconds,
    idleSeconds: config.timeouts.idleSeconds,
    headersSeconds: config.timeouts.headersSeconds,
    unarySeconds: config.timeouts.unarySeconds,
  });
  const redis = config.redis === undefined ? undefined : new RedisState(config.redis, log);
  const secrets = [
    config.upstream.apiKey,
    ...config.upstreams.flatMap((entry) => entry.apiKeys),
    ...config.clientApiKeys,
    config.webSearch.apiKey,
  ];
  return {
    config,
    upstream,
    target: {
      provider: config.upstream.provider,
      profile: config.upstream.profile,
      baseUrl: config.upstream.baseUrl,
      apiKey: config.upstream.apiKey,
      azureApiVersion: config.upstream.azureApiVersion,
    },
    pool: new UpstreamPool(config.upstreams, config.breaker),
    rateLimiter: new RateLimiter(redis?.rateLimiterStore ?? new MemoryRateLimiterStore()),
    reasoningCache: redis?.reasoningCache ?? new MemoryReasoningCache(),
    responseCache: config.responseCache.enabled
      ? (redis?.responseCache ?? new MemoryResponseCache(config.responseCache.maxEntries))
      : undefined,
    redis,
    requestListeners: [],
    requestTracker: undefined,
    redact: createRedactor([...secrets, config.operator.adminApiKey]),
    log,
    detailedLog: config.logging.detailed
      ? new DetailedLogWriter(
          config.logging.directory,
          [...secrets, config.operator.adminApiKey],
          fileModes(config.logging.groupReadable),
        )
      : undefined,
    health: { lastSuccessAt: undefined, lastFailureAt: undefined, lastFailure: undefined, requests: 0, failures: 0 },
  };
}

/** Usage counters shared by every instance (Redis), fed by the request event. */
export function shareUsageInRedis(context: ProxyContext): void {
  const redis = context.redis;
  if (redis === undefined) return;
  context.requestListeners.push((record) => {
    redis.recordUsage({
      model: record.model ?? '-',
      requests: 1,
      errors: record.status >= 400 || record.errorStatus !== undefined ? 1 : 0,
      promptTokens: record.promptTokens,
      outputTokens: record.outputTokens,
      thoughtsTokens: record.thoughtsTokens,
    });
  });
}
