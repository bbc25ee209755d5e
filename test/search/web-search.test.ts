/**
 * googleSearch through the proxy's own search backends, end to end over real sockets: a fake SearXNG, Brave and
 * Tavily (their documented response shapes) and a scripted upstream. Checks what the search service and the
 * upstream received, and the groundingMetadata the client gets (unary, SSE, both SDKs); then the failure modes (down,
 * slow, empty) that must degrade to an ungrounded answer, and the 400s when search is off or unavailable.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import * as sdk130 from '@google/genai';
import * as sdkLatest from 'genai-latest';
import { ScriptedUpstream, sseFromChunks, type ReceivedRequest } from '../support/scripted-upstream.js';
import { startProxy, type RunningProxy } from '../support/proxy.js';
import { RESULTS, braveBody, searxngBody, tavilyBody } from '../support/search-personalities.js';
import { waitFor } from '../support/wait.js';

interface Grounding {
  webSearchQueries?: string[];
  groundingChunks?: Array<{ web?: { uri?: string; title?: string } }>;
  groundingSupports?: Array<{
    segment?: { startIndex?: number; endIndex?: number; text?: string };
    groundingChunkIndices?: number[];
  }>;
}
interface Candidate {
  content?: { parts?: Array<{ text?: string; thought?: boolean; functionCall?: { name: string } }> };
  finishReason?: string;
  groundingMetadata?: Grounding;
}
interface GenerateResponse {
  candidates?: Candidate[];
}

const QUERY = 'latest Node.js LTS version';
const SEARCH_REQUEST = {
  contents: [{ role: 'user', parts: [{ text: QUERY }] }],
  systemInstruction: { parts: [{ text: 'You are an interactive CLI agent.' }] },
  tools: [{ googleSearch: {} }],
  generationConfig: { temperature: 0, topP: 1 },
};
const ANSWER = 'Node.js 24 is the Active LTS [1]. Release notes — café edition [2].';
const STRIPPED = 'Node.js 24 is the Active LTS. Release notes — café edition.';

function answerJson(content: string): unknown {
  return {
    id: 'c1',
    object: 'chat.completion',
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 },
  };
}

function answerStream(pieces: string[]): string[] {
  return sseFromChunks([
    ...pieces.map((piece) => ({
      id: 'c1',
      object: 'chat.completion.chunk',
      model: 'm',
      choices: [{ index: 0, delta: { content: piece }, finish_reason: null }],
    })),
    {
      id: 'c1',
      object: 'chat.completion.chunk',
      model: 'm',
      choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 },
    },
  ]);
}

async function post(
  proxy: RunningProxy,
  body: unknown,
  method = 'generateContent',
  query = '',
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${proxy.url}/v1beta/models/gemini-3-flash-preview:${method}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

function systemText(request: ReceivedRequest | undefined): string {
  const messages =
    (request?.body as { messages?: Array<{ role: string; content: unknown }> } | undefined)?.messages ?? [];
  return messages
    .filter((message) => message.role === 'system')
    .map((message) => (typeof message.content === 'string' ? message.content : JSON.stringify(message.content)))
    .join('\n');
}

function textOf(candidate: Candidate | undefined): string {
  return (candidate?.content?.parts ?? [])
    .filter((part) => part.thought !== true && part.text !== undefined)
    .map((part) => part.text)
    .join('');
}

/** Checks the metadata against the answer text, the way Gemini CLI uses it (byte offsets). */
function assertGrounded(candidate: Candidate | undefined, text: string): void {
  const grounding = candidate?.groundingMetadata;
  assert.ok(grounding !== undefined, 'groundingMetadata present');
  assert.deepEqual(grounding.webSearchQueries, [QUERY]);
  assert.deepEqual(
    grounding.groundingChunks?.map((chunk) => chunk.web?.uri),
    RESULTS.slice(0, 2).map((result) => new URL(result.url).href),
    'only the results the search returned, capped at max_results',
  );
  assert.equal(grounding.groundingChunks?.[1]?.web?.title, 'Café release notes', 'titles are plain text');
  const bytes = Buffer.from(text, 'utf8');
  const supports = grounding.groundingSupports ?? [];
  assert.deepEqual(
    supports.map((support) => [support.segment?.text, support.groundingChunkIndices]),
    [
      ['Node.js 24 is the Active LTS', [0]],
      ['Release notes — café edition', [1]],
    ],
  );
  for (const support of supports)
    assert.equal(
      bytes.subarray(support.segment?.startIndex, support.segment?.endIndex).toString('utf8'),
      support.segment?.text,
    );
}

