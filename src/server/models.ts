/**
 * Model resolution for every method, and models.list / models.get ([R-MOD-1]…[R-MOD-4]).
 */
import { ProxyError } from '../errors.js';
import type { ProxyContext } from './context.js';

export function resolveModelOrThrow(context: ProxyContext, geminiModel: string, method: string): string {
  const resolution = context.config.models.resolve(geminiModel);
  if (resolution === undefined) {
    // Google's wording: Gemini CLI turns a 404 into its model-fallback chain.
    throw new ProxyError(
      'MODEL_NOT_FOUND',
      `models/${geminiModel} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
    );
  }
  return resolution.upstreamModel;
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

export function modelResource(context: ProxyContext, geminiModel: string): ModelResource | undefined {
  const resolution = context.config.models.resolve(geminiModel);
  if (resolution === undefined) return undefined;
  const embedding = isEmbeddingName(geminiModel);
  return {
    name: `models/${geminiModel}`,
    baseModelId: geminiModel,
    version: 'proxy',
    displayName: `${geminiModel} → ${resolution.upstreamModel}`,
    description: `Mapped by gemini-proxy to ${context.config.upstream.provider}/${resolution.upstreamModel}`,
    inputTokenLimit: embedding ? 8192 : 1_048_576,
    outputTokenLimit: embedding ? 1 : 65_536,
    supportedGenerationMethods: embedding ? ['embedContent', 'batchEmbedContents'] : ['generateContent', 'streamGenerateContent', 'countTokens'],
  };
}

export function listModels(context: ProxyContext, query: Record<string, unknown>): { models: ModelResource[]; nextPageToken?: string } {
  const sizeRaw = Number(query['pageSize'] ?? 50);
  const pageSize = Number.isFinite(sizeRaw) && sizeRaw > 0 ? Math.min(Math.floor(sizeRaw), 1000) : 50;
  const tokenRaw = typeof query['pageToken'] === 'string' ? query['pageToken'] : '';
  const offset = /^\d+$/.test(tokenRaw) ? Number(tokenRaw) : 0;
  const names = context.config.models.listedNames();
  const models = names
    .slice(offset, offset + pageSize)
    .map((name) => modelResource(context, name))
    .filter((model): model is ModelResource => model !== undefined);
  // [R-MOD-2]: never an empty nextPageToken; SDK 2.x's pager loops forever on "".
  return offset + pageSize < names.length ? { models, nextPageToken: String(offset + pageSize) } : { models };
}
