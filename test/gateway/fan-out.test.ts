/**
 * candidateCount on an upstream without `n` (src/gateway/fan-out.ts): N parallel calls through the real upstream
 * client against a scripted upstream, merged by candidate index — unary into one response, streamed as each call's
 * chunks relabelled and one last response finishing every candidate with the usage summed; a failure before any
 * output fails the attempt (so it may be retried), one after output ends the stream ([R-FIN-5]).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { attemptFanOut } from '../../src/gateway/fan-out.js';
import type { AttemptSetup, ResponseSink } from '../../src/gateway/upstream-attempt.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { geminiRequestToOpenAI } from '../../src/translate/gemini-request-to-openai.js';
import type { GenerateContentResponse } from '../../src/translate/gemini-types.js';
import { normalizeGenerateContentRequest } from '../../src/translate/normalize-request.js';
import { UpstreamClient } from '../../src/upstream/client.js';
import type { UpstreamTarget } from '../../src/upstream/endpoints.js';
import { ScriptedUpstream, sseFromChunks, type Script } from '../support/scripted-upstream.js';

/** What the client's side received. */
class RecordingSink implements ResponseSink {
  commits = 0;
  ends = 0;
  sent: GenerateContentResponse[] = [];
  unary: GenerateContentResponse[] = [];
  commit(): void {
    this.commits += 1;
  }
  async send(responses: GenerateContentResponse[]): Promise<void> {
    this.sent.push(...responses);
  }
  sendUnary(response: GenerateContentResponse): void {
    this.unary.push(response);
  }
  end(): void {
    this.ends += 1;
  }
}

const usage = (prompt: number, completion: number) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
});

function unaryAnswer(text: string, completion: number): Script {
  return {
    kind: 'json',
    body: {
      id: 'x',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
      usage: usage(10, completion),
    },
  };
}

