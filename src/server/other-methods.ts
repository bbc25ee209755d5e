/**
 * countTokens and the two embedding methods.
 */
import { ProxyError, quoteForMessage } from '../errors.js';
import { geminiRequestToOpenAI } from '../translate/gemini-request-to-openai.js';
import { tokenCountParts } from '../translate/count-tokens.js';
import {
  parseBatchEmbedContents,
  parseEmbedContent,
  parseEmbeddingsResponse,
  type EmbeddingInput,
} from '../translate/embeddings.js';
import { normalizeGenerateContentRequest } from '../translate/normalize-request.js';
import { classifyUpstreamError, upstreamProtocolError } from '../upstream/upstream-errors.js';
import { countTextsInSlices, loadTokenizer } from '../tokenizer.js';
import { upstreamLabel, upstreamUrl } from '../upstream/endpoints.js';
import { Cancellation, NEVER_CANCELLED } from '../upstream/cancel.js';
import { readBody } from '../upstream/client.js';
import type { OpenAIChatRequest } from '../translate/openai-types.js';
import { recordUpstreamOutcome, type ProxyContext, type RequestInfo } from './context.js';
import { resolveFirstTarget } from './models.js';
import { modelNameProblem } from './gemini-path.js';
import type { UpstreamTarget } from '../upstream/endpoints.js';

/**
 * Both body forms: `{contents}` (what the SDKs send) and `{generateContentRequest:{…}}` (REST). Never a generation
 * ([R-CT-1]); always 200 with a count for well-formed input ([R-CT-2]).
 */
export async function countTokens(
  context: ProxyContext,
  info: RequestInfo,
  geminiModel: string,
  body: unknown,
): Promise<{ totalTokens: number }> {
  const record =
    typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const inner = record['generateContentRequest'] ?? record['generate_content_request'];
  const request = normalizeGenerateContentRequest(inner ?? body);
  const { model: upstreamModel, target } = resolveFirstTarget(context, geminiModel, 'countTokens');
  info.upstreamModel = upstreamModel;
  let translated;
  try {
    translated = geminiRequestToOpenAI(request, { model: upstreamModel, stream: false, profile: target.profile });
  } catch (error) {
    // Features a generation would refuse (built-in tools, cachedContent) can still be counted: count without them.
    if (!(error instanceof ProxyError) || error.code !== 'UNSUPPORTED_FEATURE') throw error;
    const stripped = {
      ...request,
      tools: request.tools.map((tool) => ({ ...tool, builtIns: [] })),
      generationConfig: {},
    };
    delete (stripped as { cachedContent?: string }).cachedContent;
    translated = geminiRequestToOpenAI(stripped, { model: upstreamModel, stream: false, profile: target.profile });
  }
  const remote = await countWithProvider(context, info, target, translated.body);
  if (remote !== undefined) return { totalTokens: remote };
  const count = await loadTokenizer();
  const { texts, fixedTokens } = tokenCountParts(translated.body);
  return { totalTokens: fixedTokens + (await countTextsInSlices(count, texts)) };
}

/**
 * The provider's own tokenizer endpoint where its preset names one (docs/providers.md §9.1): Moonshot, Zhipu, vLLM,
 * llama.cpp.
 * Any failure (status, shape, 5 s timeout) falls back to the local tokenizer, so countTokens never fails on it.
 */
