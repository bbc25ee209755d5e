/**
 * Upstream stream bytes → Gemini responses (src/gateway/stream-pump.ts), the one pure unit the server and the fixture
 * tests share: how a stream ends — [DONE], a clean end without it, an error event before or after output, an event
 * that is not JSON, a transport failure — and what each ending leaves the caller to send ([R-FIN-5]).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamStreamPump, upstreamEventError, type PumpResult } from '../../src/gateway/stream-pump.js';
import { ProxyError, type RpcDetail } from '../../src/errors.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { geminiRequestToOpenAI } from '../../src/translate/gemini-request-to-openai.js';
import type { GenerateContentResponse } from '../../src/translate/gemini-types.js';
import { normalizeGenerateContentRequest } from '../../src/translate/normalize-request.js';

const REQUEST = normalizeGenerateContentRequest({
  contents: [{ role: 'user', parts: [{ text: 'Read a.txt' }] }],
  tools: [{ functionDeclarations: [{ name: 'read_file', parametersJsonSchema: { type: 'object' } }] }],
});

function pump(record?: (event: string) => void): UpstreamStreamPump {
  const translated = geminiRequestToOpenAI(REQUEST, { model: 'm', stream: true, profile: PROVIDERS.generic });
  return new UpstreamStreamPump(
    {
      modelVersion: 'm',
      responseId: 'r',
      includeThoughts: true,
      textMode: translated.textMode,
      toolNames: translated.toolNames,
      promptCharacters: 100,
      thinkTags: false,
    },
    {
      upstreamLabel: 'test-upstream',
      redact: (text) => text.replaceAll('sk-secret-123', '[redacted]'),
      ...(record === undefined ? {} : { record }),
    },
  );
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const data = (chunk: unknown): string => `data: ${JSON.stringify(chunk)}\n\n`;
const text = (content: string) => ({ choices: [{ index: 0, delta: { content }, finish_reason: null }] });
const finish = (reason: string) => ({ choices: [{ index: 0, delta: {}, finish_reason: reason }] });
const partialCall = {
  choices: [
    {
      index: 0,
      delta: {
        tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'read_file', arguments: '{"fi' } }],
      },
      finish_reason: null,
    },
  ],
};

/** Feeds `stream` in one push, then ends the input and finishes with `transportFailure`. */
function run(
  stream: string,
  transportFailure?: ProxyError,
): { pushed: GenerateContentResponse[]; result: PumpResult; over: boolean } {
  const p = pump();
  const pushed = [...p.push(bytes(stream)), ...p.endOfInput()];
  return { pushed, over: p.over, result: p.finish(transportFailure) };
}

const partsOf = (responses: GenerateContentResponse[]) =>
  responses.flatMap((response) => response.candidates?.[0]?.content?.parts ?? []);
