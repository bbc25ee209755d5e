/**
 * The upstream request body's bytes (src/upstream/client.ts utf8Body): byte for byte what Buffer.from gives, for
 * every size and kind of text, and each result its own memory although the large ones pass through shared scratch.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { utf8Body } from '../../src/upstream/client.js';

const texts: Array<[string, string]> = [
  ['short ASCII', '{"model":"m","messages":[]}'],
  ['large ASCII', 'a'.repeat(50_000)],
  ['large with two-byte text', `${'x'.repeat(20_000)}→ é ü ß 中文 ${'y'.repeat(20_000)}`],
  ['large with astral characters', `${'z'.repeat(10_000)}😀🎉${'z'.repeat(10_000)}`],
  ['large with lone surrogates', `${'q'.repeat(10_000)}\ud800 and \udc00${'q'.repeat(10_000)}`],
  ['three bytes per character, more than the scratch holds', '中'.repeat(200_000)],
  ['larger than the scratch space', 'b'.repeat(600_000)],
  ['empty', ''],
];

describe('utf8Body', () => {
  for (const [name, text] of texts) {
    it(`gives Buffer.from's bytes: ${name}`, () => {
      assert.ok(utf8Body(text).equals(Buffer.from(text)));
    });
  }

  it('returns a copy: a later body does not overwrite an earlier one', () => {
    const first = `${'1'.repeat(8_000)}ü`;
    const kept = utf8Body(first);
    utf8Body(`${'2'.repeat(8_000)}ö`);
    assert.ok(kept.equals(Buffer.from(first)));
  });
});
