/**
 * Pooled random ids: the same formats as `randomBytes(n).toString(…)`, no repeats, correct across pool refills.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomBase64url, randomHex } from '../../src/server/random-ids.js';

describe('random ids', () => {
  it('has the formats of randomBytes(4) hex and randomBytes(12) base64url', () => {
    assert.match(randomHex(4), /^[0-9a-f]{8}$/);
    assert.match(randomBase64url(12), /^[A-Za-z0-9_-]{16}$/);
  });

  it('does not repeat across many pool refills', () => {
    const seen = new Set<string>();
    // 20,000 × 12 bytes spans ~60 refills of the 4 KB pool, with draws straddling every boundary.
    for (let index = 0; index < 20_000; index += 1) {
      const id = index % 3 === 0 ? randomHex(4) + randomHex(8) : randomBase64url(12);
      assert.ok(!seen.has(id), `repeated id ${id}`);
      seen.add(id);
    }
  });

  it('refuses a size larger than the pool', () => {
    assert.throws(() => randomHex(5000), RangeError);
  });
});
