/**
 * Config loading: the file (JSON with comments and trailing commas), then environment, then command-line flags.
 * Produces a ResolvedConfig, or a ConfigError whose message names the key and what is wrong.
 */
import { readFileSync } from 'node:fs';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { PROVIDERS, PROVIDER_NAMES, inferProvider, isProviderName } from '../providers/index.js';
import type { ProviderName, ProviderProfile } from '../providers/profile.js';
import { KNOWN_KEYS, configSchema, type FileConfig } from './schema.js';
import type { ModelLimitOverrides } from '../providers/context-windows.js';
import { resolveOperatorConfig, type OperatorConfig } from './operator.js';
import { resolveWebSearchConfig, type WebSearchConfig } from './web-search.js';
import type { ConfigWarning } from './warnings.js';

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

export const EMBEDDED_DEFAULT = {
  baseUrl: 'http://127.0.0.1:11434/v1',
  model: 'qwen3:8b',
  /** The original tool's default base URL, used when a key is configured but no URL. */
  openAIBaseUrl: 'https://api.openai.com/v1',
} as const;

function parseJsonWithComments(text: string, source: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first !== undefined) {
    const before = text.slice(0, first.offset);
    const line = before.split('\n').length;
    const column = first.offset - before.lastIndexOf('\n');
    throw new ConfigError(
      `${source}: invalid JSON at line ${line}, column ${column}: ${printParseErrorCode(first.error)}`,
    );
  }
  return value;
}

function unknownKeys(raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return [];
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const known = KNOWN_KEYS[''];
    if (known !== undefined && !known.has(key)) {
      unknown.push(key);
      continue;
    }
    const nested = KNOWN_KEYS[key];
    if (nested !== undefined && typeof value === 'object' && value !== null) {
      for (const child of Object.keys(value)) if (!nested.has(child)) unknown.push(`${key}.${child}`);
    }
  }
  return unknown;
}

function describeIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.length === 0 ? '(root)' : issue.path.join('.');
    return `  - ${path}: ${issue.message}`;
  });
  return `${source}: invalid configuration\n${lines.join('\n')}`;
}

