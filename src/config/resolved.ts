/**
 * The configuration every layer is built from, as plain data: ResolvedConfig and its parts, and the error a config
 * that cannot work produces (its message names the key and what is wrong). config/load.ts builds it.
 */
import type { ModelLimitOverrides } from '../providers/context-windows.js';
import type { ProviderName, ProviderProfile } from '../providers/profile.js';
import type { OperatorConfig } from './operator.js';
import type { ConfigWarning } from './warnings.js';
import type { WebSearchConfig } from './web-search.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface CommandLineOverrides {
  configPath?: string;
  port?: number;
  host?: string;
  provider?: string;
  apiKey?: string;
  baseUrl?: string;
  model?: string;
}

/** One upstream as configured; the gateway's pool builds its keys' breakers from it. */
export interface UpstreamDefinition {
  name: string;
  provider: ProviderName;
  profile: ProviderProfile;
  baseUrl: string;
  apiKeys: string[];
  azureApiVersion: string;
  timeouts: { idleSeconds: number; headersSeconds: number; unarySeconds: number; connectSeconds: number };
}

export interface RouteTarget {
  upstream: string;
  model: string;
}

/** Plain routing data; gateway/router.ts builds the router from it. */
export interface RoutingConfig {
  /** Gemini model name or pattern → ordered targets (`routes`). */
  routes: Readonly<Record<string, RouteTarget[]>>;
  /** The original `model_mapping` (or the provider preset's), resolved on `defaultUpstream`. */
  modelMapping: Readonly<Record<string, string>>;
  defaultModel: string | undefined;
  defaultUpstream: string;
}

/** Per client key (or client address) limits; 0 means unlimited. */
export interface ClientLimits {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

export interface ResolvedConfig {
  source: string;
  /** True when neither a file nor the environment said anything: the embedded local-Ollama default. */
  embeddedDefault: boolean;
  host: string;
  port: number;
  basePath: string;
  bodyLimitBytes: number;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  upstream: {
    provider: ProviderName;
    profile: ProviderProfile;
    baseUrl: string;
    apiKey: string | undefined;
    /** Azure only. */
    azureApiVersion: string;
    /** True when the provider came from the base URL rather than from the config. */
    providerInferred: boolean;
  };
  /** True when neither a file nor --config was given (quick start from flags or environment). */
  quickStart: boolean;
  /** Every upstream, the one described by the original single-upstream keys first (named "default"). */
  upstreams: UpstreamDefinition[];
  /** Model names → targets, as data (gateway/router.ts builds the router). */
  routing: RoutingConfig;
  /** Config `model_limits`: upstream model pattern → context window and output limit, over the presets' tables. */
  modelLimits: ModelLimitOverrides;
  retries: { attemptsPerTarget: number; baseDelayMs: number; maxDelaySeconds: number };
  breaker: { failureThreshold: number; cooldownMs: number };
  /** Limits per client key (or per client address without keys). */
  limits: ClientLimits;
  clients: Array<{ key: string; name: string; limits: ClientLimits }>;
  requestTimeoutSeconds: number;
  drainSeconds: number;
  redis: { url: string; keyPrefix: string; rateLimitFailure: 'open' | 'closed'; commandTimeoutMs: number } | undefined;
  responseCache: { enabled: boolean; ttlSeconds: number; maxEntries: number };
  maxUrlBytes: number;
  maxHeaderBytes: number;
  defaultEmbeddingModel: string | undefined;
  clientApiKeys: string[];
  allowUnauthenticated: boolean;
  /** Normalised (lower case, no trailing slash). */
  allowedOrigins: string[];
  /** Lower case, without port. */
  allowedHosts: string[];
  logging: { detailed: boolean; access: boolean; directory: string; groupReadable: boolean };
  /** Dashboard, metrics and usage store settings. */
  operator: OperatorConfig;
  /** What answers Gemini's googleSearch tool. */
  webSearch: WebSearchConfig;
  timeouts: {
    commitSeconds: number;
    heartbeatSeconds: number;
    idleSeconds: number;
    headersSeconds: number;
    unarySeconds: number;
    connectSeconds: number;
  };
  warnings: ConfigWarning[];
}
