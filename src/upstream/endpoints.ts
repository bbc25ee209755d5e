/**
 * Where a request goes and how it authenticates, per provider. Azure addresses the deployment (the mapped model) in
 * the path, takes `api-version` in the query and the key in an `api-key` header (docs/providers.md §10.2); a base URL
 * that already ends in `/openai/deployments/<name>` (the original tool's example) or in `/openai/v1` keeps working.
 */
import type { ProviderProfile } from '../providers/profile.js';

export interface UpstreamTarget {
  provider: string;
  profile: ProviderProfile;
  baseUrl: string;
  apiKey: string | undefined;
  azureApiVersion: string;
  /** The named upstream and key position this target came from (gateway routing). */
  upstreamName?: string;
  keyIndex?: number;
  /** Per-upstream timeouts, overriding the client's defaults. */
  timeouts?: { idleSeconds: number; headersSeconds: number; unarySeconds: number; connectSeconds: number };
}

export type UpstreamOperation = 'chat' | 'embeddings';

function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

export function upstreamUrl(target: UpstreamTarget, operation: UpstreamOperation, model: string): string {
  const base = trimSlashes(target.baseUrl);
  const path = operation === 'chat' ? target.profile.chatPath : target.profile.embeddingsPath;
  if (target.profile.auth !== 'azure-api-key' || /\/openai\/v1$/.test(base)) return `${base}${path}`;
  const query = `?api-version=${encodeURIComponent(target.azureApiVersion)}`;
  if (/\/openai\/deployments\/[^/]+$/.test(base)) return `${base}${path}${query}`;
  const root = base.replace(/\/openai$/, '');
  return `${root}/openai/deployments/${encodeURIComponent(model)}${path}${query}`;
}

export function authHeaders(target: UpstreamTarget): Record<string, string> {
  if (target.apiKey === undefined || target.apiKey === '') return {};
  return target.profile.auth === 'azure-api-key'
    ? { 'api-key': target.apiKey }
    : { authorization: `Bearer ${target.apiKey}` };
}

/** `stream_options` is rejected by Azure api-versions before 2024-09-01-preview (docs/providers.md §2.4). */
export function streamUsageOverride(target: UpstreamTarget): boolean | undefined {
  if (target.profile.auth !== 'azure-api-key') return undefined;
  if (/\/openai\/v1$/.test(trimSlashes(target.baseUrl))) return true;
  return target.azureApiVersion >= '2024-09-01';
}

/** How errors and logs name an upstream: the provider for the single-upstream form, `name (provider)` otherwise. */
export function upstreamLabel(target: Pick<UpstreamTarget, 'provider' | 'upstreamName'>): string {
  const name = target.upstreamName;
  return name === undefined || name === 'default' || name === target.provider
    ? target.provider
    : `${name} (${target.provider})`;
}
