import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseDecoder, type SseEvent } from '../../src/upstream/sse-decoder.js';

function decodeAll(chunks: Uint8Array[]): SseEvent[] {
  const decoder = new SseDecoder();
  const events: SseEvent[] = [];
  for (const chunk of chunks) events.push(...decoder.push(chunk));
  events.push(...decoder.end());
  return events;
}

const encoder = new TextEncoder();

/** Every two-way split of the byte sequence, plus one byte at a time. */
function assertSplitInvariant(text: string, expected: SseEvent[]): void {
  const bytes = encoder.encode(text);
  assert.deepEqual(decodeAll([bytes]), expected, 'whole');
  for (let cut = 1; cut < bytes.length; cut += 1) {
    assert.deepEqual(decodeAll([bytes.slice(0, cut), bytes.slice(cut)]), expected, `split at byte ${cut}`);
  }
  assert.deepEqual(decodeAll([...bytes].map((byte) => Uint8Array.of(byte))), expected, 'one byte at a time');
}

describe('SseDecoder', () => {
  it('decodes LF, CRLF and CR framing identically at every byte boundary', () => {
    const expected = [{ data: '{"a":1}' }, { data: '{"b":"é—😀"}' }, { data: '[DONE]' }];
    assertSplitInvariant('data: {"a":1}\n\ndata: {"b":"é—😀"}\n\ndata: [DONE]\n\n', expected);
    assertSplitInvariant('data: {"a":1}\r\n\r\ndata: {"b":"é—😀"}\r\n\r\ndata: [DONE]\r\n\r\n', expected);
    assertSplitInvariant('data: {"a":1}\r\rdata: {"b":"é—😀"}\r\rdata: [DONE]\r\r', expected);
  });

  it('accepts data: without a space (DashScope, Kimi Code)', () => {
    assertSplitInvariant('data:{"x":1}\n\ndata:[DONE]\n\n', [{ data: '{"x":1}' }, { data: '[DONE]' }]);
  });

  it('ignores comment and keep-alive lines (OpenRouter, DeepSeek) and id/retry fields', () => {
    assertSplitInvariant(': OPENROUTER PROCESSING\n\n: keep-alive\n\nid: 7\nretry: 100\ndata: {"x":1}\n\n', [
      { data: '{"x":1}' },
    ]);
  });

  it('keeps the event name (Groq event: error)', () => {
    assertSplitInvariant('event: error\ndata: {"error":{"message":"x"}}\n\n', [
      { event: 'error', data: '{"error":{"message":"x"}}' },
    ]);
  });

  it('joins multi-line data with newlines', () => {
    assertSplitInvariant('data: {"a":\ndata: 1}\n\n', [{ data: '{"a":\n1}' }]);
  });

  it('delivers a last event that lacks its blank line at end of stream', () => {
    assertSplitInvariant('data: {"a":1}\n\ndata: {"b":2}', [{ data: '{"a":1}' }, { data: '{"b":2}' }]);
  });

  it('treats a bare JSON line as data', () => {
    assertSplitInvariant('{"a":1}\n\n', [{ data: '{"a":1}' }]);
  });

  it('produces nothing for an empty or whitespace-only stream', () => {
    assert.deepEqual(decodeAll([encoder.encode('\n\n\r\n')]), []);
    assert.deepEqual(decodeAll([]), []);
  });
});
