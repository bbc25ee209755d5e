/**
 * candidateCount and logprobs over HTTP (issue 11), through the real proxy and a scripted upstream: `n` on a preset
 * that takes it (vllm), parallel calls merged by candidate index on one that does not (generic), unary and stream,
 * usage summed over the calls; logprobs sent up and `logprobsResult` back, and the 400 where a preset has none.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ScriptedUpstream, sseFromChunks, type Script } from '../support/scripted-upstream.js';
import { startProxy, type RunningProxy } from '../support/proxy.js';

interface Candidate {
  index: number;
  finishReason?: string;
  content?: { parts?: Array<{ text?: string }> };
  avgLogprobs?: number;
  logprobsResult?: { chosenCandidates: Array<{ token: string; logProbability: number }> };
}
interface Response {
  candidates?: Candidate[];
  usageMetadata?: { promptTokenCount: number; candidatesTokenCount: number; totalTokenCount: number };
}

const usage = { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 };
const unary = (content: string): Script => ({
  kind: 'json',
  body: { choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage },
});
const stream = (content: string): Script => ({
  kind: 'sse',
  writes: sseFromChunks([
    { choices: [{ index: 0, delta: { content }, finish_reason: null }] },
    { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage },
  ]),
});
const ASK = { contents: [{ parts: [{ text: 'Name a color.' }] }], generationConfig: { candidateCount: 2 } };

function textOf(candidate: Candidate | undefined): string {
  return (candidate?.content?.parts ?? []).map((part) => part.text ?? '').join('');
}

async function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

function sseResponses(text: string): Response[] {
  return text
    .split('\r\n\r\n')
    .map((event) => event.trim())
    .filter((event) => event.startsWith('data: '))
    .map((event) => JSON.parse(event.slice(6)) as Response);
}

describe('candidateCount and logprobs over HTTP', () => {
  let upstream: ScriptedUpstream;
  let generic: RunningProxy;
  let vllm: RunningProxy;
  let kimi: RunningProxy;

  before(async () => {
    upstream = await new ScriptedUpstream().start();
    generic = await startProxy({
      provider: 'generic',
      openai_base_url: upstream.baseUrl,
      default_openai_model: 'up-model',
    });
    vllm = await startProxy({ provider: 'vllm', openai_base_url: upstream.baseUrl, default_openai_model: 'up-model' });
    kimi = await startProxy({
      provider: 'kimi',
      openai_base_url: upstream.baseUrl,
      openai_api_key: 'sk-k',
      default_openai_model: 'kimi-k2',
    });
  });
  after(async () => {
    await Promise.all([generic.stop(), vllm.stop(), kimi.stop()]);
    await upstream.stop();
  });
  beforeEach(() => upstream.reset());

  it('without n upstream, unary: two parallel calls, one candidate each, usage summed', async () => {
    upstream.enqueue(unary('Red'), unary('Blue'));
    const result = await post(`${generic.url}/v1beta/models/gemini-2.5-flash:generateContent`, ASK);
    assert.equal(result.status, 200, result.text);
    const response = JSON.parse(result.text) as Response;
    assert.deepEqual(
      response.candidates?.map((candidate) => candidate.index),
      [0, 1],
    );
    assert.deepEqual(response.candidates?.map(textOf).sort(), ['Blue', 'Red']);
    assert.deepEqual(response.usageMetadata, { promptTokenCount: 20, candidatesTokenCount: 4, totalTokenCount: 24 });
    assert.equal(upstream.received.length, 2);
    for (const request of upstream.received)
      assert.equal((request.body as { n?: number }).n, undefined, 'no n sent to an upstream without it');
  });

  it('without n upstream, stream: chunks keep their candidate index; one last chunk finishes both', async () => {
    upstream.enqueue(stream('Red'), stream('Blue'));
    const result = await post(`${generic.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, ASK);
    assert.equal(result.status, 200, result.text);
    const responses = sseResponses(result.text);
    const last = responses[responses.length - 1];
    assert.deepEqual(
      last?.candidates?.map((candidate) => [candidate.index, candidate.finishReason]),
      [
        [0, 'STOP'],
        [1, 'STOP'],
      ],
    );
    assert.equal(
      responses
        .slice(0, -1)
        .filter((response) => response.candidates?.some((candidate) => candidate.finishReason !== undefined)).length,
      0,
      'one finish per candidate, on the last chunk',
    );
    const byIndex = new Map<number, string>();
    for (const response of responses)
      for (const candidate of response.candidates ?? [])
        byIndex.set(candidate.index, (byIndex.get(candidate.index) ?? '') + textOf(candidate));
    assert.deepEqual([...byIndex.values()].sort(), ['Blue', 'Red']);
    assert.equal(last?.usageMetadata?.totalTokenCount, 24);
  });

  it('with n upstream: one call with n = 2, choices become candidates by index', async () => {
    upstream.enqueue({
      kind: 'json',
      body: {
        choices: [
          { index: 0, message: { role: 'assistant', content: 'Red' }, finish_reason: 'stop' },
          { index: 1, message: { role: 'assistant', content: 'Blue' }, finish_reason: 'stop' },
        ],
        usage,
      },
    });
    const result = await post(`${vllm.url}/v1beta/models/gemini-2.5-flash:generateContent`, ASK);
    assert.equal(result.status, 200, result.text);
    assert.equal(upstream.received.length, 1);
    assert.equal((upstream.received[0]?.body as { n?: number }).n, 2);
    const response = JSON.parse(result.text) as Response;
    assert.deepEqual(
      response.candidates?.map((candidate) => [candidate.index, textOf(candidate)]),
      [
        [0, 'Red'],
        [1, 'Blue'],
      ],
    );
    assert.equal(response.usageMetadata?.totalTokenCount, 12);
  });

  it('logprobs: sent up, logprobsResult back', async () => {
    upstream.enqueue({
      kind: 'json',
      body: {
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Yes' },
            finish_reason: 'stop',
            logprobs: { content: [{ token: 'Yes', logprob: -0.5, top_logprobs: [{ token: 'Yes', logprob: -0.5 }] }] },
          },
        ],
        usage,
      },
    });
    const result = await post(`${vllm.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      contents: [{ parts: [{ text: 'Yes?' }] }],
      generationConfig: { responseLogprobs: true, logprobs: 1 },
    });
    assert.equal(result.status, 200, result.text);
    const sent = upstream.received[0]?.body as { logprobs?: boolean; top_logprobs?: number };
    assert.equal(sent.logprobs, true);
    assert.equal(sent.top_logprobs, 1);
    const candidate = (JSON.parse(result.text) as Response).candidates?.[0];
    assert.equal(candidate?.avgLogprobs, -0.5);
    assert.deepEqual(candidate?.logprobsResult?.chosenCandidates, [{ token: 'Yes', logProbability: -0.5 }]);
  });

  it('logprobs on a preset without them: 400 naming the field, nothing sent upstream', async () => {
    const result = await post(`${kimi.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      contents: [{ parts: [{ text: 'Yes?' }] }],
      generationConfig: { responseLogprobs: true },
    });
    assert.equal(result.status, 400);
    assert.match(result.text, /responseLogprobs/);
    assert.equal(upstream.received.length, 0);
  });
});