describe('web search through a search backend', () => {
  let upstream: ScriptedUpstream;
  let search: ScriptedUpstream;
  let proxy: RunningProxy;

  before(async () => {
    upstream = await new ScriptedUpstream().start();
    search = await new ScriptedUpstream().start();
    proxy = await startProxy({
      provider: 'generic',
      openai_base_url: upstream.baseUrl,
      default_openai_model: 'm',
      web_search: { backend: 'searxng', url: `http://127.0.0.1:${search.port}/`, max_results: 2, timeout_seconds: 5 },
    });
  });
  after(async () => {
    await proxy.stop();
    await upstream.stop();
    await search.stop();
  });
  beforeEach(() => {
    upstream.reset();
    search.reset();
  });

  it('unary: searches SearXNG with the prompt, hands numbered sources to the model, answers with groundingMetadata', async () => {
    search.enqueue({ kind: 'json', body: searxngBody(QUERY) });
    upstream.enqueue({ kind: 'json', body: answerJson(ANSWER) });
    const result = await post(proxy, SEARCH_REQUEST);
    assert.equal(result.status, 200, result.text);
    const searched = search.received[0];
    assert.equal(searched?.method, 'GET');
    assert.equal(searched?.url, `/search?q=${encodeURIComponent(QUERY)}&format=json`);
    const sent = upstream.received[0]?.body as { tools?: unknown; messages: unknown[] };
    assert.equal(sent.tools, undefined, 'googleSearch itself never goes upstream');
    const system = systemText(upstream.received[0]);
    assert.match(system, /You are an interactive CLI agent\./);
    assert.match(
      system,
      /\[1\] Node\.js — Previous Releases\nURL: https:\/\/nodejs\.org\/en\/about\/previous-releases\nNode\.js 24 is the Active LTS/,
    );
    assert.match(system, /\[2\] Café release notes\nURL: https:\/\/example\.org\/caf%C3%A9\/notes/);
    assert.doesNotMatch(system, /Third result/, 'max_results caps what the model sees');
    const response = JSON.parse(result.text) as GenerateResponse;
    const candidate = response.candidates?.[0];
    assert.equal(textOf(candidate), STRIPPED, 'citation marks become supports, not text');
    assertGrounded(candidate, STRIPPED);
    assert.ok(
      proxy.logLines.some((line) => line.includes('Search: searxng 2 results')),
      'the access log shows the search',
    );
    // Dashboard, usage store and metrics count it once the request event has fired (after the response closed).
    const live = await waitFor(
      () => proxy.operator.live.since(0, 100).find((entry) => entry.webSearch !== undefined),
      'the request event (it fires when the response closes)',
    );
    assert.match(live.webSearch ?? '', /^searxng 2 results \d+ms for "latest Node\.js LTS version"$/);
    const totals = proxy.operator.usage().store.series(Date.now() - 60_000, Date.now() + 1000, 60_000).totals;
    assert.equal(totals.find((entry) => entry.model === 'gemini-3-flash-preview')?.webSearches, 1);
    const metrics = await proxy.operator.metrics.registry.metrics();
    assert.match(metrics, /gemini_proxy_web_searches_total\{backend="searxng",outcome="ok"\} 1/);
  });

  it('SSE: a mark split across upstream chunks never reaches the client; the last event carries the metadata', async () => {
    search.enqueue({ kind: 'json', body: searxngBody(QUERY) });
    upstream.enqueue({
      kind: 'sse',
      writes: answerStream(['Node.js 24 is the Active LTS ', '[', '1]. Release notes — ', 'café edition [2', '].']),
    });
    const result = await post(proxy, SEARCH_REQUEST, 'streamGenerateContent', '?alt=sse');
    assert.equal(result.status, 200, result.text);
    const events = result.text
      .split('\r\n\r\n')
      .filter((event) => event.trim() !== '')
      .map((event) => JSON.parse(event.replace(/^data: /, '')) as GenerateResponse);
    const text = events.map((event) => textOf(event.candidates?.[0])).join('');
    assert.equal(text, STRIPPED);
    const last = events.at(-1)?.candidates?.[0];
    assert.equal(last?.finishReason, 'STOP');
    assertGrounded(last, text);
    assert.equal(
      events.slice(0, -1).filter((event) => event.candidates?.[0]?.groundingMetadata !== undefined).length,
      0,
      'metadata only once, at the end',
    );
  });

  for (const [label, module] of [
    ['@google/genai 1.30.0', sdk130],
    ['genai-latest (2.32.0)', sdkLatest],
  ] as const) {
    it(`${label}: config.tools [{googleSearch:{}}] gets groundingMetadata, unary and streamed`, async () => {
      const client = new module.GoogleGenAI({
        vertexai: false,
        apiKey: 'test-key',
        httpOptions: { baseUrl: proxy.url },
      });
      search.enqueue({ kind: 'json', body: searxngBody(QUERY) }, { kind: 'json', body: searxngBody(QUERY) });
      upstream.enqueue(
        { kind: 'json', body: answerJson(ANSWER) },
        { kind: 'sse', writes: answerStream([ANSWER.slice(0, 31), ANSWER.slice(31)]) },
      );
      const response = await client.models.generateContent({
        model: 'gemini-3-flash-preview',
        contents: QUERY,
        config: { tools: [{ googleSearch: {} }] },
      });
      assert.equal(response.text, STRIPPED);
      assertGrounded(response.candidates?.[0] as Candidate | undefined, STRIPPED);
      let text = '';
      let grounding: Candidate | undefined;
      for await (const chunk of await client.models.generateContentStream({
        model: 'gemini-3-flash-preview',
        contents: QUERY,
        config: { tools: [{ googleSearch: {} }] },
      })) {
        text += chunk.text ?? '';
        if (chunk.candidates?.[0]?.groundingMetadata !== undefined) grounding = chunk.candidates[0] as Candidate;
      }
      assert.equal(text, STRIPPED);
      assertGrounded(grounding, text);
      assert.equal(search.received.length, 2, 'one search per request');
    });
  }

  it('googleSearch mixed with function declarations: search first, then the normal tool loop', async () => {
    search.enqueue({ kind: 'json', body: searxngBody(QUERY) });
    upstream.enqueue({
      kind: 'json',
      body: {
        id: 'c2',
        model: 'm',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [
                { id: 'call_1', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.txt"}' } },
              ],
            },
            finish_reason: 'tool_calls',
          },
        ],
      },
    });
    const result = await post(proxy, {
      ...SEARCH_REQUEST,
      tools: [
        { googleSearch: {} },
        {
          functionDeclarations: [
            { name: 'read_file', parametersJsonSchema: { type: 'object', properties: { path: { type: 'string' } } } },
          ],
        },
      ],
    });
    assert.equal(result.status, 200, result.text);
    const sent = upstream.received[0]?.body as { tools?: Array<{ function: { name: string } }> };
    assert.deepEqual(
      sent.tools?.map((tool) => tool.function.name),
      ['read_file'],
    );
    assert.match(systemText(upstream.received[0]), /\[1\] Node\.js — Previous Releases/);
    const candidate = (JSON.parse(result.text) as GenerateResponse).candidates?.[0];
    assert.equal(candidate?.content?.parts?.[0]?.functionCall?.name, 'read_file');
    assert.deepEqual(candidate?.groundingMetadata?.webSearchQueries, [QUERY]);
  });

  it('snake_case google_search and googleSearchRetrieval are the same tool', async () => {
    for (const tool of [{ google_search: {} }, { googleSearchRetrieval: {} }]) {
      search.enqueue({ kind: 'json', body: searxngBody(QUERY) });
      upstream.enqueue({ kind: 'json', body: answerJson(ANSWER) });
      const result = await post(proxy, { ...SEARCH_REQUEST, tools: [tool] });
      assert.equal(result.status, 200, result.text);
      assert.equal(
        (JSON.parse(result.text) as GenerateResponse).candidates?.[0]?.groundingMetadata?.groundingChunks?.length,
        2,
      );
    }
  });
});

