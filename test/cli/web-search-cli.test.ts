/**
 * The real Gemini CLI 0.61.0 headless using its own google_web_search tool through the proxy, end to end: the main
 * model (a scripted upstream) calls the tool; the tool's request reaches the proxy as `gemini-3-flash-preview` with
 * `tools:[{googleSearch:{}}]`; the proxy searches a fake SearXNG and answers with groundingMetadata; the CLI turns that
 * into its "Sources:" list with citation marks at the UTF-8 byte offsets; and the sources reach the model in the next
 * turn. Assertions are on what the upstream and the search service received.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OpenAIChatRequest } from '../../src/translate/openai-types.js';
import { chatBody, describeRun, removeTemporaryDirectories, runCli, successOutput } from '../support/gemini-cli.js';
import { ScriptedUpstream, sseFromChunks, type ReceivedRequest, type Script } from '../support/scripted-upstream.js';
import { startProxy, type RunningProxy } from '../support/proxy.js';
import { RESULTS, searxngBody } from '../support/search-personalities.js';

const QUERY = 'current Node.js LTS release';
const ANSWER = 'Node.js 24 is the Active LTS line [1]. Release notes — café edition [2].';

function messagesText(body: OpenAIChatRequest): string {
  return body.messages
    .map((message) => (typeof message.content === 'string' ? message.content : JSON.stringify(message.content ?? '')))
    .join('\n');
}

/** Answers by what the request is: the search-tool call (sources in the system text), a main turn, or the turn after. */
function upstreamBehaviour(request: ReceivedRequest): Script {
  const body = chatBody(request);
  const system = body.messages
    .filter((message) => message.role === 'system')
    .map((message) => (typeof message.content === 'string' ? message.content : JSON.stringify(message.content)))
    .join('\n');
  const stream = body.stream === true;
  const reply = (delta: Record<string, unknown>, finish: string): Script =>
    stream
      ? {
          kind: 'sse',
          writes: sseFromChunks([
            { id: 'c', model: 'm', choices: [{ index: 0, delta, finish_reason: null }] },
            {
              id: 'c',
              model: 'm',
              choices: [{ index: 0, delta: {}, finish_reason: finish }],
              usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
            },
          ]),
        }
      : {
          kind: 'json',
          body: {
            id: 'c',
            model: 'm',
            choices: [{ index: 0, message: { role: 'assistant', ...delta }, finish_reason: finish }],
            usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
          },
        };
  if (system.includes('Web search results for')) return reply({ content: ANSWER }, 'stop');
  if (body.messages.some((message) => message.role === 'tool'))
    return reply({ content: 'Node.js 24 is the current LTS, per the search.' }, 'stop');
  if ((body.tools ?? []).some((tool) => tool.function.name === 'google_web_search')) {
    return reply(
      {
        content: null,
        tool_calls: [
          {
            index: 0,
            id: 'call_search_1',
            type: 'function',
            function: { name: 'google_web_search', arguments: JSON.stringify({ query: QUERY }) },
          },
        ],
      },
      'tool_calls',
    );
  }
  return reply({ content: 'unexpected request' }, 'stop');
}

describe('Gemini CLI google_web_search through the proxy', () => {
  let upstream: ScriptedUpstream;
  let search: ScriptedUpstream;
  let proxy: RunningProxy;

  before(async () => {
    upstream = await new ScriptedUpstream().start();
    upstream.setFallback({ kind: 'dynamic', respond: upstreamBehaviour });
    search = await new ScriptedUpstream().start();
    search.setFallback({
      kind: 'dynamic',
      respond: (request) => ({
        kind: 'json',
        body: searxngBody(new URL(request.url, 'http://x').searchParams.get('q') ?? ''),
      }),
    });
    proxy = await startProxy({
      openai_base_url: upstream.baseUrl,
      openai_api_key: 'sk-upstream-secret',
      default_openai_model: 'main-model',
      retries: { attempts_per_target: 1 },
      web_search: { backend: 'searxng', url: `http://127.0.0.1:${search.port}`, max_results: 2 },
    });
  });
  after(async () => {
    await proxy.stop();
    await upstream.stop();
    await search.stop();
    removeTemporaryDirectories();
  });

  it('the tool searches through the proxy and its Sources reach the model in the next turn', async () => {
    const run = await runCli(proxy.url, {
      prompt: 'What is the current Node.js LTS? Search the web.',
      args: ['-m', 'main-model'],
    });
    const output = successOutput(run, upstream);
    assert.equal(run.code, 0, describeRun(run, upstream));
    assert.match(output.response ?? '', /Node\.js 24 is the current LTS/);

    // The tool's request reached the proxy with googleSearch, and the proxy searched with the tool's query.
    assert.deepEqual(
      search.received.map((request) => new URL(request.url, 'http://x').searchParams.get('q')),
      [QUERY],
      describeRun(run, upstream),
    );
    const bodies = upstream.received.map(chatBody);
    const searchTurn = bodies.find((body) => messagesText(body).includes('Web search results for'));
    assert.ok(
      searchTurn !== undefined,
      `no upstream request carried the search results\n${describeRun(run, upstream)}`,
    );
    assert.notEqual(searchTurn.stream, true, 'the CLI calls web search with generateContent (unary)');
    assert.equal(searchTurn.tools, undefined, 'googleSearch is answered by the proxy, not sent upstream');
    assert.match(messagesText(searchTurn), new RegExp(`\\[1\\] ${RESULTS[0]?.title ?? ''}`));

    // The next main turn carries the tool's result, built by the CLI from our groundingMetadata.
    const afterTool = bodies.find((body) => body.messages.some((message) => message.role === 'tool'));
    assert.ok(afterTool !== undefined, describeRun(run, upstream));
    const toolResult = afterTool.messages
      .filter((message) => message.role === 'tool')
      .map((message) => (typeof message.content === 'string' ? message.content : ''))
      .join('\n');
    // Marks inserted by the CLI at our byte offsets: right after each cited statement, none left from the model.
    assert.match(
      toolResult,
      /Node\.js 24 is the Active LTS line\[1\]\. Release notes — café edition\[2\]\./,
      toolResult,
    );
    assert.match(
      toolResult,
      /Sources:\n\[1\] Node\.js — Previous Releases \(https:\/\/nodejs\.org\/en\/about\/previous-releases\)\n\[2\] Café release notes \(https:\/\/example\.org\/caf%C3%A9\/notes\)/,
      toolResult,
    );
    assert.equal(output.stats?.tools.byName['google_web_search']?.success, 1);
  });
});
