/**
 * Web search counterparts for the tests: the documented response shapes of SearXNG (`format=json`), Brave Search
 * (`/res/v1/web/search`) and Tavily (`POST /search`), and scripted upstreams speaking each provider's native search
 * protocol. Each personality checks the request bytes its provider documents and answers a provider-style 400 when
 * they are wrong, so a test passes only when the proxy sends what the provider expects.
 *
 * Sources: SearXNG docs "Search API" (format=json); Brave Search API "Web search" response model; Tavily API
 * reference "/search"; bigmodel.cn chat completions `web_search` tool; OpenRouter docs "Web Search" (plugins, url
 * annotations); OpenAI "Web search" for Chat Completions (search models, `web_search_options`, `url_citation`);
 * Moonshot "Use the Web Search Tool" ($web_search); DashScope compatible mode `enable_search` / `search_options`.
 */
import type { ReceivedRequest, Script } from './scripted-upstream.js';
import { sseFromChunks } from './scripted-upstream.js';

export interface FakeResult {
  url: string;
  title: string;
  content: string;
}

export const RESULTS: FakeResult[] = [
  {
    url: 'https://nodejs.org/en/about/previous-releases',
    title: 'Node.js — Previous Releases',
    content: 'Node.js 24 is the Active LTS release line; 22 is in Maintenance LTS.',
  },
  {
    url: 'https://example.org/café/notes',
    title: 'Café <b>release</b> notes',
    content: 'Release notes — written in a café.',
  },
  { url: 'https://example.net/third', title: 'Third result', content: 'A third result the proxy should cap away.' },
];

export function searxngBody(query: string, results: FakeResult[] = RESULTS): unknown {
  return {
    query,
    number_of_results: 0,
    results: results.map((result, index) => ({
      url: result.url,
      title: result.title,
      content: result.content,
      engine: 'duckduckgo',
      engines: ['duckduckgo', 'brave'],
      positions: [index + 1],
      score: 2 - index * 0.3,
      category: 'general',
    })),
    answers: [],
    corrections: [],
    infoboxes: [],
    suggestions: [],
    unresponsive_engines: [],
  };
}

export function braveBody(query: string, results: FakeResult[] = RESULTS): unknown {
  return {
    type: 'search',
    query: { original: query, show_strict_warning: false, is_navigational: false, spellcheck_off: true },
    mixed: { type: 'mixed', main: results.map((_, index) => ({ type: 'web', index, all: false })) },
    web: {
      type: 'search',
      results: results.map((result) => ({
        title: result.title,
        url: result.url,
        is_source_local: false,
        is_source_both: false,
        description: result.content.replace('Node.js', '<strong>Node.js</strong>'),
        language: 'en',
        family_friendly: true,
        type: 'search_result',
        profile: { name: new URL(result.url).hostname, url: result.url },
      })),
      family_friendly: true,
    },
  };
}

export function tavilyBody(query: string, results: FakeResult[] = RESULTS): unknown {
  return {
    query,
    follow_up_questions: null,
    answer: null,
    images: [],
    results: results.map((result, index) => ({
      title: result.title,
      url: result.url,
      content: result.content,
      score: 0.9 - index * 0.1,
      raw_content: null,
    })),
    response_time: 0.84,
  };
}

// ---- provider-native search personalities ----------------------------------------------------------------------

interface ChatBody {
  model?: unknown;
  stream?: unknown;
  messages?: unknown;
  tools?: unknown;
  [key: string]: unknown;
}

function bodyOf(request: ReceivedRequest): ChatBody {
  return typeof request.body === 'object' && request.body !== null ? (request.body as ChatBody) : {};
}

function tools(body: ChatBody): Array<Record<string, unknown>> {
  return Array.isArray(body.tools) ? (body.tools as Array<Record<string, unknown>>) : [];
}

function openAIError(message: string, code: string | null = null): Script {
  return { kind: 'json', status: 400, body: { error: { message, type: 'invalid_request_error', param: null, code } } };
}

function usage(prompt: number, completion: number): Record<string, number> {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function completion(
  id: string,
  model: string,
  message: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  finish = 'stop',
): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion',
    created: 1_780_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
    usage: usage(120, 30),
    ...extra,
  };
}