describe('web search backends: Brave and Tavily shapes', () => {
  let upstream: ScriptedUpstream;
  let search: ScriptedUpstream;
  const proxies: RunningProxy[] = [];

  before(async () => {
    upstream = await new ScriptedUpstream().start();
    search = await new ScriptedUpstream().start();
  });
  after(async () => {
    for (const proxy of proxies) await proxy.stop();
    await upstream.stop();
    await search.stop();
  });

  it('brave: GET /res/v1/web/search with X-Subscription-Token; HTML in descriptions is stripped', async () => {
    const proxy = await startProxy({
      provider: 'generic',
      openai_base_url: upstream.baseUrl,
      default_openai_model: 'm',
      web_search: {
        backend: 'brave',
        url: `http://127.0.0.1:${search.port}`,
        api_key: 'BSA-test-key-123',
        max_results: 2,
      },
    });
    proxies.push(proxy);
    search.enqueue({ kind: 'json', body: braveBody(QUERY) });
    upstream.enqueue({ kind: 'json', body: answerJson(ANSWER) });
    const result = await post(proxy, SEARCH_REQUEST);
    assert.equal(result.status, 200, result.text);
    const searched = search.received.at(-1);
    assert.equal(searched?.url, `/res/v1/web/search?q=${encodeURIComponent(QUERY)}&count=2`);
    assert.equal(searched?.headers['x-subscription-token'], 'BSA-test-key-123');
    assert.doesNotMatch(systemText(upstream.received.at(-1)), /<strong>/);
    assertGrounded((JSON.parse(result.text) as GenerateResponse).candidates?.[0], STRIPPED);
    assert.ok(!proxy.logLines.some((line) => line.includes('BSA-test-key-123')), 'the key never reaches the log');
  });

  it('tavily: POST /search with a bearer key and max_results', async () => {
    const proxy = await startProxy({
      provider: 'generic',
      openai_base_url: upstream.baseUrl,
      default_openai_model: 'm',
      web_search: {
        backend: 'tavily',
        url: `http://127.0.0.1:${search.port}`,
        api_key: 'tvly-test-key-123',
        max_results: 2,
      },
    });
    proxies.push(proxy);
    search.enqueue({ kind: 'json', body: tavilyBody(QUERY) });
    upstream.enqueue({ kind: 'json', body: answerJson(ANSWER) });
    const result = await post(proxy, SEARCH_REQUEST);
    assert.equal(result.status, 200, result.text);
    const searched = search.received.at(-1);
    assert.equal(searched?.method, 'POST');
    assert.equal(searched?.url, '/search');
    assert.equal(searched?.headers['authorization'], 'Bearer tvly-test-key-123');
    assert.deepEqual(searched?.body, { query: QUERY, max_results: 2, search_depth: 'basic', include_answer: false });
    assertGrounded((JSON.parse(result.text) as GenerateResponse).candidates?.[0], STRIPPED);
  });
});

