/**
 * The `web_search` config block: which search answers Gemini's `googleSearch` tool (src/search/). The main schema
 * spreads it in, like the operator keys. Without `backend`, each upstream uses its preset's native search where it
 * has one and refuses googleSearch where it has none.
 */
import { z } from 'zod';

export const WEB_SEARCH_BACKENDS = ['provider', 'searxng', 'brave', 'tavily', 'off'] as const;
export type WebSearchBackend = (typeof WEB_SEARCH_BACKENDS)[number];
/** A backend the proxy queries itself. */
export type SelfRunBackend = Extract<WebSearchBackend, 'searxng' | 'brave' | 'tavily'>;

export const webSearchConfigShape = {
  web_search: z
    .object({
      /** Unset: native search where the upstream's preset has one, otherwise off. */
      backend: z.enum(WEB_SEARCH_BACKENDS).optional(),
      /** SearXNG base URL (queried as GET {url}/search?q=…&format=json); for brave/tavily, an API base override. */
      url: z.string().url().optional(),
      api_key: z.string().min(1).optional(),
      max_results: z.number().int().min(1).max(20).default(5),
      /**
       * The whole search (connect, headers, body) must finish within this, or the answer goes ungrounded. It runs
       * before the response starts, so it stays well below Gemini CLI's 60 s wait for response headers.
       */
      timeout_seconds: z.number().positive().max(30).default(8),
      /** Text kept from each result's snippet or page content. */
      max_result_characters: z.number().int().min(100).max(20_000).default(1500),
    })
    .strict()
    .superRefine((value, context) => {
      if (value.backend === 'searxng' && value.url === undefined) {
        context.addIssue({
          code: 'custom',
          path: ['url'],
          message: 'required for backend "searxng" (e.g. "http://127.0.0.1:8888")',
        });
      }
      if ((value.backend === 'brave' || value.backend === 'tavily') && value.api_key === undefined) {
        context.addIssue({ code: 'custom', path: ['api_key'], message: `required for backend "${value.backend}"` });
      }
    })
    .default({ max_results: 5, timeout_seconds: 8, max_result_characters: 1500 }),
};

export const WEB_SEARCH_KNOWN_KEYS: Readonly<Record<string, ReadonlySet<string>>> = {
  web_search: new Set(['backend', 'url', 'api_key', 'max_results', 'timeout_seconds', 'max_result_characters']),
};

export interface WebSearchConfig {
  /** undefined: native search where the upstream has it, otherwise off. */
  backend: WebSearchBackend | undefined;
  url: string | undefined;
  apiKey: string | undefined;
  maxResults: number;
  timeoutMs: number;
  maxResultCharacters: number;
}

type WebSearchFileKeys = {
  web_search: {
    backend?: WebSearchBackend | undefined;
    url?: string | undefined;
    api_key?: string | undefined;
    max_results: number;
    timeout_seconds: number;
    max_result_characters: number;
  };
};

export function resolveWebSearchConfig(file: WebSearchFileKeys): WebSearchConfig {
  const block = file.web_search;
  return {
    backend: block.backend,
    url: block.url?.replace(/\/+$/, ''),
    apiKey: block.api_key,
    maxResults: block.max_results,
    timeoutMs: Math.round(block.timeout_seconds * 1000),
    maxResultCharacters: block.max_result_characters,
  };
}
