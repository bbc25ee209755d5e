/**
 * Model resolution for every method, and models.list / models.get ([R-MOD-1]…[R-MOD-4]).
 */
import { ProxyError } from '../errors.js';
import type { UpstreamTarget } from '../upstream/endpoints.js';
import { routerFor } from '../gateway/router.js';
import { modelLimitsFor } from '../providers/context-windows.js';
import type { ProxyContext } from './context.js';

export interface ResolvedTarget {
  model: string;
  target: UpstreamTarget;
  matchedBy: 'exact' | 'pattern' | 'default';
}

/** The first route target of a model, with a key from the pool (or the first key when every circuit is open). */
export function resolveFirstTarget(context: ProxyContext, geminiModel: string, method: string): ResolvedTarget {
  const plan = routerFor(context.config.routing).plan(geminiModel);
  const route = plan?.targets[0];
  const upstream = route === undefined ? undefined : context.pool.get(route.upstream);
  if (plan === undefined || route === undefined || upstream === undefined) {
    // Google's wording: Gemini CLI turns a 404 into its model-fallback chain.
    throw new ProxyError(
      'MODEL_NOT_FOUND',
      `models/${geminiModel} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
    );
  }
  const target = context.pool.acquire(route.upstream) ?? {
    provider: upstream.provider,
    profile: upstream.profile,
    baseUrl: upstream.baseUrl,
    apiKey: upstream.apiKeys[0],
    azureApiVersion: upstream.azureApiVersion,
    upstreamName: upstream.name,
    keyIndex: 0,
    timeouts: upstream.timeouts,
  };
  return { model: route.model, target, matchedBy: plan.matchedBy };
}

interface ModelResource {
  name: string;
  baseModelId: string;
  version: string;
  displayName: string;
  description: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
  supportedGenerationMethods: string[];
}

function isEmbeddingName(name: string): boolean {
  return /embedding/i.test(name);
}

/**
 * The first target's context window (config model_limits, then the preset's table) as inputTokenLimit and its output
 * limit as outputTokenLimit; Gemini's own figures when the window is unknown, as before windows were known.
 */
function tokenLimits(
  context: ProxyContext,
  embedding: boolean,
  first: { upstream: string; model: string },
): { inputTokenLimit: number; outputTokenLimit: number } {
  if (embedding) return { inputTokenLimit: 8192, outputTokenLimit: 1 };
  const upstream = context.pool.get(first.upstream);
  const limits =
    upstream === undefined ? undefined : modelLimitsFor(context.config.modelLimits, upstream.provider, first.model);
  if (limits === undefined) return { inputTokenLimit: 1_048_576, outputTokenLimit: 65_536 };
  return {
    inputTokenLimit: limits.contextWindow,
    outputTokenLimit: limits.maxOutputTokens ?? Math.min(65_536, limits.contextWindow),
  };
}

export function modelResource(context: ProxyContext, geminiModel: string): ModelResource | undefined {
  const plan = routerFor(context.config.routing).plan(geminiModel);
  const first = plan?.targets[0];
  if (first === undefined) return undefined;
  const embedding = isEmbeddingName(geminiModel);
  const chain = plan?.targets.map((target) => `${target.upstream}/${target.model}`).join(', then ') ?? '';
  return {
    name: `models/${geminiModel}`,
    baseModelId: geminiModel,
    version: 'proxy',
    displayName: `${geminiModel} → ${first.model}`,
    description: `Mapped by gemini-proxy to ${chain}`,
    ...tokenLimits(context, embedding, first),
    supportedGenerationMethods: embedding
      ? ['embedContent', 'batchEmbedContents']
      : ['generateContent', 'streamGenerateContent', 'countTokens'],
  };
}

export function listModels(
  context: ProxyContext,
  query: Record<string, unknown>,
): { models: ModelResource[]; nextPageToken?: string } {
  const sizeRaw = Number(query['pageSize'] ?? 50);
  const pageSize = Number.isFinite(sizeRaw) && sizeRaw > 0 ? Math.min(Math.floor(sizeRaw), 1000) : 50;
  const tokenRaw = typeof query['pageToken'] === 'string' ? query['pageToken'] : '';
  const offset = /^\d+$/.test(tokenRaw) ? Number(tokenRaw) : 0;
  const names = routerFor(context.config.routing).listedNames();
  const models = names
    .slice(offset, offset + pageSize)
    .map((name) => modelResource(context, name))
    .filter((model): model is ModelResource => model !== undefined);
  // [R-MOD-2]: never an empty nextPageToken; SDK 2.x's pager loops forever on "".
  return offset + pageSize < names.length ? { models, nextPageToken: String(offset + pageSize) } : { models };
}
