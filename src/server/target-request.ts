/**
 * A generate request translated for one route target (its upstream's dialect and model), and the reasoning replay
 * around it: restored into earlier tool-call turns before the call, remembered from the answer after it
 * (docs/providers.md §4.2).
 */
import { describeWarning } from '../translate/warnings.js';
import { ProxyError } from '../errors.js';
import type { RouteTarget } from '../gateway/router.js';
import type { UpstreamDefinition } from '../gateway/upstream-pool.js';
import { geminiRequestToOpenAI, type TranslatedRequest } from '../translate/gemini-request-to-openai.js';
import type { GenerateContentRequest } from '../translate/gemini-types.js';
import type { StreamTranslationOptions, UpstreamCall } from '../translate/openai-stream-to-gemini.js';
import { streamUsageOverride, upstreamUrl, type UpstreamTarget } from '../upstream/endpoints.js';
import { modelLimitsFor } from '../providers/context-windows.js';
import { assertPromptFits } from './context-window.js';
import type { ProxyContext, RequestInfo } from './context.js';
import { webSearchForTarget, type PreparedWebSearch } from '../search/web-search.js';
import type { UpstreamPost } from '../upstream/client.js';
import { reasoningKeys } from '../shared/reasoning-cache.js';

export interface TargetRequest {
  route: RouteTarget;
  upstream: UpstreamDefinition;
  translated: TranslatedRequest;
  body: string;
  url: string;
  streamOptions: StreamTranslationOptions;
  /** Replaces the plain upstream POST (Kimi's builtin web search loop). */
  post?: UpstreamPost;
}

/**
 * Restores the reasoning of earlier tool-call turns that the upstream requires and Gemini CLI stripped; a single space
 * when nothing was recorded, which both DeepSeek and Kimi accept.
 */
async function restoreReasoning(
  context: ProxyContext,
  info: RequestInfo,
  translated: TranslatedRequest,
): Promise<void> {
  let missing = 0;
  for (const index of translated.reasoningRequired) {
    const message = translated.body.messages[index];
    if (message === undefined || message.role !== 'assistant' || message.tool_calls === undefined) continue;
    let reasoning: string | undefined;
    for (const call of message.tool_calls) {
      reasoning = await context.reasoningCache.get(reasoningKeys(call.id, call.function.name, call.function.arguments));
      if (reasoning !== undefined) break;
    }
    if (reasoning === undefined) missing += 1;
    message.reasoning_content = reasoning ?? ' ';
  }
  if (missing > 0)
    context.log.warn(
      { requestId: info.requestId },
      `reasoning of ${missing} earlier tool-call turn(s) was not found; sent a placeholder`,
    );
}

export async function rememberReasoning(
  context: ProxyContext,
  calls: UpstreamCall[],
  reasoning: string,
): Promise<void> {
  if (reasoning === '' || calls.length === 0) return;
  for (const call of calls)
    await context.reasoningCache.set(reasoningKeys(call.id, call.name, JSON.stringify(call.args)), reasoning);
}

function endpointTarget(upstream: UpstreamDefinition): UpstreamTarget {
  return {
    provider: upstream.provider,
    profile: upstream.profile,
    baseUrl: upstream.baseUrl,
    apiKey: undefined,
    azureApiVersion: upstream.azureApiVersion,
  };
}

export async function translateForTarget(
  context: ProxyContext,
  info: RequestInfo,
  request: GenerateContentRequest,
  route: RouteTarget,
  stream: boolean,
  responseId: string,
  search: PreparedWebSearch | undefined,
): Promise<TargetRequest> {
  const upstream = context.pool.get(route.upstream);
  if (upstream === undefined) throw new ProxyError('INTERNAL', `route names an unknown upstream ${route.upstream}`);
  // googleSearch: the proxy's own search results, or this upstream's native search (src/search/).
  const targetSearch =
    search === undefined
      ? undefined
      : webSearchForTarget(search, upstream, route.model, context.config.webSearch, context.upstream);
  const usage = streamUsageOverride(endpointTarget(upstream));
  const translated = geminiRequestToOpenAI(request, {
    model: route.model,
    stream,
    profile: upstream.profile,
    ...(usage === undefined ? {} : { streamUsage: usage }),
  });
  for (const warning of translated.warnings)
    context.log.warn({ requestId: info.requestId, upstream: route.upstream }, describeWarning(warning));
  if (translated.reasoningRequired.length > 0) await restoreReasoning(context, info, translated);
  const body = JSON.stringify(targetSearch === undefined ? translated.body : targetSearch.body(translated.body));
  if (targetSearch?.record !== undefined) info.webSearch = targetSearch.record;
  const limits = modelLimitsFor(context.config.modelLimits, upstream.provider, route.model);
  if (limits !== undefined) await assertPromptFits(limits, route.model, body, translated.body);
  const target: TargetRequest = {
    route,
    upstream,
    translated,
    body,
    url: upstreamUrl(endpointTarget(upstream), 'chat', route.model),
    streamOptions: {
      modelVersion: route.model,
      responseId,
      includeThoughts: translated.includeThoughts,
      textMode: translated.textMode,
      toolNames: translated.toolNames,
      promptCharacters: body.length,
      ...(translated.body.n === undefined ? {} : { candidateCount: translated.body.n }),
      thinkTags: translated.thinkTags,
      ...(targetSearch?.grounding === undefined ? {} : { grounding: targetSearch.grounding }),
    },
  };
  if (targetSearch?.post !== undefined) target.post = targetSearch.post;
  return target;
}
