import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sseFromChunks } from '../support/scripted-upstream.js';
import { proxyOverUpstream } from '../support/proxy.js';

describe('smoke: text stream through the proxy', () => {
  const rig = proxyOverUpstream({
    openai_api_key: 'sk-upstream-secret',
    default_openai_model: 'up-model',
  });
  const upstream = rig.upstream;

  it('streams SSE events SDK 1.30 can parse, ending with STOP and usage', async () => {
    upstream.enqueue({
      kind: 'sse',
      writes: sseFromChunks([
        { id: 'c1', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
        { id: 'c1', choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] },
        { id: 'c1', choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: null }] },
        { id: 'c1', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
        { id: 'c1', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } },
      ]),
    });
    const response = await fetch(`${rig.proxy.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const text = await response.text();
    const events = text.split('\r\n\r\n').filter((event) => event !== '');
    assert.ok(
      events.every((event) => event.startsWith('data: {')),
      text,
    );
    const parsed = events.map(
      (event) =>
        JSON.parse(event.slice(6)) as {
          candidates: Array<{ content?: { parts?: Array<{ text?: string }> }; finishReason?: string }>;
          usageMetadata?: unknown;
        },
    );
    // The chunk with the finish has content (issue 11: SDK 2.x history needs it): here an empty text part.
    assert.deepEqual(
      parsed.map((event) => event.candidates[0]?.content?.parts?.[0]?.text),
      ['Hel', 'lo', ''],
    );
    const last = parsed[parsed.length - 1];
    assert.equal(last?.candidates[0]?.finishReason, 'STOP');
    assert.deepEqual(last?.usageMetadata, { promptTokenCount: 5, candidatesTokenCount: 2, totalTokenCount: 7 });
    assert.equal(upstream.received[0]?.headers.authorization, 'Bearer sk-upstream-secret');
    assert.equal((upstream.received[0]?.body as { model: string }).model, 'up-model');
  });
});