const reasonOf = (error: ProxyError) =>
  error.details.find(
    (detail): detail is Extract<RpcDetail, { reason: string }> =>
      detail['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo',
  );

describe('stream pump: how a stream ends', () => {
  it('[DONE]: text goes out as it comes, the last response carries the finish', () => {
    const { pushed, result, over } = run(
      data(text('Hel')) + data(text('lo')) + data(finish('stop')) + 'data: [DONE]\n\n',
    );
    assert.equal(over, true);
    assert.deepEqual(partsOf(pushed), [{ text: 'Hel' }, { text: 'lo' }]);
    assert.equal(result.kind, 'complete');
    assert.equal(result.kind === 'complete' && result.responses.at(-1)?.candidates?.[0]?.finishReason, 'STOP');
  });

  it('bytes after [DONE] are not read', () => {
    const p = pump();
    p.push(bytes(data(text('a')) + data(finish('stop')) + 'data: [DONE]\n\n'));
    assert.equal(p.over, true);
    assert.deepEqual(p.push(bytes(data(text('late')))), []);
    assert.deepEqual(p.endOfInput(), []);
    const result = p.finish();
    assert.ok(result.kind === 'complete');
    assert.ok(!JSON.stringify(result.responses).includes('late'));
  });

  it('a clean end without [DONE] completes; a last event without its blank line still counts', () => {
    const { result } = run(data(text('a')) + `data: ${JSON.stringify(finish('length'))}`);
    assert.equal(result.kind, 'complete');
    assert.equal(result.kind === 'complete' && result.responses.at(-1)?.candidates?.[0]?.finishReason, 'MAX_TOKENS');
  });

  it('a body that closes without [DONE] and without any output fails, so the gateway may try again', () => {
    const { result } = run(': keep-alive\n\n');
    assert.ok(result.kind === 'failed');
    assert.equal(result.error.code, 'UPSTREAM_UNAVAILABLE');
    assert.match(result.error.message, /test-upstream/);
  });

  it('[DONE] alone is a finished, empty answer: STOP with an empty text part ([R-FIN-3])', () => {
    const { result } = run('data: [DONE]\n\n');
    assert.ok(result.kind === 'complete');
    assert.deepEqual(result.responses.at(-1)?.candidates?.[0]?.content, { role: 'model', parts: [{ text: '' }] });
    assert.equal(result.responses.at(-1)?.candidates?.[0]?.finishReason, 'STOP');
  });

  it('a complete tool call comes back in the result for the reasoning replay', () => {
    const call = {
      choices: [
        {
          index: 0,
          delta: {
            reasoning_content: 'Need the file.',
            tool_calls: [
              { index: 0, id: 'c1', type: 'function', function: { name: 'read_file', arguments: '{"p":1}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
    };
    const { result } = run(data(call) + 'data: [DONE]\n\n');
    assert.ok(result.kind === 'complete');
    assert.deepEqual(result.calls, [{ id: 'c1', name: 'read_file', args: { p: 1 } }]);
    assert.equal(result.reasoning, 'Need the file.');
  });

  it('an error event before any output: failed with the status the event carries', () => {
    const { result, over } = run(
      data({ error: { message: 'The engine is currently overloaded', type: 'engine_overloaded_error', code: 429 } }) +
        data(text('never read')),
    );
    assert.equal(over, true);
    assert.ok(result.kind === 'failed');
    assert.equal(result.error.code, 'UPSTREAM_UNAVAILABLE');
    assert.equal(reasonOf(result.error)?.reason, 'UPSTREAM_OVERLOADED');
  });

  it('an error event after output: broken — what was said stays, the half-built call is dropped', () => {
    const { pushed, result } = run(
      data(text('Reading it. ')) + data(partialCall) + data({ error: { message: 'upstream went away', code: 503 } }),
    );
    assert.deepEqual(partsOf(pushed), [{ text: 'Reading it. ' }]);
    assert.ok(result.kind === 'broken');
    assert.equal(result.error.code, 'UPSTREAM_UNAVAILABLE');
    assert.ok(!JSON.stringify(result.responses).includes('functionCall'));
  });

  it('`event: error` counts as an error whatever the data holds', () => {
    const { result } = run(data(text('a')) + `event: error\ndata: {"message":"stream aborted"}\n\n`);
    assert.equal(result.kind, 'broken');
  });

  it('an event that is not JSON: a protocol error, its text redacted', () => {
    const before = run('data: <html>sk-secret-123</html>\n\n');
    assert.ok(before.result.kind === 'failed');
    assert.equal(before.result.error.code, 'UPSTREAM_PROTOCOL');
    assert.match(before.result.error.message, /test-upstream/);
    assert.ok(!before.result.error.message.includes('sk-secret-123'));
    const after = run(data(text('a')) + 'data: {oops\n\n');
    assert.ok(after.result.kind === 'broken');
    assert.equal(after.result.error.code, 'UPSTREAM_PROTOCOL');
  });

  it('an error event is redacted before it becomes the error', () => {
    const { result } = run(data({ error: { message: 'bad key sk-secret-123', code: 401 } }));
    assert.ok(result.kind === 'failed');
    assert.equal(result.error.code, 'UPSTREAM_AUTH');
    assert.ok(!result.error.message.includes('sk-secret-123'), result.error.message);
  });

  it('a transport failure: failed before output, broken after it, ignored once [DONE] was seen', () => {
    const drop = new ProxyError('UPSTREAM_UNAVAILABLE', 'upstream test-upstream closed the connection');
    const before = run('', drop);
    assert.ok(before.result.kind === 'failed');
    assert.equal(before.result.error, drop);
    const after = run(data(text('a')), drop);
    assert.ok(after.result.kind === 'broken');
    assert.equal(after.result.error, drop);
    const done = run(data(text('a')) + data(finish('stop')) + 'data: [DONE]\n\n', drop);
    assert.equal(done.result.kind, 'complete');
  });

  it('an error event takes precedence over the transport failure that followed it', () => {
    const drop = new ProxyError('UPSTREAM_TIMEOUT', 'idle');
    const { result } = run(data(text('a')) + data({ error: { message: 'rate limited', code: 429 } }), drop);
    assert.ok(result.kind === 'broken');
    assert.equal(result.error.code, 'UPSTREAM_RATE_LIMITED');
  });

  it('records every event as it arrived, the event name included', () => {
    const events: string[] = [];
    const p = pump((event) => events.push(event));
    p.push(bytes(': comment\n\n' + data(text('a')) + 'event: error\ndata: {"message":"x"}\n\n'));
    assert.deepEqual(events, [JSON.stringify(text('a')), 'event: error\n{"message":"x"}']);
  });

  it('a stream split anywhere gives the same responses', () => {
    const stream = data(text('é中')) + data(text('🙂')) + data(finish('stop')) + 'data: [DONE]\n\n';
    const whole = run(stream);
    const all = bytes(stream);
    for (let cut = 1; cut < all.length; cut += 1) {
      const p = pump();
      const pushed = [...p.push(all.slice(0, cut)), ...p.push(all.slice(cut)), ...p.endOfInput()];
      assert.deepEqual(pushed, whole.pushed, `cut ${cut}`);
      assert.deepEqual(p.finish(), whole.result, `cut ${cut}`);
    }
  });
});

describe('upstream error events', () => {
  const rows: Array<[string, Record<string, unknown>, string]> = [
    ['status_code 429', { error: { message: 'slow down', status_code: 429 } }, 'UPSTREAM_RATE_LIMITED'],
    ['a digit-string code "503"', { error: { message: 'busy', code: '503' } }, 'UPSTREAM_UNAVAILABLE'],
    ['status 401', { error: { message: 'no', status: 401 } }, 'UPSTREAM_AUTH'],
    [
      'a word code: the body decides, else 500',
      { error: { message: 'boom', code: 'internal' } },
      'UPSTREAM_UNAVAILABLE',
    ],
    [
      'a code outside 400–599 is not a status',
      { error: { message: 'context_length_exceeded', code: 200 } },
      'UPSTREAM_REJECTED',
    ],
    ['an error string', { error: 'tool_use_failed: bad call' }, 'UPSTREAM_UNAVAILABLE'],
  ];
  for (const [name, payload, code] of rows) {
    it(`${name} → ${code}`, () => {
      const error = upstreamEventError('u', payload);
      assert.equal(error.code, code);
      assert.match(error.message, /\bu\b/);
    });
  }
});