/** Zhipu: `tools:[{type:"web_search",web_search:{enable:true,search_result:true}}]`; results at the top level. */
export const ZHIPU_RESULTS = [
  {
    icon: 'https://example.cn/icon.png',
    title: '北京天气预报',
    link: 'https://weather.example.cn/beijing',
    media: '天气网',
    content: '北京今天晴，风力三级。',
    refer: 'ref_1',
    publish_date: '2026-12-01',
  },
  {
    icon: '',
    title: '新闻',
    link: 'https://news.example.cn/a',
    media: '新闻网',
    content: '无雨。',
    refer: 'ref_2',
    publish_date: '2026-12-02',
  },
];

export function zhipuSearch(answerPieces: string[]): Script {
  return {
    kind: 'dynamic',
    respond: (request) => {
      const body = bodyOf(request);
      const search = tools(body).find((tool) => tool['type'] === 'web_search');
      const options = search?.['web_search'] as Record<string, unknown> | undefined;
      // Zhipu's business error 1214 for a malformed parameter.
      if (options?.['enable'] !== true || options['search_result'] !== true)
        return {
          kind: 'json',
          status: 400,
          body: { error: { code: '1214', message: 'web_search tool missing or search_result not enabled' } },
        };
      const model = String(body.model);
      if (body.stream !== true) {
        return {
          kind: 'json',
          body: {
            ...completion('zp-1', model, { content: answerPieces.join('') }),
            request_id: 'req-1',
            web_search: ZHIPU_RESULTS,
          },
        };
      }
      // The results ride on the first chunk, before any content.
      const chunks: unknown[] = [
        {
          id: 'zp-1',
          created: 1_780_000_000,
          model,
          choices: [{ index: 0, delta: { role: 'assistant' } }],
          web_search: ZHIPU_RESULTS,
        },
      ];
      for (const piece of answerPieces)
        chunks.push({
          id: 'zp-1',
          created: 1_780_000_000,
          model,
          choices: [{ index: 0, delta: { role: 'assistant', content: piece } }],
        });
      chunks.push({
        id: 'zp-1',
        created: 1_780_000_000,
        model,
        choices: [{ index: 0, finish_reason: 'stop', delta: { role: 'assistant', content: '' } }],
        usage: usage(120, 30),
      });
      return { kind: 'sse', writes: sseFromChunks(chunks) };
    },
  };
}

export interface UrlCitation {
  url: string;
  title: string;
  start_index: number;
  end_index: number;
  content?: string;
}

/** The `url_citation` annotation shape shared by OpenRouter's web plugin and OpenAI's search models. */
function annotations(citations: UrlCitation[]): unknown[] {
  return citations.map((citation) => ({ type: 'url_citation', url_citation: citation }));
}

function annotatedAnswer(request: ReceivedRequest, id: string, answer: string, citations: UrlCitation[]): Script {
  const body = bodyOf(request);
  const model = String(body.model);
  if (body.stream !== true)
    return { kind: 'json', body: completion(id, model, { content: answer, annotations: annotations(citations) }) };
  const half = Math.floor(answer.length / 2);
  return {
    kind: 'sse',
    writes: sseFromChunks([
      {
        id,
        object: 'chat.completion.chunk',
        created: 1,
        model,
        choices: [{ index: 0, delta: { role: 'assistant', content: answer.slice(0, half) }, finish_reason: null }],
      },
      {
        id,
        object: 'chat.completion.chunk',
        created: 1,
        model,
        choices: [{ index: 0, delta: { content: answer.slice(half) }, finish_reason: null }],
      },
      // Annotations come after the text they index.
      {
        id,
        object: 'chat.completion.chunk',
        created: 1,
        model,
        choices: [{ index: 0, delta: { annotations: annotations(citations) }, finish_reason: null }],
      },
      {
        id,
        object: 'chat.completion.chunk',
        created: 1,
        model,
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
        usage: usage(120, 30),
      },
    ]),
  };
}

/** OpenRouter: `plugins:[{id:"web", max_results}]`. */
export function openRouterSearch(answer: string, citations: UrlCitation[]): Script {
  return {
    kind: 'dynamic',
    respond: (request) => {
      const plugins = bodyOf(request)['plugins'];
      const web = Array.isArray(plugins)
        ? (plugins as Array<Record<string, unknown>>).find((plugin) => plugin['id'] === 'web')
        : undefined;
      if (web === undefined) return openAIError('expected the web plugin');
      const max = web['max_results'];
      if (max !== undefined && (typeof max !== 'number' || max < 1 || max > 10))
        return openAIError('plugins.web.max_results must be between 1 and 10');
      return annotatedAnswer(request, 'gen-or-1', answer, citations);
    },
  };
}

