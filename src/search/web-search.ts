/**
 * Gemini's googleSearch tool on any upstream (README "Web search"). Once per request: decide who searches, and when
 * the proxy searches itself (SearXNG, Brave, Tavily), run the search with the request's last user text and hand the
 * results to the model as numbered sources. Once per route target: switch on the upstream's native search instead.
 * Either way the answer's translator gets a GroundingPlan and builds groundingMetadata from it. A search that fails
 * (down, slow, empty) never fails the request: the answer comes without grounding, and a warning is logged.
 */
import { ProxyError } from '../errors.js';
import type { UpstreamDefinition } from '../gateway/upstream-pool.js';
import { capabilitiesFor } from '../providers/profile.js';
import type { GenerateContentRequest, GeminiContent } from '../translate/gemini-types.js';
import type { GroundingPlan } from '../translate/grounding.js';
import type { OpenAIChatRequest } from '../translate/openai-types.js';
import type { UpstreamClient, UpstreamPost } from '../upstream/client.js';
import { runSearch, type SearchResult } from './backends.js';
import type { SelfRunBackend, WebSearchConfig } from '../config/web-search.js';
import { kimiBuiltinSearchPost } from './kimi-builtin.js';
import { NATIVE_SEARCH_NAMES, nativeGroundingPlan, withNativeSearch, type SearchingChatRequest } from './native.js';

const SEARCH_TOOLS = new Set(['googleSearch', 'googleSearchRetrieval']);

/** What the access log, dashboard, usage store and metrics learn about one request's search. */
export interface WebSearchRecord {
  /** `searxng`, `brave`, `tavily`, or the native search used (`zhipu web_search`, …). */
  backend: string;
  query: string;
  /** Results the proxy's own search returned (native searches: unknown, 0). */
  results: number;
  outcome: 'ok' | 'native' | 'timeout' | 'unavailable' | 'rejected' | 'bad-response' | 'empty' | 'no-query';
  durationMs?: number;
}

export interface PreparedWebSearch {
  /** The request without its search tool; with the sources added when the proxy searched. */
  request: GenerateContentRequest;
  query: string;
  /** `self`: the proxy searched (or tried to); otherwise each target's native search answers. */
  mode: 'self' | 'provider' | 'auto';
  /** Set when the proxy's own search returned results. */
  grounding: GroundingPlan | undefined;
  record: WebSearchRecord | undefined;
  /** Logged once per request when the search degraded. */
  warning: string | undefined;
}

/** How one route target answers the search. */
export interface TargetWebSearch {
  grounding: GroundingPlan | undefined;
  /** Switches on the upstream's own search in the translated body. */
  body: (body: OpenAIChatRequest) => SearchingChatRequest;
  /** Replaces the upstream POST when the search needs a client-side loop (Kimi). */
  post: UpstreamPost | undefined;
  record: WebSearchRecord | undefined;
}

export function hasWebSearchTool(request: GenerateContentRequest): boolean {
  return request.tools.some((tool) => tool.builtIns.some((name) => SEARCH_TOOLS.has(name)));
}

function withoutSearchTools(request: GenerateContentRequest): GenerateContentRequest {
  const tools = request.tools
    .map((tool) => ({ ...tool, builtIns: tool.builtIns.filter((name) => !SEARCH_TOOLS.has(name)) }))
    .filter((tool) => tool.functionDeclarations.length > 0 || tool.builtIns.length > 0);
  return { ...request, tools };
}

/** The query: the last user turn's text (Gemini CLI's web-search tool sends its query as the whole prompt). */
export function searchQuery(request: GenerateContentRequest): string {
  for (let index = request.contents.length - 1; index >= 0; index -= 1) {
    const content = request.contents[index];
    if (content === undefined || content.role !== 'user') continue;
    const text = content.parts
      .filter((part) => part.thought !== true && typeof part.text === 'string')
      .map((part) => part.text)
      .join('\n')
      .replace(/\s+/g, ' ')
      .trim();
    if (text !== '') return text;
  }
  return '';
}

function withSystemText(request: GenerateContentRequest, text: string): GenerateContentRequest {
  const system: GeminiContent =
    request.systemInstruction === undefined
      ? { role: 'user', parts: [{ text }] }
      : { ...request.systemInstruction, parts: [...request.systemInstruction.parts, { text }] };
  return { ...request, systemInstruction: system };
}