export function parseConfigText(text: string, source: string): { config: FileConfig; warnings: ConfigWarning[] } {
  const raw = parseJsonWithComments(text, source);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(`${source}: the top level must be a JSON object`);
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssues(result.error, source));
  const warnings = unknownKeys(raw).map((key): ConfigWarning => ({
    kind: 'unknown-key',
    field: key,
    detail: `${source}: unknown key "${key}" ignored`,
  }));
  return { config: result.data, warnings };
}

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
  let file: FileConfig;
  const warnings: ConfigWarning[] = [];
  let source = 'embedded defaults';
  if (path !== undefined && path !== '') {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `cannot read config file ${path}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const parsed = parseConfigText(text, path);
    file = parsed.config;
    warnings.push(...parsed.warnings);
    source = path;
  } else {
    file = configSchema.parse({});
  }

  const envKey = env['OPENAI_API_KEY'] || undefined;
  const envUrl = env['OPENAI_BASE_URL'] || undefined;
  const apiKey = overrides.apiKey ?? file.openai_api_key ?? envKey;
  const configuredUrl = overrides.baseUrl ?? file.openai_base_url ?? envUrl;
  const explicitProvider = overrides.provider ?? file.provider;
  if (explicitProvider !== undefined && !isProviderName(explicitProvider)) {
    throw new ConfigError(`provider: unknown provider "${explicitProvider}"; known: ${PROVIDER_NAMES.join(', ')}`);
  }
  const embeddedDefault =
    path === undefined && configuredUrl === undefined && apiKey === undefined && explicitProvider === undefined;
  const providerName: ProviderName =
    explicitProvider ??
    (configuredUrl !== undefined ? inferProvider(configuredUrl) : apiKey !== undefined ? 'openai' : 'ollama');
  const profile = PROVIDERS[providerName];
  const baseUrl =
    configuredUrl ??
    profile.defaultBaseUrl ??
    (apiKey !== undefined ? EMBEDDED_DEFAULT.openAIBaseUrl : EMBEDDED_DEFAULT.baseUrl);
  if (configuredUrl === undefined && profile.defaultBaseUrl === undefined) {
    throw new ConfigError(
      `openai_base_url: provider ${providerName} has no default base URL; set openai_base_url (e.g. https://NAME.openai.azure.com)`,
    );
  }
  try {
    new URL(baseUrl);
  } catch {
    throw new ConfigError(`openai_base_url: "${baseUrl}" is not a valid URL`);
  }

  const mapping = Object.keys(file.model_mapping).length > 0 ? file.model_mapping : profile.defaultModelMapping;
  const defaultModel =
    overrides.model ??
    file.default_openai_model ??
    env['OPENAI_MODEL'] ??
    profile.defaultModel ??
    (embeddedDefault ? EMBEDDED_DEFAULT.model : undefined);

  const timeouts = {
    idleSeconds: file.timeouts.upstream_idle_seconds,
    headersSeconds: file.timeouts.upstream_headers_seconds,
    unarySeconds: file.timeouts.upstream_unary_seconds,
    connectSeconds: file.timeouts.upstream_connect_seconds,
  };
  const named = Object.entries(file.upstreams);
  const hasLegacyUpstream =
    configuredUrl !== undefined || apiKey !== undefined || explicitProvider !== undefined || named.length === 0;
  const upstreams: UpstreamDefinition[] = [];
  if (hasLegacyUpstream) {
    upstreams.push({
      name: 'default',
      provider: providerName,
      profile,
      baseUrl: baseUrl.replace(/\/+$/, ''),
      apiKeys: apiKey === undefined ? [] : [apiKey],
      azureApiVersion: file.azure_api_version,
      timeouts,
    });
  }
  for (const [name, entry] of named) {
    if (name === 'default' && hasLegacyUpstream)
      throw new ConfigError(
        'upstreams.default: the name "default" is taken by the openai_base_url/openai_api_key upstream',
      );
    const upstreamProvider: ProviderName =
      entry.provider !== undefined && isProviderName(entry.provider)
        ? entry.provider
        : entry.base_url !== undefined
          ? inferProvider(entry.base_url)
          : 'generic';
    const upstreamProfile = PROVIDERS[upstreamProvider];
    const upstreamUrl = entry.base_url ?? upstreamProfile.defaultBaseUrl;
    if (upstreamUrl === undefined)
      throw new ConfigError(`upstreams.${name}.base_url: required for provider ${upstreamProvider}`);
    upstreams.push({
      name,
      provider: upstreamProvider,
      profile: upstreamProfile,
      baseUrl: upstreamUrl.replace(/\/+$/, ''),
      apiKeys: [...(entry.api_key !== undefined ? [entry.api_key] : []), ...(entry.api_keys ?? [])],
      azureApiVersion: entry.azure_api_version,
      timeouts: {
        idleSeconds: entry.timeouts?.upstream_idle_seconds ?? timeouts.idleSeconds,
        headersSeconds: entry.timeouts?.upstream_headers_seconds ?? timeouts.headersSeconds,
        unarySeconds: entry.timeouts?.upstream_unary_seconds ?? timeouts.unarySeconds,
        connectSeconds: entry.timeouts?.upstream_connect_seconds ?? timeouts.connectSeconds,
      },
    });
  }
  const defaultUpstream = upstreams[0]?.name ?? 'default';
  const known = new Set(upstreams.map((upstream) => upstream.name));
  const routes: Record<string, RouteTarget[]> = {};
  for (const [pattern, targets] of Object.entries(file.routes)) {
    targets.forEach((target, index) => {
      if (!known.has(target.upstream)) {
        throw new ConfigError(
          `routes.${pattern}[${index}].upstream: unknown upstream "${target.upstream}"; known: ${[...known].join(', ')}`,
        );
      }
    });
    routes[pattern] = targets.map((target) => ({ upstream: target.upstream, model: target.model }));
  }
  const routing: RoutingConfig = { routes, modelMapping: mapping, defaultModel, defaultUpstream };

  const host = overrides.host ?? file.server.host;
  const port = overrides.port ?? file.server.port;
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
  const clientApiKeys = clients.map((client) => client.key);
  if (clientApiKeys.length === 0 && !isLoopback(host) && !file.allow_unauthenticated) {
    throw new ConfigError(
      `server.host: refusing to listen on ${host} without client_api_keys; set client_api_keys, or "allow_unauthenticated": true to accept anyone who can reach this address`,
    );
  }
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
  if (Object.keys(routes).length === 0 && Object.keys(mapping).length === 0 && defaultModel === undefined) {
    warnings.push({
      kind: 'no-model-route',
      field: 'model_mapping',
      detail: 'no model_mapping, routes or default_openai_model: every request for an unmapped model will get 404',
    });
  }

  return {
    source,
    embeddedDefault,
    host,
    port,
    basePath: file.server.base_path,
    bodyLimitBytes: Math.floor(file.server.body_limit_mb * 1024 * 1024),
    logLevel: LOG_LEVELS[file.server.log_level] ?? 'info',
    upstream: {
      provider: providerName,
      profile,
      baseUrl: baseUrl.replace(/\/+$/, ''),
      apiKey,
      azureApiVersion: file.azure_api_version,
      providerInferred: explicitProvider === undefined,
    },
    quickStart: path === undefined,
    upstreams,
    routing,
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
    limits,
    clients,
    requestTimeoutSeconds: file.server.request_timeout_seconds,
    drainSeconds: file.server.drain_seconds,
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
    maxUrlBytes: file.server.max_url_bytes,
    maxHeaderBytes: file.server.max_header_bytes,
    defaultEmbeddingModel: file.default_embedding_model,
    clientApiKeys,
    allowUnauthenticated: file.allow_unauthenticated,
    allowedOrigins: file.allowed_origins.map((origin) => origin.toLowerCase().replace(/\/+$/, '')),
    allowedHosts: file.allowed_hosts.map((host) => host.toLowerCase()),
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
