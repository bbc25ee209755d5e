/**
 * googleSearch on upstreams with their own web search (web_search.backend unset: each preset's native search), over
 * real sockets against scripted upstreams speaking each provider's documented protocol
 * (test/support/search-personalities.ts): Zhipu's web_search tool, OpenRouter's web plugin, OpenAI's search models,
 * Kimi's builtin $web_search loop and DashScope's enable_search. Unary and SSE; the personalities refuse wrong bytes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScriptedUpstream, type ReceivedRequest } from '../support/scripted-upstream.js';
import { startProxy, type RunningProxy } from '../support/proxy.js';
import {
  KIMI_SEARCH_ARGUMENTS,
  dashscopeSearch,
  kimiSearch,
  openAISearchModel,
  openRouterSearch,
  zhipuSearch,
  type UrlCitation,
} from '../support/search-personalities.js';

interface Grounding {
  webSearchQueries?: string[];
  groundingChunks?: Array<{ web?: { uri?: string; title?: string } }>;
  groundingSupports?: Array<{
    segment?: { startIndex?: number; endIndex?: number; text?: string };
    groundingChunkIndices?: number[];
  }>;
}
interface Candidate {
  content?: { parts?: Array<{ text?: string; thought?: boolean }> };
  finishReason?: string;
  groundingMetadata?: Grounding;
}

const QUERY = '北京今天天气怎么样';
const REQUEST = {
  contents: [{ role: 'user', parts: [{ text: QUERY }] }],
  systemInstruction: { parts: [{ text: 'You are an interactive CLI agent.' }] },
  tools: [{ googleSearch: {} }],
  generationConfig: { temperature: 0, topP: 1 },
};

const PROVIDERS = ['zhipu', 'openrouter', 'openai', 'kimi', 'dashscope'] as const;
type Provider = (typeof PROVIDERS)[number];
const MODELS: Record<Provider, string> = {
  zhipu: 'glm-4.6',
  openrouter: 'moonshotai/kimi-k2.5',
  openai: 'gpt-4o-search-preview',
  kimi: 'kimi-k2.5',
  dashscope: 'qwen3-max',
};

const OR_ANSWER =
  'Beijing is sunny today — 晴 ([weather.example.cn](https://weather.example.cn/beijing)). Wind is light.';
function citation(answer: string, link: string, url: string, title: string): UrlCitation {
  const start = Array.from(answer.slice(0, answer.indexOf(link))).length;
  return { url, title, start_index: start, end_index: start + Array.from(link).length };
}
const OR_CITATION = citation(
  OR_ANSWER,
  '([weather.example.cn](https://weather.example.cn/beijing))',
  'https://weather.example.cn/beijing',
  'Beijing weather',
);

function textOf(candidates: Array<Candidate | undefined>): string {
  return candidates
    .flatMap((candidate) => candidate?.content?.parts ?? [])
    .filter((part) => part.thought !== true)
    .map((part) => part.text ?? '')
    .join('');
}

function bytesMatch(text: string, grounding: Grounding | undefined): void {
  const bytes = Buffer.from(text, 'utf8');
  for (const support of grounding?.groundingSupports ?? []) {
    assert.equal(
      bytes.subarray(support.segment?.startIndex, support.segment?.endIndex).toString('utf8'),
      support.segment?.text,
      'segment offsets are UTF-8 byte offsets',
    );
  }
}

describe('web search through upstreams with native search', () => {
  const upstreams = new Map<Provider, ScriptedUpstream>();
  let proxy: RunningProxy;

  before(async () => {
    const config: { upstreams: Record<string, unknown>; routes: Record<string, unknown> } = {
      upstreams: {},
      routes: {},
    };
    for (const provider of PROVIDERS) {
      const upstream = await new ScriptedUpstream().start();
      upstreams.set(provider, upstream);
      config.upstreams[provider] = { provider, base_url: upstream.baseUrl, api_key: `sk-${provider}-test` };
      config.routes[`search-${provider}`] = [{ upstream: provider, model: MODELS[provider] }];
    }
    proxy = await startProxy(config);
  });
  after(async () => {
    await proxy.stop();
    for (const upstream of upstreams.values()) await upstream.stop();
  });

  function upstreamOf(provider: Provider): ScriptedUpstream {
    const upstream = upstreams.get(provider);
    assert.ok(upstream !== undefined);
    return upstream;
  }

  async function ask(
    provider: Provider,
    stream: boolean,
  ): Promise<{ candidates: Array<Candidate | undefined>; last: Candidate | undefined }> {
    const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
    const response = await fetch(`${proxy.url}/v1beta/models/search-${provider}:${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(REQUEST),
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    if (!stream) {
      const candidate = (JSON.parse(text) as { candidates?: Candidate[] }).candidates?.[0];
      return { candidates: [candidate], last: candidate };
    }
    const events = text
      .split('\r\n\r\n')
      .filter((event) => event.trim() !== '')
      .map((event) => (JSON.parse(event.replace(/^data: /, '')) as { candidates?: Candidate[] }).candidates?.[0]);
    return { candidates: events, last: events.at(-1) };
  }

  function lastBody(provider: Provider): Record<string, unknown> {
    const received: ReceivedRequest | undefined = upstreamOf(provider).received.at(-1);
    return received?.body as Record<string, unknown>;
  }

  for (const stream of [false, true]) {
    const mode = stream ? 'SSE' : 'unary';

    it(`zhipu (${mode}): web_search tool on; sources from the web_search array, [ref_n] marks become supports`, async () => {
      upstreamOf('zhipu').enqueue(zhipuSearch(['北京今天晴[ref_1]。', '风力三级[ref_', '2]。']));
      const { candidates, last } = await ask('zhipu', stream);
      const text = textOf(candidates);
      assert.equal(text, '北京今天晴。风力三级。');
      const grounding = last?.groundingMetadata;
      assert.deepEqual(grounding?.webSearchQueries, [QUERY]);
      assert.deepEqual(
        grounding?.groundingChunks?.map((chunk) => [chunk.web?.uri, chunk.web?.title]),
        [
          ['https://weather.example.cn/beijing', '北京天气预报'],
          ['https://news.example.cn/a', '新闻'],
        ],
      );
      assert.deepEqual(
        grounding?.groundingSupports?.map((support) => [support.segment?.text, support.groundingChunkIndices]),
        [
          ['北京今天晴', [0]],
          ['风力三级', [1]],
        ],
      );
      bytesMatch(text, grounding);
      const tools = lastBody('zhipu')['tools'] as Array<Record<string, unknown>>;
      assert.deepEqual(tools, [{ type: 'web_search', web_search: { enable: true, search_result: true } }]);
    });

    it(`openrouter (${mode}): the web plugin; url_citation annotations become chunks and byte-offset supports`, async () => {
      upstreamOf('openrouter').enqueue(openRouterSearch(OR_ANSWER, [OR_CITATION]));
      const { candidates, last } = await ask('openrouter', stream);
      const text = textOf(candidates);
      assert.equal(text, OR_ANSWER);
      const grounding = last?.groundingMetadata;
      assert.deepEqual(grounding?.groundingChunks, [
        { web: { uri: 'https://weather.example.cn/beijing', title: 'Beijing weather' } },
      ]);
      assert.equal(
        grounding?.groundingSupports?.[0]?.segment?.text,
        'Beijing is sunny today — 晴 ([weather.example.cn](https://weather.example.cn/beijing))',
      );
      bytesMatch(text, grounding);
      assert.deepEqual(lastBody('openrouter')['plugins'], [{ id: 'web', max_results: 5 }]);
    });

    it(`openai search model (${mode}): web_search_options, no sampling parameters, url_citation supports`, async () => {
      upstreamOf('openai').enqueue(openAISearchModel(OR_ANSWER, [OR_CITATION]));
      const { candidates, last } = await ask('openai', stream);
      const text = textOf(candidates);
      assert.equal(text, OR_ANSWER);
      assert.equal(last?.groundingMetadata?.groundingChunks?.length, 1);
      bytesMatch(text, last?.groundingMetadata);
      const body = lastBody('openai');
      assert.deepEqual(body['web_search_options'], {});
      assert.equal('temperature' in body || 'top_p' in body, false);
    });

    it(`kimi (${mode}): the proxy completes the $web_search loop; grounded, no source URLs`, async () => {
      const kimi = upstreamOf('kimi');
      const before = kimi.received.length;
      kimi.enqueue(kimiSearch('北京今天晴，风力三级。'), kimiSearch('北京今天晴，风力三级。'));
      const { candidates, last } = await ask('kimi', stream);
      assert.equal(textOf(candidates), '北京今天晴，风力三级。');
      assert.equal(last?.finishReason, 'STOP');
      assert.deepEqual(last?.groundingMetadata, { webSearchQueries: [QUERY] }, 'grounded, but Kimi returns no sources');
      const rounds = kimi.received
        .slice(before)
        .map((request) => request.body as { stream?: boolean; messages: Array<Record<string, unknown>> });
      assert.equal(rounds.length, 2, 'one search round, one answer round');
      assert.ok(rounds.every((round) => round.stream === false));
      const echoed = rounds[1]?.messages.at(-1);
      assert.deepEqual(echoed, {
        role: 'tool',
        tool_call_id: 'web_search:0',
        name: '$web_search',
        content: KIMI_SEARCH_ARGUMENTS,
      });
    });

    it(`dashscope (${mode}): enable_search with forced_search; grounded, no source URLs`, async () => {
      upstreamOf('dashscope').enqueue(dashscopeSearch('Sunny in Beijing.'));
      const { candidates, last } = await ask('dashscope', stream);
      assert.equal(textOf(candidates), 'Sunny in Beijing.');
      assert.deepEqual(last?.groundingMetadata, { webSearchQueries: [QUERY] });
      assert.equal(lastBody('dashscope')['enable_search'], true);
    });
  }

  it('the access log names the native search used', () => {
    assert.ok(proxy.logLines.some((line) => line.includes('Search: kimi $web_search')));
    assert.ok(proxy.logLines.some((line) => line.includes('Search: zhipu web_search')));
  });
});
