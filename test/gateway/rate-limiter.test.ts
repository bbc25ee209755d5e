/**
 * Per-client limits as token buckets (src/gateway/rate-limiter.ts) on the in-memory store with an injected clock:
 * requests and tokens per minute, continuous refill, the wait an exhausted bucket answers with, a request larger than
 * the whole budget, and usage settled against the estimate.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryRateLimiterStore, RateLimiter, type LimitDecision } from '../../src/gateway/rate-limiter.js';

function limiter(): { limiter: RateLimiter; clock: { now: number } } {
  const clock = { now: 0 };
  return { limiter: new RateLimiter(new MemoryRateLimiterStore(() => clock.now)), clock };
}

const allowed: LimitDecision = { allowed: true };

describe('rate limiter', () => {
  it('no limits: everything passes', async () => {
    const { limiter: l } = limiter();
    for (let i = 0; i < 100; i += 1)
      assert.deepEqual(await l.admit('c', { requestsPerMinute: 0, tokensPerMinute: 0 }, 1e9), allowed);
  });

  it('requests per minute: a full bucket, then a refusal naming the wait until one request refills', async () => {
    const { limiter: l, clock } = limiter();
    const limits = { requestsPerMinute: 2, tokensPerMinute: 0 };
    assert.deepEqual(await l.admit('c', limits, 10), allowed);
    assert.deepEqual(await l.admit('c', limits, 10), allowed);
    assert.deepEqual(await l.admit('c', limits, 10), { allowed: false, limit: 'requests', retryAfterSeconds: 30 });
    clock.now += 15_000;
    const halfway = await l.admit('c', limits, 10);
    assert.equal(halfway.allowed, false);
    assert.equal(!halfway.allowed && halfway.retryAfterSeconds, 15, 'half a request refilled after 15 s');
    clock.now += 15_000;
    assert.deepEqual(await l.admit('c', limits, 10), allowed, 'one request refilled after 30 s');
  });

  it('clients have buckets of their own', async () => {
    const { limiter: l } = limiter();
    const limits = { requestsPerMinute: 1, tokensPerMinute: 0 };
    assert.deepEqual(await l.admit('a', limits, 1), allowed);
    assert.equal((await l.admit('a', limits, 1)).allowed, false);
    assert.deepEqual(await l.admit('b', limits, 1), allowed);
  });

  it('a bucket refills to its capacity, never beyond', async () => {
    const { limiter: l, clock } = limiter();
    const limits = { requestsPerMinute: 3, tokensPerMinute: 0 };
    assert.deepEqual(await l.admit('c', limits, 1), allowed);
    clock.now += 60 * 60_000;
    const decisions = [];
    for (let i = 0; i < 4; i += 1) decisions.push((await l.admit('c', limits, 1)).allowed);
    assert.deepEqual(decisions, [true, true, true, false]);
  });

  it('tokens per minute: the estimate is taken up front; a refusal hands the request token back', async () => {
    const { limiter: l } = limiter();
    const limits = { requestsPerMinute: 2, tokensPerMinute: 1000 };
    assert.deepEqual(await l.admit('c', limits, 800), allowed);
    assert.deepEqual(await l.admit('c', limits, 300), { allowed: false, limit: 'tokens', retryAfterSeconds: 6 });
    assert.deepEqual(await l.admit('c', limits, 200), allowed, 'the refused request did not use up a request');
  });

  it('a request larger than the whole budget needs only a full bucket, and then empties it', async () => {
    const { limiter: l, clock } = limiter();
    const limits = { requestsPerMinute: 0, tokensPerMinute: 1000 };
    assert.deepEqual(await l.admit('c', limits, 5000), allowed);
    const next = await l.admit('c', limits, 100);
    assert.equal(next.allowed, false);
    // The bucket went to 1000 − 5000 = −4000: 4100 tokens to refill at 1000 a minute.
    assert.ok(!next.allowed && Math.abs(next.retryAfterSeconds - 246) < 1e-6, JSON.stringify(next));
    clock.now += 246_001;
    assert.deepEqual(await l.admit('c', limits, 100), allowed);
  });

  it('settling charges the real usage: less than estimated gives tokens back, more takes them', async () => {
    const { limiter: l } = limiter();
    const limits = { requestsPerMinute: 0, tokensPerMinute: 1000 };
    assert.deepEqual(await l.admit('c', limits, 900), allowed);
    await l.settle('c', limits, 900, 100);
    assert.deepEqual(await l.admit('c', limits, 800), allowed, '800 given back');

    const { limiter: m } = limiter();
    assert.deepEqual(await m.admit('c', limits, 100), allowed);
    await m.settle('c', limits, 100, 900);
    const refused = await m.admit('c', limits, 200);
    assert.equal(refused.allowed, false, 'the real 900 leaves 100');
  });

  it('settling without a token limit, or with the estimate exact, changes nothing', async () => {
    const { limiter: l } = limiter();
    const limits = { requestsPerMinute: 1, tokensPerMinute: 0 };
    assert.deepEqual(await l.admit('c', limits, 10), allowed);
    await l.settle('c', limits, 10, 0);
    assert.equal((await l.admit('c', limits, 10)).allowed, false);
  });
});
