/**
 * The retry policy as a table: each error class with the state it fails in → the decision. Pure, so the jitter is
 * pinned (random 0.5 = no jitter).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProxyError, retryInfo, type ErrorCode } from '../../src/errors.js';
import {
  decideAfterFailure,
  FAILURE_RULES,
  retryAfterSeconds,
  type FailureState,
  type RetryDecision,
} from '../../src/gateway/retry-policy.js';

const settings = { attemptsPerTarget: 3, baseDelayMs: 300, maxDelaySeconds: 5 };
const first: FailureState = { attempt: 1, keysTried: 1, keyCount: 2, timedOut: false, clientRetries: false };

const rows: Array<{
  name: string;
  code: ErrorCode;
  state?: Partial<FailureState>;
  retryAfter?: number;
  expected: RetryDecision;
}> = [
  {
    name: '503 → same target after the base delay',
    code: 'UPSTREAM_UNAVAILABLE',
    expected: { kind: 'retry', delayMs: 300 },
  },
  {
    name: '503, second attempt → doubled backoff',
    code: 'UPSTREAM_UNAVAILABLE',
    state: { attempt: 2 },
    expected: { kind: 'retry', delayMs: 600 },
  },
  {
    name: '503, last attempt on this target → next target',
    code: 'UPSTREAM_UNAVAILABLE',
    state: { attempt: 3 },
    expected: { kind: 'next-target' },
  },
  {
    name: '503 for a client that retries itself (Gemini CLI) → next target, no retry here',
    code: 'UPSTREAM_UNAVAILABLE',
    state: { clientRetries: true },
    expected: { kind: 'next-target' },
  },
  {
    name: 'connection refused / DNS / TLS → next target, never the same one again',
    code: 'UPSTREAM_UNREACHABLE',
    expected: { kind: 'next-target' },
  },
  {
    name: 'balance for a client that retries itself → still the other key',
    code: 'UPSTREAM_INSUFFICIENT_BALANCE',
    state: { clientRetries: true },
    expected: { kind: 'other-key' },
  },
  { name: '504 timeout → retried', code: 'UPSTREAM_TIMEOUT', expected: { kind: 'retry', delayMs: 300 } },
  { name: '502 protocol → retried', code: 'UPSTREAM_PROTOCOL', expected: { kind: 'retry', delayMs: 300 } },
  {
    name: '429 with Retry-After 2 s → waits 2 s',
    code: 'UPSTREAM_RATE_LIMITED',
    retryAfter: 2,
    expected: { kind: 'retry', delayMs: 2000 },
  },
  {
    name: '429 with Retry-After beyond max_delay → next target',
    code: 'UPSTREAM_RATE_LIMITED',
    retryAfter: 30,
    expected: { kind: 'next-target' },
  },
  { name: 'balance → the other key', code: 'UPSTREAM_INSUFFICIENT_BALANCE', expected: { kind: 'other-key' } },
  {
    name: 'balance, every key tried → next target',
    code: 'UPSTREAM_INSUFFICIENT_BALANCE',
    state: { keysTried: 2 },
    expected: { kind: 'next-target' },
  },
  { name: 'credentials rejected → the other key', code: 'UPSTREAM_AUTH', expected: { kind: 'other-key' } },
  { name: 'model not found upstream → next target', code: 'UPSTREAM_NOT_FOUND', expected: { kind: 'next-target' } },
  { name: 'upstream 400 → terminal', code: 'UPSTREAM_REJECTED', expected: { kind: 'terminal' } },
  { name: 'internal error → terminal', code: 'INTERNAL', expected: { kind: 'terminal' } },
  {
    name: 'request deadline passed → terminal whatever the class',
    code: 'UPSTREAM_UNAVAILABLE',
    state: { timedOut: true },
    expected: { kind: 'terminal' },
  },
];

describe('retry policy', () => {
  for (const row of rows) {
    it(row.name, () => {
      const error = new ProxyError(row.code, 'x', row.retryAfter === undefined ? [] : [retryInfo(row.retryAfter)]);
      assert.deepEqual(
        decideAfterFailure(error, { ...first, ...row.state }, settings, () => 0.5),
        row.expected,
      );
    });
  }

  it('jitter stays within ±25 % of the backoff', () => {
    const error = new ProxyError('UPSTREAM_UNAVAILABLE', 'x');
    assert.deepEqual(
      decideAfterFailure(error, first, settings, () => 0),
      { kind: 'retry', delayMs: 225 },
    );
    const high = decideAfterFailure(error, first, settings, () => 0.999_999);
    assert.deepEqual(high, { kind: 'retry', delayMs: 375 });
  });

  it('only transient and per-key failures count against the breaker', () => {
    const counted = Object.entries(FAILURE_RULES)
      .filter(([, rule]) => rule.breaker === 'failure')
      .map(([code]) => code)
      .sort();
    assert.deepEqual(counted, [
      'UPSTREAM_AUTH',
      'UPSTREAM_INSUFFICIENT_BALANCE',
      'UPSTREAM_PROTOCOL',
      'UPSTREAM_RATE_LIMITED',
      'UPSTREAM_TIMEOUT',
      'UPSTREAM_UNAVAILABLE',
      'UPSTREAM_UNREACHABLE',
    ]);
  });

  it('reads RetryInfo in seconds and milliseconds', () => {
    assert.equal(retryAfterSeconds(new ProxyError('UPSTREAM_RATE_LIMITED', 'x', [retryInfo(17)])), 17);
    assert.equal(
      retryAfterSeconds(
        new ProxyError('UPSTREAM_RATE_LIMITED', 'x', [
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '500ms' },
        ]),
      ),
      0.5,
    );
    assert.equal(retryAfterSeconds(new ProxyError('UPSTREAM_RATE_LIMITED', 'x')), undefined);
  });
});