describe('web search failures degrade to an ungrounded answer, never a hang', () => {
  let upstream: ScriptedUpstream;
  let search: ScriptedUpstream;
  let proxy: RunningProxy;
  let closedPort = 0;

  before(async () => {
    upstream = await new ScriptedUpstream().start();
    search = await new ScriptedUpstream().start();
    const gone = await new ScriptedUpstream().start();
    closedPort = gone.port;
    await gone.stop();
    proxy = await startProxy({
      provider: 'generic',
      openai_base_url: upstream.baseUrl,
      default_openai_model: 'm',
      web_search: { backend: 'searxng', url: `http://127.0.0.1:${search.port}`, timeout_seconds: 1 },
    });
  });
  after(async () => {
    await proxy.stop();
    await upstream.stop();
    await search.stop();
  });

  async function degraded(label: string, expectWarning: RegExp): Promise<number> {
    upstream.enqueue({ kind: 'json', body: answerJson('Node.js 24, from memory.') });
    const started = Date.now();
    const result = await post(proxy, SEARCH_REQUEST);
    const took = Date.now() - started;
    assert.equal(result.status, 200, `${label}: ${result.text}`);
    const candidate = (JSON.parse(result.text) as GenerateResponse).candidates?.[0];
    assert.equal(textOf(candidate), 'Node.js 24, from memory.');
    assert.equal(candidate?.groundingMetadata, undefined, `${label}: no grounding without results`);
    assert.match(
      systemText(upstream.received.at(-1)),
      /no live web results were available/,
      `${label}: the model is told`,
    );
    assert.ok(
      proxy.logLines.some((line) => expectWarning.test(line)),
      `${label}: a warning is logged`,
    );
    return took;
  }

  it('search service down', async () => {
    const down = await startProxy({
      provider: 'generic',
      openai_base_url: upstream.baseUrl,
      default_openai_model: 'm',
      web_search: { backend: 'searxng', url: `http://127.0.0.1:${closedPort}`, timeout_seconds: 1 },
    });
    try {
      upstream.enqueue({ kind: 'json', body: answerJson('Node.js 24, from memory.') });
      const result = await post(down, SEARCH_REQUEST);
      assert.equal(result.status, 200, result.text);
      assert.equal((JSON.parse(result.text) as GenerateResponse).candidates?.[0]?.groundingMetadata, undefined);
      assert.ok(down.logLines.some((line) => /web search \(searxng\) failed.*unreachable/.test(line)));
    } finally {
      await down.stop();
    }
  });

  it('search service too slow: given up after timeout_seconds', async () => {
    search.enqueue({ kind: 'stall' });
    const took = await degraded('slow', /web search \(searxng\) failed.*did not answer in time/);
    assert.ok(took >= 900, `waited for the timeout (${took} ms)`);
    assert.ok(took < 10_000, `but not much longer (${took} ms)`);
  });

  it('search service answers 503, or answers with no results', async () => {
    search.enqueue({ kind: 'json', status: 503, body: { error: 'maintenance' } });
    await degraded('503', /web search \(searxng\) failed.*HTTP 503/);
    search.enqueue({ kind: 'json', body: searxngBody(QUERY, []) });
    await degraded('empty', /web search \(searxng\) failed.*no results/);
    search.enqueue({ kind: 'text', status: 200, body: '<html>format json not enabled</html>' });
    await degraded('html', /web search \(searxng\) failed.*did not answer JSON/);
  });
});

