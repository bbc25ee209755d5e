/**
 * Where requests go, as data: the upstream the original single-upstream keys describe (with flags and environment
 * over the file, its provider named or inferred from the base URL), the named `upstreams`, and the `routes` and
 * `model_mapping` over them. gateway/ builds the pool and the router from these.
 */
import { PROVIDERS, PROVIDER_NAMES, inferProvider, isProviderName } from '../providers/index.js';
import type { ProviderName, ProviderProfile } from '../providers/profile.js';
import {
  ConfigError,
  type CommandLineOverrides,
  type RouteTarget,
  type RoutingConfig,
  type UpstreamDefinition,
} from './resolved.js';
import type { FileConfig } from './schema.js';

export const EMBEDDED_DEFAULT = {
  baseUrl: 'http://127.0.0.1:11434/v1',
  model: 'qwen3:8b',
  /** The original tool's default base URL, used when a key is configured but no URL. */
  openAIBaseUrl: 'https://api.openai.com/v1',
} as const;

/** The upstream of `openai_base_url`, `openai_api_key` and `provider` (named "default" in the upstream list). */
export interface PrimaryUpstream {
  provider: ProviderName;
  profile: ProviderProfile;
  /** Without a trailing slash. */
  baseUrl: string;
  apiKey: string | undefined;
  /** True when the provider came from the base URL rather than from the config. */
  providerInferred: boolean;
  /** True when a base URL, a key or a provider was given: then it is an upstream even beside named ones. */
  configured: boolean;
  /** True when neither a file nor the environment said anything: the embedded local-Ollama default. */
  embeddedDefault: boolean;
}

type Timeouts = UpstreamDefinition['timeouts'];

export function resolvePrimaryUpstream(
  file: FileConfig,
  overrides: CommandLineOverrides,
  env: NodeJS.ProcessEnv,
  configPath: string | undefined,
): PrimaryUpstream {
  const envKey = env['OPENAI_API_KEY'] || undefined;
  const envUrl = env['OPENAI_BASE_URL'] || undefined;
  const apiKey = overrides.apiKey ?? file.openai_api_key ?? envKey;
  const configuredUrl = overrides.baseUrl ?? file.openai_base_url ?? envUrl;
  const explicitProvider = overrides.provider ?? file.provider;
  if (explicitProvider !== undefined && !isProviderName(explicitProvider)) {
    throw new ConfigError(`provider: unknown provider "${explicitProvider}"; known: ${PROVIDER_NAMES.join(', ')}`);
  }
  const configured = configuredUrl !== undefined || apiKey !== undefined || explicitProvider !== undefined;
  const provider: ProviderName =
    explicitProvider ??
    (configuredUrl !== undefined ? inferProvider(configuredUrl) : apiKey !== undefined ? 'openai' : 'ollama');
  const profile = PROVIDERS[provider];
  const baseUrl =
    configuredUrl ??
    profile.defaultBaseUrl ??
    (apiKey !== undefined ? EMBEDDED_DEFAULT.openAIBaseUrl : EMBEDDED_DEFAULT.baseUrl);
  if (configuredUrl === undefined && profile.defaultBaseUrl === undefined) {
    throw new ConfigError(
      `openai_base_url: provider ${provider} has no default base URL; set openai_base_url (e.g. https://NAME.openai.azure.com)`,
    );
  }
  try {
    new URL(baseUrl);
  } catch {
    throw new ConfigError(`openai_base_url: "${baseUrl}" is not a valid URL`);
  }
  return {
    provider,
    profile,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    apiKey,
    providerInferred: explicitProvider === undefined,
    configured,
    embeddedDefault: configPath === undefined && !configured,
  };
}

/** Every upstream, the primary one first when it is configured (or when no named upstream exists). */
export function resolveUpstreams(file: FileConfig, primary: PrimaryUpstream): UpstreamDefinition[] {
  const timeouts: Timeouts = {
    idleSeconds: file.timeouts.upstream_idle_seconds,
    headersSeconds: file.timeouts.upstream_headers_seconds,
    unarySeconds: file.timeouts.upstream_unary_seconds,
    connectSeconds: file.timeouts.upstream_connect_seconds,
  };
  const named = Object.entries(file.upstreams);
  const hasPrimary = primary.configured || named.length === 0;
  const upstreams: UpstreamDefinition[] = [];
  if (hasPrimary) {
    upstreams.push({
      name: 'default',
      provider: primary.provider,
      profile: primary.profile,
      baseUrl: primary.baseUrl,
      apiKeys: primary.apiKey === undefined ? [] : [primary.apiKey],
      azureApiVersion: file.azure_api_version,
      timeouts,
    });
  }
  for (const [name, entry] of named) {
    if (name === 'default' && hasPrimary)
      throw new ConfigError(
        'upstreams.default: the name "default" is taken by the openai_base_url/openai_api_key upstream',
      );
    upstreams.push(namedUpstream(name, entry, timeouts));
  }
  return upstreams;
}

function namedUpstream(name: string, entry: FileConfig['upstreams'][string], timeouts: Timeouts): UpstreamDefinition {
  const provider: ProviderName =
    entry.provider !== undefined && isProviderName(entry.provider)
      ? entry.provider
      : entry.base_url !== undefined
        ? inferProvider(entry.base_url)
        : 'generic';
  const profile = PROVIDERS[provider];
  const baseUrl = entry.base_url ?? profile.defaultBaseUrl;
  if (baseUrl === undefined) throw new ConfigError(`upstreams.${name}.base_url: required for provider ${provider}`);
  return {
    name,
    provider,
    profile,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    apiKeys: [...(entry.api_key !== undefined ? [entry.api_key] : []), ...(entry.api_keys ?? [])],
    azureApiVersion: entry.azure_api_version,
    timeouts: {
      idleSeconds: entry.timeouts?.upstream_idle_seconds ?? timeouts.idleSeconds,
      headersSeconds: entry.timeouts?.upstream_headers_seconds ?? timeouts.headersSeconds,
      unarySeconds: entry.timeouts?.upstream_unary_seconds ?? timeouts.unarySeconds,
      connectSeconds: entry.timeouts?.upstream_connect_seconds ?? timeouts.connectSeconds,
    },
  };
}

/** `routes` (checked against the upstreams' names), `model_mapping` (else the preset's) and the default model. */
export function resolveRouting(
  file: FileConfig,
  primary: PrimaryUpstream,
  upstreams: readonly UpstreamDefinition[],
  overrides: CommandLineOverrides,
  env: NodeJS.ProcessEnv,
): RoutingConfig {
  const mapping = Object.keys(file.model_mapping).length > 0 ? file.model_mapping : primary.profile.defaultModelMapping;
  const defaultModel =
    overrides.model ??
    file.default_openai_model ??
    env['OPENAI_MODEL'] ??
    primary.profile.defaultModel ??
    (primary.embeddedDefault ? EMBEDDED_DEFAULT.model : undefined);
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
  return { routes, modelMapping: mapping, defaultModel, defaultUpstream };
}
