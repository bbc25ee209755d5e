/**
 * What every handler shares: the resolved config, the upstream client, loggers, and a little upstream health state.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/load.js';
import type { UpstreamClient, UpstreamTarget } from '../upstream/client.js';
import type { DetailedLogWriter, RequestTrace } from './detailed-log.js';
import type { ReasoningReplayCache } from './reasoning-cache.js';

export interface UpstreamHealth {
  lastSuccessAt: string | undefined;
  lastFailureAt: string | undefined;
  lastFailure: string | undefined;
  requests: number;
  failures: number;
}

export interface ProxyContext {
  config: ResolvedConfig;
  upstream: UpstreamClient;
  target: UpstreamTarget;
  log: Logger;
  detailedLog: DetailedLogWriter | undefined;
  health: UpstreamHealth;
  reasoningCache: ReasoningReplayCache;
}

/** Per-request facts for the access log line and the detailed log. */
export interface RequestInfo {
  requestId: string;
  startedAt: bigint;
  model?: string;
  upstreamModel?: string;
  stream?: boolean;
  trace?: RequestTrace;
}

export function recordUpstreamOutcome(context: ProxyContext, failure: string | undefined): void {
  const health = context.health;
  health.requests += 1;
  if (failure === undefined) {
    health.lastSuccessAt = new Date().toISOString();
  } else {
    health.failures += 1;
    health.lastFailureAt = new Date().toISOString();
    health.lastFailure = failure;
  }
}