describe('web search unavailable', () => {
  let upstream: ScriptedUpstream;
  const proxies: RunningProxy[] = [];
  before(async () => {
    upstream = await new ScriptedUpstream().start();
  });
  after(async () => {
    for (const proxy of proxies) await proxy.stop();
    await upstream.stop();
  });

  it('backend "off": a clear 400 naming web search and how to enable it; nothing goes upstream', async () => {
    const proxy = await startProxy({
      provider: 'generic',
      openai_base_url: upstream.baseUrl,
      default_openai_model: 'm',
      web_search: { backend: 'off' },
    });
    proxies.push(proxy);
    const result = await post(proxy, SEARCH_REQUEST);
    assert.equal(result.status, 400);
    const error = (JSON.parse(result.text) as { error: { status: string; message: string } }).error;
    assert.equal(error.status, 'INVALID_ARGUMENT');
    assert.match(error.message, /Web search \(googleSearch\) is not available through this proxy: it is turned off/);
    assert.match(error.message, /web_search\.backend to "searxng", "brave" or "tavily"/);
    assert.equal(upstream.received.length, 0);
  });

  it('backend unset on an upstream without native search: 400 that says which upstream and what to set', async () => {
    const proxy = await startProxy({
      provider: 'generic',
      openai_base_url: upstream.baseUrl,
      default_openai_model: 'm',
    });
    proxies.push(proxy);
    const result = await post(proxy, SEARCH_REQUEST);
    assert.equal(result.status, 400);
    const message = (JSON.parse(result.text) as { error: { message: string } }).error.message;
    assert.match(
      message,
      /Web search \(googleSearch\) is not available through this proxy for model m on upstream default/,
    );
    assert.match(message, /set web_search\.backend/);
  });

  it('config: searxng needs url, brave and tavily need api_key', async () => {
    await assert.rejects(
      startProxy({ provider: 'generic', openai_base_url: upstream.baseUrl, web_search: { backend: 'searxng' } }),
      /web_search\.url: required for backend "searxng"/,
    );
    await assert.rejects(
      startProxy({ provider: 'generic', openai_base_url: upstream.baseUrl, web_search: { backend: 'brave' } }),
      /web_search\.api_key: required for backend "brave"/,
    );
  });
});