function streamAnswer(words: string[], completion: number): Script {
  return {
    kind: 'sse',
    writes: sseFromChunks([
      ...words.map((word) => ({ choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })),
      { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { choices: [], usage: usage(10, completion) },
    ]),
  };
}

const candidatesOf = (response: GenerateContentResponse | undefined) =>
  (response?.candidates ?? []).map((candidate) => ({
    index: candidate.index,
    text: candidate.content?.parts?.map((part) => part.text ?? '').join(''),
    finishReason: candidate.finishReason,
  }));

describe('candidateCount fan-out', () => {
  const upstream = new ScriptedUpstream();
  let client: UpstreamClient;
  let target: UpstreamTarget;

  before(async () => {
    await upstream.start();
    client = new UpstreamClient({ connectSeconds: 5, idleSeconds: 30, headersSeconds: 30, unarySeconds: 30 });
    target = {
      provider: 'generic',
      profile: PROVIDERS.generic,
      baseUrl: upstream.baseUrl,
      apiKey: undefined,
      azureApiVersion: '2024-10-21',
    };
  });
  after(async () => {
    await client.close();
    await upstream.stop();
  });
  beforeEach(() => upstream.reset());

  function setup(sink: RecordingSink, stream: boolean): AttemptSetup {
    return {
      client,
      sink,
      stream,
      heartbeatSeconds: 15,
      signal: new AbortController().signal,
      redact: (text) => text,
      rawChunks: undefined,
      attemptLog: undefined,
    };
  }

  function request(stream: boolean) {
    const translated = geminiRequestToOpenAI(
      normalizeGenerateContentRequest({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
      { model: 'm', stream, profile: PROVIDERS.generic },
    );
    return {
      url: `${upstream.baseUrl}/chat/completions`,
      body: JSON.stringify(translated.body),
      streamOptions: {
        modelVersion: 'm',
        responseId: 'r',
        includeThoughts: false,
        textMode: translated.textMode,
        toolNames: translated.toolNames,
        promptCharacters: 50,
      },
    };
  }

  it('unary: one call per candidate, one response with every candidate by index, usage summed', async () => {
    upstream.enqueue(unaryAnswer('one', 3), unaryAnswer('two', 4), unaryAnswer('three', 5));
    const sink = new RecordingSink();
    const outcome = await attemptFanOut(setup(sink, false), request(false), target, 3);
    assert.equal(upstream.received.length, 3);
    assert.equal(outcome.kind, 'done');
    assert.equal(sink.unary.length, 1);
    const merged = sink.unary[0];
    const candidates = candidatesOf(merged);
    assert.deepEqual(
      candidates.map((candidate) => candidate.index),
      [0, 1, 2],
    );
    assert.deepEqual(candidates.map((candidate) => candidate.text).sort(), ['one', 'three', 'two']);
    assert.deepEqual(merged?.usageMetadata, { promptTokenCount: 30, candidatesTokenCount: 12, totalTokenCount: 42 });
    assert.equal(outcome.kind === 'done' && outcome.unary, merged);
  });

  it("stream: each call's chunks go out with its index; one last response finishes every candidate", async () => {
    upstream.enqueue(streamAnswer(['a', 'b'], 2), streamAnswer(['c', 'd'], 2));
    const sink = new RecordingSink();
    const outcome = await attemptFanOut(setup(sink, true), request(true), target, 2);
    assert.equal(outcome.kind, 'done');
    assert.equal(sink.commits, 1, 'the client stream is committed once');
    assert.equal(sink.ends, 1, 'and ended once');
    const last = sink.sent.at(-1);
    const before = sink.sent.slice(0, -1);
    assert.ok(
      before.every((response) => response.candidates?.[0]?.finishReason === undefined),
      'no finish before the last response',
    );
    const byIndex = new Map<number, string>();
    for (const response of before)
      for (const candidate of candidatesOf(response))
        byIndex.set(candidate.index ?? -1, (byIndex.get(candidate.index ?? -1) ?? '') + (candidate.text ?? ''));
    assert.deepEqual([...byIndex.keys()].sort(), [0, 1]);
    assert.deepEqual([...byIndex.values()].sort(), ['ab', 'cd'], 'each candidate carries one call, in order');
    assert.deepEqual(
      candidatesOf(last).map((candidate) => [candidate.index, candidate.finishReason]),
      [
        [0, 'STOP'],
        [1, 'STOP'],
      ],
    );
    assert.deepEqual(last?.usageMetadata, { promptTokenCount: 20, candidatesTokenCount: 4, totalTokenCount: 24 });
  });

  it('a call failing before any output reached the client fails the whole attempt, so it may be retried', async () => {
    upstream.enqueue(unaryAnswer('fine', 1), {
      kind: 'json',
      status: 503,
      body: { error: { message: 'overloaded', type: 'server_error' } },
    });
    const sink = new RecordingSink();
    const outcome = await attemptFanOut(setup(sink, false), request(false), target, 2);
    assert.ok(outcome.kind === 'failed');
    assert.equal(outcome.error.code, 'UPSTREAM_UNAVAILABLE');
    assert.deepEqual(sink.unary, [], 'nothing was sent');
  });

  it('a call failing after output ends the whole stream with its error, and no merged finish', async () => {
    const dropped: Script = {
      kind: 'sse',
      writes: sseFromChunks([{ choices: [{ index: 0, delta: { content: 'half' }, finish_reason: null }] }], {
        done: false,
      }),
      endAfter: false,
      destroyAfter: true,
    };
    upstream.enqueue(streamAnswer(['whole'], 1), dropped);
    const sink = new RecordingSink();
    const outcome = await attemptFanOut(setup(sink, true), request(true), target, 2);
    assert.ok(outcome.kind === 'broken');
    assert.equal(outcome.error.code, 'UPSTREAM_UNAVAILABLE');
    assert.ok(
      sink.sent.every((response) => response.candidates?.every((candidate) => candidate.finishReason === undefined)),
      'no response finished a candidate',
    );
    assert.ok(JSON.stringify(sink.sent).includes('half'));
    assert.equal(sink.ends, 0, 'the caller ends the response with the error');
  });
});
