/**
 * Config loading: the file (JSON with comments and trailing commas, config/parse.ts), then environment, then
 * command-line flags. Produces a ResolvedConfig (config/resolved.ts), or a ConfigError whose message names the key and
 * what is wrong; the upstreams and the routing over them are resolved in config/upstreams.ts.
 */
import { readConfigFile } from './parse.js';
import { resolveOperatorConfig } from './operator.js';
import {
  ConfigError,
  type ClientLimits,
  type CommandLineOverrides,
  type ResolvedConfig,
  type RoutingConfig,
  type UpstreamDefinition,
} from './resolved.js';
import type { FileConfig } from './schema.js';
import { resolvePrimaryUpstream, resolveRouting, resolveUpstreams } from './upstreams.js';
import type { ConfigWarning } from './warnings.js';
import { resolveWebSearchConfig } from './web-search.js';

export { parseConfigText } from './parse.js';
export { EMBEDDED_DEFAULT } from './upstreams.js';
export { ConfigError };
export type {
  ClientLimits,
  CommandLineOverrides,
  ResolvedConfig,
  RouteTarget,
  RoutingConfig,
  UpstreamDefinition,
} from './resolved.js';

/** A listen address (or a bound one) that only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(host);
}

const LOG_LEVELS: Record<string, ResolvedConfig['logLevel']> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
  silent: 'silent',
};

export function resolveConfig(overrides: CommandLineOverrides, env: NodeJS.ProcessEnv): ResolvedConfig {
  const path = overrides.configPath ?? (env['GEMINI_PROXY_CONFIG'] || undefined);
  const { file, source, warnings } = readConfigFile(path);
  const primary = resolvePrimaryUpstream(file, overrides, env, path);
  const upstreams = resolveUpstreams(file, primary);
  const routing = resolveRouting(file, primary, upstreams, overrides, env);
  const host = overrides.host ?? file.server.host;
  const port = overrides.port ?? file.server.port;
  const { limits, clients } = resolveClients(file);
  const clientApiKeys = clients.map((client) => client.key);
  if (clientApiKeys.length === 0 && !isLoopback(host) && !file.allow_unauthenticated) {
    throw new ConfigError(
      `server.host: refusing to listen on ${host} without client_api_keys; set client_api_keys, or "allow_unauthenticated": true to accept anyone who can reach this address`,
    );
  }
  warnings.push(...configWarnings(file, host, clientApiKeys, upstreams, routing));
  return {
    source,
    embeddedDefault: primary.embeddedDefault,
    host,
    port,
    ...serverSettings(file),
    upstream: {
      provider: primary.provider,
      profile: primary.profile,
      baseUrl: primary.baseUrl,
      apiKey: primary.apiKey,
      azureApiVersion: file.azure_api_version,
      providerInferred: primary.providerInferred,
    },
    quickStart: path === undefined,
    upstreams,
    routing,
    ...reliabilitySettings(file),
    limits,
    clients,
    ...storageSettings(file),
    clientApiKeys,
    allowUnauthenticated: file.allow_unauthenticated,
    allowedOrigins: file.allowed_origins.map((origin) => origin.toLowerCase().replace(/\/+$/, '')),
    allowedHosts: file.allowed_hosts.map((allowed) => allowed.toLowerCase()),
    operator: resolveOperatorConfig(file, file.logging.log_directory),
    webSearch: resolveWebSearchConfig(file),
    logging: {
      detailed: file.logging.enable_detailed_logs,
      access: file.logging.enable_access_logs,
      directory: file.logging.log_directory,
      groupReadable: file.logging.group_readable,
    },
    timeouts: {
      commitSeconds: file.timeouts.first_byte_commit_seconds,
      heartbeatSeconds: file.timeouts.heartbeat_seconds,
      idleSeconds: file.timeouts.upstream_idle_seconds,
      headersSeconds: file.timeouts.upstream_headers_seconds,
      unarySeconds: file.timeouts.upstream_unary_seconds,
      connectSeconds: file.timeouts.upstream_connect_seconds,
    },
    warnings,
  };
}

/** The default limits, and each client key with its name and its own limits over them. */
function resolveClients(file: FileConfig): Pick<ResolvedConfig, 'limits' | 'clients'> {
  const limits: ClientLimits = {
    requestsPerMinute: file.limits.requests_per_minute,
    tokensPerMinute: file.limits.tokens_per_minute,
  };
  const clients = (file.client_api_keys ?? []).map((entry, index) =>
    typeof entry === 'string'
      ? { key: entry, name: `key#${index}`, limits }
      : {
          key: entry.key,
          name: entry.name ?? `key#${index}`,
          limits: {
            requestsPerMinute: entry.requests_per_minute ?? limits.requestsPerMinute,
            tokensPerMinute: entry.tokens_per_minute ?? limits.tokensPerMinute,
          },
        },
  );
  return { limits, clients };
}