export function sourcesInstruction(query: string, results: SearchResult[]): string {
  const listed = results
    .map(
      (result, index) =>
        `[${index + 1}] ${result.title}\nURL: ${result.url}${result.content === '' ? '' : `\n${result.content}`}`,
    )
    .join('\n\n');
  return [
    `Web search results for "${query}", retrieved just now:`,
    listed,
    'Answer using these results where they are relevant. Cite a result right after the statement it supports with its number in square brackets, such as [1] or [2][3]. Do not add a list of sources at the end: the sources are shown to the user separately.',
  ].join('\n\n');
}

function unavailableInstruction(reason: string): string {
  return `A web search was requested for this answer, but ${reason}. Answer from your own knowledge, and say plainly that no live web results were available.`;
}

function offError(): ProxyError {
  return new ProxyError(
    'UNSUPPORTED_FEATURE',
    'Web search (googleSearch) is not available through this proxy: it is turned off (web_search.backend is "off"), so set web_search.backend to "searxng", "brave" or "tavily", or to "provider" for upstreams with their own search, to enable it.',
  );
}

/** Runs once per request, before any upstream call; undefined when the request has no search tool. */
export async function prepareWebSearch(
  config: WebSearchConfig,
  request: GenerateContentRequest,
): Promise<PreparedWebSearch | undefined> {
  if (!hasWebSearchTool(request)) return undefined;
  if (config.backend === 'off') throw offError();
  const stripped = withoutSearchTools(request);
  const query = searchQuery(request);
  if (config.backend === undefined || config.backend === 'provider') {
    return {
      request: stripped,
      query,
      mode: config.backend === undefined ? 'auto' : 'provider',
      grounding: undefined,
      record: undefined,
      warning: undefined,
    };
  }
  const backend: SelfRunBackend = config.backend;
  if (query === '') {
    return {
      request: withSystemText(stripped, unavailableInstruction('the request held no text to search for')),
      query,
      mode: 'self',
      grounding: undefined,
      record: { backend, query, results: 0, outcome: 'no-query' },
      warning: `web search (${backend}) skipped: the request has no user text to search for`,
    };
  }
  const outcome = await runSearch(backend, query, config);
  const durationMs = Math.round(outcome.durationMs);
  if (!outcome.ok) {
    return {
      request: withSystemText(
        stripped,
        unavailableInstruction(
          outcome.failure === 'empty' ? 'the search found nothing' : 'the search service could not be reached',
        ),
      ),
      query,
      mode: 'self',
      grounding: undefined,
      record: { backend, query, results: 0, outcome: outcome.failure, durationMs },
      warning: `web search (${backend}) failed, answering without grounding: ${outcome.message}`,
    };
  }
  return {
    request: withSystemText(stripped, sourcesInstruction(query, outcome.results)),
    query,
    mode: 'self',
    grounding: {
      kind: 'numbered-sources',
      queries: [query],
      sources: outcome.results.map((result) => ({ uri: result.url, title: result.title })),
    },
    record: { backend, query, results: outcome.results.length, outcome: 'ok', durationMs },
    warning: undefined,
  };
}

/** Runs once per route target: the proxy's own search, or this upstream's native one (400 when it has none). */
export function webSearchForTarget(
  search: PreparedWebSearch,
  upstream: UpstreamDefinition,
  model: string,
  config: WebSearchConfig,
  client: UpstreamClient,
): TargetWebSearch {
  if (search.mode === 'self')
    return { grounding: search.grounding, body: (body) => body, post: undefined, record: search.record };
  const native = capabilitiesFor(upstream.profile, model).webSearch;
  if (native === undefined) {
    const why =
      search.mode === 'provider'
        ? 'web_search.backend is "provider"'
        : 'web_search.backend is not set, so only upstreams with their own search can answer it';
    throw new ProxyError(
      'UNSUPPORTED_FEATURE',
      `Web search (googleSearch) is not available through this proxy for model ${model} on upstream ${upstream.name} (${upstream.profile.displayName}): it has no native web search and ${why}, so set web_search.backend to "searxng", "brave" or "tavily" to enable it.`,
    );
  }
  return {
    grounding: nativeGroundingPlan(native, search.query),
    body: (body) => withNativeSearch(native, body, config.maxResults),
    post: native === 'kimi-builtin' ? kimiBuiltinSearchPost(client) : undefined,
    record: { backend: NATIVE_SEARCH_NAMES[native], query: search.query, results: 0, outcome: 'native' },
  };
}

/** The access log's view of a search: who searched, how it went; never the query (that is the user's text). */
export function describeWebSearch(record: WebSearchRecord): string {
  if (record.outcome === 'native') return record.backend;
  const took = record.durationMs === undefined ? '' : ` ${record.durationMs}ms`;
  return record.outcome === 'ok'
    ? `${record.backend} ${record.results} results${took}`
    : `${record.backend} ${record.outcome}${took} (answered without grounding)`;
}
