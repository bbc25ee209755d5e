/**
 * Upstreams' own web search, as request shapes plus the grounding each answer allows. Pure data and functions; the
 * one upstream that needs a client-side loop (Kimi's builtin `$web_search`) is in kimi-builtin.ts.
 *
 * - Zhipu: `tools:[{type:"web_search",web_search:{enable:true,search_result:true}}]`; the completion (and a stream
 *   chunk) carries a top-level `web_search:[{title,link,content,media,icon,refer,publish_date}]`; answers cite
 *   `[ref_n]`. https://docs.bigmodel.cn/api-reference (chat completions, web_search tool)
 * - OpenRouter: `plugins:[{id:"web",max_results}]`; `message.annotations` (stream: `delta.annotations`) hold
 *   `{type:"url_citation",url_citation:{url,title,content,start_index,end_index}}`. https://openrouter.ai/docs (web search)
 * - OpenAI search models (`gpt-4o-search-preview`, `gpt-5-search-api`, …): `web_search_options:{}`; the same
 *   `url_citation` annotations; the models reject sampling parameters ("Model incompatible request argument supplied:
 *   temperature"). https://platform.openai.com/docs/guides/tools-web-search (chat completions)
 * - Kimi: `tools:[{type:"builtin_function",function:{name:"$web_search"}}]` with thinking disabled; sources are not
 *   returned. https://platform.moonshot.ai/docs/guide/use-web-search
 * - DashScope: `enable_search:true`, `search_options:{forced_search:true}`; sources are not returned in compatible
 *   mode. https://help.aliyun.com/zh/model-studio (web search)
 */
import { unreachable } from '../exhaustive.js';
import type { NativeWebSearch } from '../providers/profile.js';
import type { GroundingPlan } from '../translate/grounding.js';
import type { OpenAIChatRequest, OpenAITool } from '../translate/openai-types.js';

const SEARCH_MODEL_REJECTS = ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'n'] as const;

export type NativeSearchTool =
  | { type: 'web_search'; web_search: { enable: boolean; search_result: boolean } }
  | { type: 'builtin_function'; function: { name: string } };

/** The upstream request with its native search switched on. */
export interface SearchingChatRequest extends Omit<OpenAIChatRequest, 'tools'> {
  tools?: Array<OpenAITool | NativeSearchTool>;
  plugins?: Array<{ id: 'web'; max_results: number }>;
  enable_search?: boolean;
  search_options?: { forced_search: boolean };
  web_search_options?: Record<string, never>;
}

export function withNativeSearch(
  kind: NativeWebSearch,
  body: OpenAIChatRequest,
  maxResults: number,
): SearchingChatRequest {
  const request: SearchingChatRequest = { ...body };
  switch (kind) {
    case 'zhipu-web-search-tool':
      request.tools = [
        ...(body.tools ?? []),
        { type: 'web_search', web_search: { enable: true, search_result: true } },
      ];
      return request;
    case 'openrouter-web-plugin':
      request.plugins = [{ id: 'web', max_results: maxResults }];
      return request;
    case 'kimi-builtin':
      request.tools = [...(body.tools ?? []), { type: 'builtin_function', function: { name: '$web_search' } }];
      // Moonshot: $web_search does not work with thinking on.
      request.thinking = { type: 'disabled' };
      return request;
    case 'dashscope-enable-search':
      request.enable_search = true;
      // Gemini's googleSearch means "search", not "search if the model feels like it".
      request.search_options = { forced_search: true };
      return request;
    case 'openai-search-model':
      for (const key of SEARCH_MODEL_REJECTS) delete request[key];
      request.web_search_options = {};
      return request;
    default:
      return unreachable(kind, 'native web search');
  }
}

export function nativeGroundingPlan(kind: NativeWebSearch, query: string): GroundingPlan {
  const queries = query === '' ? [] : [query];
  switch (kind) {
    case 'zhipu-web-search-tool':
      return { kind: 'zhipu-results', queries };
    case 'openrouter-web-plugin':
    case 'openai-search-model':
      return { kind: 'url-citations', queries };
    case 'kimi-builtin':
    case 'dashscope-enable-search':
      return { kind: 'queries-only', queries };
    default:
      return unreachable(kind, 'native web search');
  }
}

export const NATIVE_SEARCH_NAMES: Readonly<Record<NativeWebSearch, string>> = {
  'zhipu-web-search-tool': 'zhipu web_search',
  'openrouter-web-plugin': 'openrouter web plugin',
  'kimi-builtin': 'kimi $web_search',
  'dashscope-enable-search': 'dashscope enable_search',
  'openai-search-model': 'openai search model',
};