/** OpenAI search models: `web_search_options`, and no sampling parameters. */
export function openAISearchModel(answer: string, citations: UrlCitation[]): Script {
  return {
    kind: 'dynamic',
    respond: (request) => {
      const body = bodyOf(request);
      for (const key of ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'n']) {
        if (key in body) return openAIError(`Model incompatible request argument supplied: ${key}`);
      }
      if (typeof body['web_search_options'] !== 'object' || body['web_search_options'] === null)
        return openAIError('search models need web_search_options'); // composed
      return annotatedAnswer(request, 'chatcmpl-search-1', answer, citations);
    },
  };
}

export const KIMI_SEARCH_ARGUMENTS = JSON.stringify({
  search_result: { search_id: 'c5ba1a7c-0f0b-4b44-9d7b-example' },
  usage: { total_tokens: 1532 },
});

/**
 * Moonshot `$web_search`: the first call (unary, thinking off) returns the builtin call; the second must echo it back
 * as a `tool` message with the arguments unchanged, then gets the answer.
 */
export function kimiSearch(answer: string): Script {
  return {
    kind: 'dynamic',
    respond: (request) => {
      const body = bodyOf(request);
      const declared = tools(body).some(
        (tool) =>
          tool['type'] === 'builtin_function' &&
          (tool['function'] as Record<string, unknown> | undefined)?.['name'] === '$web_search',
      );
      if (!declared) return openAIError('expected the $web_search builtin');
      const thinking = body['thinking'] as Record<string, unknown> | undefined;
      if (thinking?.['type'] !== 'disabled')
        return openAIError('$web_search is not supported when thinking is enabled'); // composed
      if (body.stream === true) return openAIError('the proxy runs the builtin loop with unary calls'); // our own premise
      const messages = Array.isArray(body.messages) ? (body.messages as Array<Record<string, unknown>>) : [];
      const last = messages.at(-1);
      const model = String(body.model);
      if (last?.['role'] !== 'tool') {
        return {
          kind: 'json',
          body: completion(
            'kimi-1',
            model,
            {
              content: '',
              tool_calls: [
                {
                  index: 0,
                  id: 'web_search:0',
                  type: 'builtin_function',
                  function: { name: '$web_search', arguments: KIMI_SEARCH_ARGUMENTS },
                },
              ],
            },
            {},
            'tool_calls',
          ),
        };
      }
      if (
        last['content'] !== KIMI_SEARCH_ARGUMENTS ||
        last['tool_call_id'] !== 'web_search:0' ||
        last['name'] !== '$web_search'
      )
        return openAIError('tool message must echo the builtin call'); // composed
      const assistant = messages.at(-2);
      if (assistant?.['role'] !== 'assistant' || !Array.isArray(assistant['tool_calls']))
        return openAIError('the assistant tool-call message must precede the tool message'); // composed
      if ('content' in assistant && (assistant['content'] === '' || assistant['content'] === null))
        return openAIError('text content is empty');
      return { kind: 'json', body: completion('kimi-2', model, { content: answer }) };
    },
  };
}

/** DashScope compatible mode: `enable_search` with `search_options.forced_search`. */
export function dashscopeSearch(answer: string): Script {
  return {
    kind: 'dynamic',
    respond: (request) => {
      const body = bodyOf(request);
      if (body['enable_search'] !== true) return openAIError('expected enable_search');
      const options = body['search_options'] as Record<string, unknown> | undefined;
      if (options?.['forced_search'] !== true) return openAIError('expected search_options.forced_search');
      const model = String(body.model);
      if (body.stream !== true) return { kind: 'json', body: completion('chatcmpl-ds-1', model, { content: answer }) };
      return {
        kind: 'sse',
        writes: sseFromChunks([
          {
            id: 'chatcmpl-ds-1',
            object: 'chat.completion.chunk',
            created: 1,
            model,
            choices: [{ index: 0, delta: { role: 'assistant', content: answer }, finish_reason: null }],
          },
          {
            id: 'chatcmpl-ds-1',
            object: 'chat.completion.chunk',
            created: 1,
            model,
            choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
            usage: usage(100, 20),
          },
        ]),
      };
    },
  };
}
