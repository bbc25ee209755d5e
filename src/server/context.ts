/**
 * What every handler shares: the resolved config, the upstream client, loggers, and a little upstream health state.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/load.js';
import type { UpstreamClient, UpstreamTarget } from '../upstream/client.js';
import type { DetailedLogWriter, RequestTrace } from './detailed-log.js';
import type { ReasoningReplayCache } from '../shared/reasoning-cache.js';
import type { UpstreamPool } from '../gateway/upstream-pool.js';
import type { RateLimiter } from '../gateway/rate-limiter.js';
import type { ResponseCache } from '../shared/response-cache.js';
import type { RedisState } from '../shared/redis-state.js';
import type { WebSearchRecord } from '../search/web-search.js';

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
  /** The default upstream's first key (health probe, legacy paths). */
  target: UpstreamTarget;
  pool: UpstreamPool;
  rateLimiter: RateLimiter;
  log: Logger;
  detailedLog: DetailedLogWriter | undefined;
  health: UpstreamHealth;
  reasoningCache: ReasoningReplayCache;
  /** Present when `response_cache.enabled`. */
  responseCache: ResponseCache | undefined;
  /** Present when `redis_url` is set. */
  redis: RedisState | undefined;
  /** Removes every configured key from a text (upstream error bodies, messages) before it is sent or logged. */
  redact: (text: string) => string;
  /** Called once per finished request, after the response closed; must not throw or block. */
  requestListeners: RequestListener[];
  /**
   * The operator's bookkeeping at both ends of every request (quiet paths, open requests), called from the request
   * lifecycle's own hook and close handler, so that it costs no second hook and no second close listener.
   */
  requestTracker: RequestTracker | undefined;
}

export interface RequestTracker {
  /** A request arrived (after the browser guard and the URL limit); `path` is its URL without the query. */
  arrived(info: RequestInfo, path: string, headers: Readonly<Record<string, string | string[] | undefined>>): void;
  /** Its response closed (finished or not). */
  closed(info: RequestInfo): void;
}

/** Per-request facts for the access log line, the detailed log and the `request` event. */
export interface RequestInfo {
  requestId: string;
  startedAt: bigint;
  method?: string;
  model?: string;
  upstreamModel?: string;
  stream?: boolean;
  trace?: RequestTrace;
  /** Milliseconds from the request's arrival to the first response byte of content. */
  firstChunkMs?: number;
  usage?: { promptTokens: number; outputTokens: number; thoughtsTokens: number };
  /** The google.rpc status of an error answer (also when it was sent after a 200 commit). */
  errorStatus?: string;
  /** Failure class of the upstream call, when it failed (ProxyError code). */
  upstreamError?: string;
  /** Dashboard and metrics requests: their access-log line is written at debug level only. */
  quiet?: boolean;
  /** The upstream's status and message when the response ended with an error after output had started. */
  streamFailure?: string;
  /** The error message the client got when the upstream call failed (shown by the dashboard without detailed logs). */
  upstreamMessage?: string;
  /** Upstream attempts when there was more than one, or when it failed: `name#key:status (reason)`. */
  attempts?: string[];
  /** The client identity used for limits (key name, or the client address). */
  client?: string;
  /** Answered from the response cache. */
  cached?: boolean;
  /** Length of the request body as read (characters), for the token-limit estimate. */
  bodyLength?: number;
  /** The web search made for Gemini's googleSearch tool. */
  webSearch?: WebSearchRecord;
}

/** What the `request` event carries, once per finished request (metrics, usage store, dashboard). */
export interface RequestRecord {
  requestId: string;
  time: string;
  method: string;
  path: string;
  status: number;
  errorStatus?: string;
  upstreamError?: string;
  /** The upstream's error as the client saw it (redacted), also after a 200: kept without detailed logs. */
  errorMessage?: string;
  model?: string;
  upstreamModel?: string;
  provider: string;
  stream: boolean;
  durationMs: number;
  firstChunkMs?: number;
  promptTokens: number;
  outputTokens: number;
  thoughtsTokens: number;
  clientClosed: boolean;
  attempts?: string[];
  client?: string;
  /** The web search made for googleSearch (backend, query, results, outcome). */
  webSearch?: WebSearchRecord;
  /** The four detailed-log stages, when detailed logging is on (already redacted, large strings shortened). */
  trace?: unknown;
  /** Size of `trace` as JSON text, for the dashboard's memory budget. */
  traceBytes?: number;
}

export type RequestListener = (record: RequestRecord) => void;

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