function serverSettings(
  file: FileConfig,
): Pick<
  ResolvedConfig,
  | 'basePath'
  | 'bodyLimitBytes'
  | 'logLevel'
  | 'requestTimeoutSeconds'
  | 'drainSeconds'
  | 'maxUrlBytes'
  | 'maxHeaderBytes'
  | 'defaultEmbeddingModel'
> {
  return {
    basePath: file.server.base_path,
    bodyLimitBytes: Math.floor(file.server.body_limit_mb * 1024 * 1024),
    logLevel: LOG_LEVELS[file.server.log_level] ?? 'info',
    requestTimeoutSeconds: file.server.request_timeout_seconds,
    drainSeconds: file.server.drain_seconds,
    maxUrlBytes: file.server.max_url_bytes,
    maxHeaderBytes: file.server.max_header_bytes,
    defaultEmbeddingModel: file.default_embedding_model,
  };
}

function reliabilitySettings(file: FileConfig): Pick<ResolvedConfig, 'modelLimits' | 'retries' | 'breaker'> {
  return {
    modelLimits: Object.entries(file.model_limits).map(
      ([pattern, limits]) => [pattern, limits.context_window, limits.max_output_tokens] as const,
    ),
    retries: {
      attemptsPerTarget: file.retries.attempts_per_target,
      baseDelayMs: file.retries.base_delay_ms,
      maxDelaySeconds: file.retries.max_delay_seconds,
    },
    breaker: {
      failureThreshold: file.circuit_breaker.failure_threshold,
      cooldownMs: file.circuit_breaker.cooldown_seconds * 1000,
    },
  };
}

function storageSettings(file: FileConfig): Pick<ResolvedConfig, 'redis' | 'responseCache'> {
  return {
    redis:
      file.redis_url === undefined
        ? undefined
        : {
            url: file.redis_url,
            keyPrefix: file.redis.key_prefix,
            rateLimitFailure: file.redis.rate_limit_failure,
            commandTimeoutMs: file.redis.command_timeout_ms,
          },
    responseCache: {
      enabled: file.response_cache.enabled,
      ttlSeconds: file.response_cache.ttl_seconds,
      maxEntries: file.response_cache.max_entries,
    },
  };
}

/** What works but deserves a line at start: an open listener's Host guard, a keyless upstream, no model route. */
function configWarnings(
  file: FileConfig,
  host: string,
  clientApiKeys: readonly string[],
  upstreams: readonly UpstreamDefinition[],
  routing: RoutingConfig,
): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  if (clientApiKeys.length === 0 && !isLoopback(host) && file.allowed_hosts.length === 0) {
    warnings.push({
      kind: 'host-guard',
      field: 'allowed_hosts',
      detail: `server.host ${host} without client_api_keys: requests must name a loopback address or localhost in their Host header (DNS rebinding guard); list the names clients use in allowed_hosts`,
    });
  }
  for (const upstream of upstreams) {
    if (upstream.apiKeys.length === 0 && upstream.profile.apiKey === 'required') {
      const where =
        upstream.name === 'default'
          ? '--api-key, openai_api_key or OPENAI_API_KEY'
          : `upstreams.${upstream.name}.api_key`;
      warnings.push({
        kind: 'missing-api-key',
        field: upstream.name === 'default' ? 'openai_api_key' : `upstreams.${upstream.name}.api_key`,
        detail: `upstream "${upstream.name}" (${upstream.profile.displayName}) has no API key: its requests will be refused until one is set (${where})`,
      });
    }
  }
  const { routes, modelMapping, defaultModel } = routing;
  if (Object.keys(routes).length === 0 && Object.keys(modelMapping).length === 0 && defaultModel === undefined) {
    warnings.push({
      kind: 'no-model-route',
      field: 'model_mapping',
      detail: 'no model_mapping, routes or default_openai_model: every request for an unmapped model will get 404',
    });
  }
  return warnings;
}
