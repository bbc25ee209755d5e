/**
 * Chat history through the proxy with the real SDKs (issue 11): `chats.create().sendMessageStream` twice on
 * @google/genai 1.30.0 and genai-latest (2.32.0, the newest release that runs on Node 20; 3.x needs Node 22). The
 * second upstream request must carry the first question and the whole first answer, as one assistant message (SDK
 * 1.30 records one model content per chunk; the proxy merges them), and the SDK's own history must hold the answer.
 * Also the routes and HTTP edges of the same issue: v1alpha, unknown routes with a bad body, relaxed JSON.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as sdk130 from '@google/genai';
import * as sdkLatest from 'genai-latest';
import { sseFromChunks } from '../support/scripted-upstream.js';
import { proxyOverUpstream } from '../support/proxy.js';

interface ChatPart {
  text?: string;
}
interface ChatContent {
  role?: string;
  parts?: ChatPart[];
}
interface Chat {
  sendMessageStream(params: { message: string }): Promise<AsyncGenerator<{ text: string | undefined }>>;
  getHistory(curated?: boolean): ChatContent[];
}
interface ChatClient {
  chats: { create(params: { model: string }): Chat };
}

const CLIENTS: Array<{ label: string; make(baseUrl: string): ChatClient }> = [
  {
    label: '@google/genai 1.30.0',
    make: (baseUrl) => new sdk130.GoogleGenAI({ vertexai: false, apiKey: 'test-key', httpOptions: { baseUrl } }),
  },
  {
    label: 'genai-latest (@google/genai 2.32.0)',
    make: (baseUrl) => new sdkLatest.GoogleGenAI({ vertexai: false, apiKey: 'test-key', httpOptions: { baseUrl } }),
  },
];

function textStream(pieces: string[]): string[] {
  return sseFromChunks([
    ...pieces.map((content) => ({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })),
    {
      choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: pieces.length, total_tokens: 5 + pieces.length },
    },
  ]);
}

interface UpstreamMessage {
  role: string;
  content?: unknown;
}

describe('SDK chat history through the proxy', () => {
  const rig = proxyOverUpstream({
    openai_api_key: 'sk-test',
    default_openai_model: 'up-model',
  });
  const upstream = rig.upstream;
  beforeEach(() => upstream.reset());

  for (const client of CLIENTS) {
    it(`${client.label}: sendMessageStream keeps the streamed answer in history and sends it back`, async () => {
      upstream.enqueue(
        { kind: 'sse', writes: textStream(['Paris ', 'is the ', 'capital.']) },
        { kind: 'sse', writes: textStream(['About 2.1 million.']) },
      );
      const chat = client.make(rig.proxy.url).chats.create({ model: 'gemini-2.5-flash' });
      let first = '';
      for await (const chunk of await chat.sendMessageStream({ message: 'What is the capital of France?' }))
        first += chunk.text ?? '';
      assert.equal(first, 'Paris is the capital.');
      const history = chat.getHistory(true);
      const modelText = history
        .filter((content) => content.role === 'model')
        .flatMap((content) => content.parts ?? [])
        .map((part) => part.text ?? '')
        .join('');
      assert.equal(modelText, 'Paris is the capital.', 'the SDK recorded the streamed answer');

      let second = '';
      for await (const chunk of await chat.sendMessageStream({ message: 'And its population?' }))
        second += chunk.text ?? '';
      assert.equal(second, 'About 2.1 million.');
      const sent = upstream.received[1]?.body as { messages: UpstreamMessage[] } | undefined;
      assert.ok(sent !== undefined, 'the second turn reached the upstream');
      assert.deepEqual(sent.messages, [
        { role: 'user', content: 'What is the capital of France?' },
        { role: 'assistant', content: 'Paris is the capital.' },
        { role: 'user', content: 'And its population?' },
      ]);
    });
  }

  it('v1alpha is served like v1beta', async () => {
    upstream.enqueue({ kind: 'sse', writes: textStream(['hi']) });
    const response = await fetch(`${rig.proxy.url}/v1alpha/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hello' }] }] }),
    });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /"text":"hi"/);
  });

  it('an unknown route answers 404 whatever its body; a known one names the JSON error position', async () => {
    const unknown = await fetch(`${rig.proxy.url}/v1beta/files/abc:upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { status: string } }).error.status, 'NOT_FOUND');
    const known = await fetch(`${rig.proxy.url}/v1beta/models/m:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"contents": [}',
    });
    assert.equal(known.status, 400);
    assert.match(
      ((await known.json()) as { error: { message: string } }).error.message,
      /Invalid JSON payload received\. .* at line 1, column 15\./,
    );
  });

  it('a relaxed-JSON body from a REST sample is answered like Google answers it', async () => {
    upstream.enqueue({
      kind: 'json',
      body: { choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] },
    });
    // A curl sample with a trailing comma, an unquoted key, a numeric enum and a raw line break inside the prompt.
    const body =
      '{\n  contents: [{"parts": {"text": "Write a story\nabout a magic backpack."}},],\n  "safetySettings": [{category: 7, threshold: 4}],\n}';
    const response = await fetch(`${rig.proxy.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(response.status, 200, await response.clone().text());
    const sent = upstream.received[0]?.body as { messages: UpstreamMessage[] };
    assert.deepEqual(sent.messages, [{ role: 'user', content: 'Write a story\nabout a magic backpack.' }]);
  });
});
