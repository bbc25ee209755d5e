/**
 * The search backends the proxy queries itself: SearXNG (self-hosted, JSON format), Brave Search and Tavily. Each
 * call is bounded — one overall deadline, a response size cap, a result count and a text size per result — and only
 * ever goes to the configured search endpoint: result URLs are handed to the model and the client, never fetched.
 */
import { Agent, request } from 'undici';
import type { SelfRunBackend, WebSearchConfig } from '../config/web-search.js';
import { webUrl } from '../translate/grounding.js';

export interface SearchResult {
  url: string;
  title: string;
  /** Snippet or page text, trimmed to `max_result_characters`. */
  content: string;
}

export type SearchFailure = 'timeout' | 'unavailable' | 'rejected' | 'bad-response' | 'empty';

export type SearchOutcome =
  | { ok: true; results: SearchResult[]; durationMs: number }
  | { ok: false; failure: SearchFailure; message: string; durationMs: number };

/** Brave rejects queries over 400 characters; a longer prompt is searched by its start. */
export const MAX_QUERY_CHARACTERS = 400;
const MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
const BRAVE_BASE_URL = 'https://api.search.brave.com';
const TAVILY_BASE_URL = 'https://api.tavily.com';

let sharedAgent: Agent | undefined;

function agent(): Agent {
  sharedAgent ??= new Agent({ keepAliveTimeout: 4_000, pipelining: 1, connections: 8 });
  return sharedAgent;
}

class SearchError extends Error {
  constructor(
    readonly failure: SearchFailure,
    message: string,
  ) {
    super(message);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function plainText(value: unknown): string {
  if (typeof value !== 'string') return '';
  return value
    .replace(/<[^>]{0,200}>/g, '')
    .replace(
      /&(amp|lt|gt|quot|#39);/g,
      (_match, entity: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[entity] ?? '',
    )
    .replace(/\s+/g, ' ')
    .trim();
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1).trimEnd()}…`;
}

/** One backend's result list → bounded results with http(s) URLs, no duplicates. */
function collect(items: unknown, config: WebSearchConfig, fields: { content: readonly string[] }): SearchResult[] {
  if (!Array.isArray(items)) throw new SearchError('bad-response', 'the search response has no result list');
  const results: SearchResult[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (results.length >= config.maxResults) break;
    if (!isRecord(item)) continue;
    const url = webUrl(item['url']);
    if (url === undefined || seen.has(url)) continue;
    seen.add(url);
    const content = fields.content.map((field) => plainText(item[field])).find((text) => text !== '') ?? '';
    results.push({
      url,
      title: truncate(plainText(item['title']) || new URL(url).hostname, 300),
      content: truncate(content, config.maxResultCharacters),
    });
  }
  return results;
}

async function fetchJson(
  url: string,
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
  config: WebSearchConfig,
): Promise<unknown> {
  const signal = AbortSignal.timeout(config.timeoutMs);
  let response;
  try {
    response = await request(url, {
      method: init.method,
      headers: { accept: 'application/json', 'user-agent': 'gemini-proxy/0.1', ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
      signal,
      dispatcher: agent(),
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
    });
  } catch (error) {
    throw networkFailure(error, signal);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      size += buffer.length;
      if (size > MAX_RESPONSE_BYTES) {
        response.body.destroy();
        throw new SearchError('bad-response', `the search response is larger than ${MAX_RESPONSE_BYTES} bytes`);
      }
      chunks.push(buffer);
    }
  } catch (error) {
    if (error instanceof SearchError) throw error;
    throw networkFailure(error, signal);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (response.statusCode < 200 || response.statusCode >= 300) {
    // The body may echo the request; only the status is reported.
    throw new SearchError(
      response.statusCode >= 500 || response.statusCode === 429 ? 'unavailable' : 'rejected',
      `the search service answered HTTP ${response.statusCode}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SearchError(
      'bad-response',
      'the search service did not answer JSON (for SearXNG, enable the json format under search.formats)',
    );
  }
}

function networkFailure(error: unknown, signal: AbortSignal): SearchError {
  const code = isRecord(error) && typeof error['code'] === 'string' ? error['code'] : '';
  if (signal.aborted || code.includes('TIMEOUT'))
    return new SearchError('timeout', 'the search service did not answer in time');
  return new SearchError(
    'unavailable',
    `the search service is unreachable (${code || (error instanceof Error ? error.name : 'error')})`,
  );
}

async function searxng(query: string, config: WebSearchConfig): Promise<SearchResult[]> {
  const base = config.url ?? '';
  const body = await fetchJson(
    `${base}/search?q=${encodeURIComponent(query)}&format=json`,
    { method: 'GET', headers: {} },
    config,
  );
  return collect(isRecord(body) ? body['results'] : undefined, config, { content: ['content'] });
}

async function brave(query: string, config: WebSearchConfig): Promise<SearchResult[]> {
  const base = config.url ?? BRAVE_BASE_URL;
  const url = `${base}/res/v1/web/search?q=${encodeURIComponent(query)}&count=${config.maxResults}`;
  const body = await fetchJson(
    url,
    { method: 'GET', headers: { 'x-subscription-token': config.apiKey ?? '' } },
    config,
  );
  const web = isRecord(body) ? body['web'] : undefined;
  // A query without web results has no `web` key at all.
  if (isRecord(body) && web === undefined) return [];
  return collect(isRecord(web) ? web['results'] : undefined, config, { content: ['description'] });
}

async function tavily(query: string, config: WebSearchConfig): Promise<SearchResult[]> {
  const base = config.url ?? TAVILY_BASE_URL;
  const payload = JSON.stringify({
    query,
    max_results: config.maxResults,
    search_depth: 'basic',
    include_answer: false,
  });
  const body = await fetchJson(
    `${base}/search`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${config.apiKey ?? ''}` },
      body: payload,
    },
    config,
  );
  return collect(isRecord(body) ? body['results'] : undefined, config, { content: ['content', 'raw_content'] });
}

/** Runs one search; never throws and never outlives `timeout_seconds`. */
export async function runSearch(
  backend: SelfRunBackend,
  query: string,
  config: WebSearchConfig,
): Promise<SearchOutcome> {
  const started = performance.now();
  const bounded = query.length > MAX_QUERY_CHARACTERS ? query.slice(0, MAX_QUERY_CHARACTERS) : query;
  try {
    const results = await (backend === 'searxng'
      ? searxng(bounded, config)
      : backend === 'brave'
        ? brave(bounded, config)
        : tavily(bounded, config));
    const durationMs = performance.now() - started;
    if (results.length === 0)
      return { ok: false, failure: 'empty', message: 'the search returned no results', durationMs };
    return { ok: true, results, durationMs };
  } catch (error) {
    const durationMs = performance.now() - started;
    if (error instanceof SearchError) return { ok: false, failure: error.failure, message: error.message, durationMs };
    return {
      ok: false,
      failure: 'bad-response',
      message: error instanceof Error ? error.message : String(error),
      durationMs,
    };
  }
}