async function countWithProvider(
  context: ProxyContext,
  info: RequestInfo,
  target: UpstreamTarget,
  body: OpenAIChatRequest,
): Promise<number | undefined> {
  const endpoint = target.profile.tokenCount;
  if (endpoint === undefined) return undefined;
  const base = target.baseUrl.replace(/\/+$/, '');
  const url = `${endpoint.relativeTo === 'origin' ? base.replace(/\/v1$/, '') : base}${endpoint.path}`;
  const payload = endpoint.payload(body);
  const abort = new Cancellation();
  const timer = setTimeout(() => abort.abort(), 5000);
  try {
    const response = await context.upstream.post(target, url, JSON.stringify(payload), abort.signal, false);
    const text = await readBody(response.body);
    if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
    // Redacted first: a JSON.parse error quotes the start of the body, which may be an echoed key.
    const value = endpoint.readCount(JSON.parse(context.redact(text).trim()));
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error('no count in the reply');
    return Math.round(value);
  } catch (error) {
    context.log.warn(
      { requestId: info.requestId },
      `token count endpoint of ${upstreamLabel(target)} failed (${error instanceof Error ? error.message : String(error)}); counted locally`,
    );
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

async function embedGroup(
  context: ProxyContext,
  target: UpstreamTarget,
  model: string,
  inputs: EmbeddingInput[],
): Promise<number[][]> {
  const { profile } = target;
  const vectors: number[][] = [];
  for (let start = 0; start < inputs.length; start += profile.maxEmbeddingBatch) {
    const batch = inputs.slice(start, start + profile.maxEmbeddingBatch);
    const dimensions = batch[0]?.dimensions;
    const payload: Record<string, unknown> = {
      model,
      input: batch.map((input) => input.text),
      encoding_format: 'float',
    };
    if (dimensions !== undefined) payload['dimensions'] = dimensions;
    const response = await context.upstream.post(
      target,
      upstreamUrl(target, 'embeddings', model),
      JSON.stringify(payload),
      NEVER_CANCELLED,
      false,
    );
    const text = await readBody(response.body);
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const error = classifyUpstreamError({
        provider: upstreamLabel(target),
        status: response.statusCode,
        body: context.redact(text),
      });
      if (error.code === 'UPSTREAM_NOT_FOUND' || response.statusCode === 404 || response.statusCode === 405) {
        // [R-EMB-3]: an upstream without embeddings is a 404, never a 5xx.
        throw new ProxyError(
          'NOT_FOUND',
          `models/${model} is not supported for embedContent by upstream ${upstreamLabel(target)} (${response.statusCode}).`,
          error.details,
        );
      }
      throw error;
    }
    try {
      // Redacted first: a JSON.parse error quotes the start of the body, which may be an echoed key.
      vectors.push(...parseEmbeddingsResponse(JSON.parse(context.redact(text).trim()), batch.length));
    } catch (error) {
      throw upstreamProtocolError(
        upstreamLabel(target),
        'UPSTREAM_PROTOCOL',
        `Upstream ${upstreamLabel(target)} answered with an embeddings reply the proxy cannot read (${quoteForMessage(error instanceof Error ? error.message : String(error), 120)}).`,
        context.redact(text),
      );
    }
  }
  return vectors;
}

async function embed(
  context: ProxyContext,
  info: RequestInfo,
  geminiModel: string,
  inputs: EmbeddingInput[],
): Promise<number[][]> {
  const resolveEmbedding = (name: string): { model: string; target: UpstreamTarget } => {
    const resolved = resolveFirstTarget(context, name, 'embedContent');
    if (resolved.matchedBy === 'default' && context.config.defaultEmbeddingModel !== undefined)
      return { model: context.config.defaultEmbeddingModel, target: resolved.target };
    return resolved;
  };
  // [R-EMB-1]: group elements that name different models (and dimensions); keep the answer in input order.
  const groups = new Map<
    string,
    { model: string; target: UpstreamTarget; positions: number[]; inputs: EmbeddingInput[] }
  >();
  inputs.forEach((input, position) => {
    const tooLong = input.model === undefined ? undefined : modelNameProblem(input.model);
    if (tooLong !== undefined) throw new ProxyError('INVALID_REQUEST', `requests[${position}].model: ${tooLong}`);
    const { model, target } = resolveEmbedding(input.model ?? geminiModel);
    if (!target.profile.embeddings) {
      // [R-EMB-3]: DeepSeek, Groq and Moonshot have no embeddings endpoint; say so instead of calling it.
      throw new ProxyError(
        'NOT_FOUND',
        `models/${geminiModel} is not supported for embedContent: upstream ${upstreamLabel(target)} has no embeddings endpoint.`,
      );
    }
    const key = `${target.upstreamName ?? ''}\u0000${model}\u0000${input.dimensions ?? ''}`;
    const group = groups.get(key) ?? { model, target, positions: [], inputs: [] };
    group.positions.push(position);
    group.inputs.push(input);
    groups.set(key, group);
  });
  info.upstreamModel = [...new Set([...groups.values()].map((group) => group.model))].join(',');
  const out = new Array<number[]>(inputs.length);
  let failure: string | undefined;
  try {
    for (const group of groups.values()) {
      const vectors = await embedGroup(context, group.target, group.model, group.inputs);
      group.positions.forEach((position, index) => {
        out[position] = vectors[index] ?? [];
      });
    }
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
    throw error;
  } finally {
    recordUpstreamOutcome(context, failure);
  }
  return out;
}

export async function embedContent(
  context: ProxyContext,
  info: RequestInfo,
  geminiModel: string,
  body: unknown,
): Promise<{ embedding: { values: number[] } }> {
  const [vector] = await embed(context, info, geminiModel, parseEmbedContent(body));
  return { embedding: { values: vector ?? [] } };
}

export async function batchEmbedContents(
  context: ProxyContext,
  info: RequestInfo,
  geminiModel: string,
  body: unknown,
): Promise<{ embeddings: Array<{ values: number[] }> }> {
  const vectors = await embed(context, info, geminiModel, parseBatchEmbedContents(body));
  return { embeddings: vectors.map((values) => ({ values })) };
}
