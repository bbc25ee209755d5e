/**
 * The walk over a request's route targets (src/gateway/failover.ts) with a real UpstreamPool: each attempt's key,
 * the retry policy's decision after a failure, the breaker told the outcome, fallbacks, targets that cannot take the
 * request, and never a retry once output reached the client. Attempts are scripted outcomes, the way the caller's
 * `attempt` hook reports them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorInfo, ProxyError, retryInfo } from '../../src/errors.js';
import {
  circuitOpenError,
  failedAttemptLabel,
  runFailover,
  shortReason,
  upstreamStatusOf,
  type FailoverHooks,
  type FailoverResult,
} from '../../src/gateway/failover.js';
import type { RouteTarget } from '../../src/gateway/router.js';
import type { AttemptOutcome } from '../../src/gateway/upstream-attempt.js';
import { UpstreamPool, type UpstreamDefinition } from '../../src/gateway/upstream-pool.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { classifyUpstreamError } from '../../src/upstream/upstream-errors.js';

function upstream(name: string, keys: number): UpstreamDefinition {
  return {
    name,
    provider: 'generic',
    profile: PROVIDERS.generic,
    baseUrl: `http://${name}.invalid/v1`,
    apiKeys: Array.from({ length: keys }, (_, index) => `${name}-key-${index}`),
    azureApiVersion: '2024-10-21',
    timeouts: { idleSeconds: 60, headersSeconds: 60, unarySeconds: 300, connectSeconds: 10 },
  };
}

const ROUTES: RouteTarget[] = [
  { upstream: 'a', model: 'big' },
  { upstream: 'b', model: 'other' },
];
const SETTINGS = { attemptsPerTarget: 3, baseDelayMs: 1, maxDelaySeconds: 5 };

const done: AttemptOutcome = { kind: 'done', calls: [], reasoning: '' };
const upstreamError = (status: number, body = '{"error":{"message":"nope"}}', retryAfterHeader?: string): ProxyError =>
  classifyUpstreamError({ provider: 'a', status, body, retryAfterHeader });
const failed = (error: ProxyError): AttemptOutcome => ({ kind: 'failed', error });

interface Walk {
  result: FailoverResult;
  /** `upstream#key` per attempt made, in order. */
  calls: string[];
  /** The access-line entries runFailover wrote. */
  attempts: string[];
}

/** Runs the walk; `outcomes` answers the attempts in order (the last one repeats). */
async function walk(
  outcomes: AttemptOutcome[],
  options: {
    pool?: UpstreamPool;
    routes?: RouteTarget[];
    settings?: typeof SETTINGS;
    hooks?: Partial<FailoverHooks<RouteTarget>>;
  } = {},
): Promise<Walk> {
  const pool =
    options.pool ?? new UpstreamPool([upstream('a', 2), upstream('b', 1)], { failureThreshold: 5, cooldownMs: 60_000 });
  const calls: string[] = [];
  const attempts: string[] = [];
  const hooks: FailoverHooks<RouteTarget> = {
    prepare: async (route) => route,
    attempt: async (route, target) => {
      calls.push(`${route.upstream}#${String(target.keyIndex)}`);
      return outcomes[Math.min(calls.length - 1, outcomes.length - 1)] ?? done;
    },
    clientGone: () => false,
    timedOut: () => false,
    clientRetries: false,
    signal: new AbortController().signal,
    ...options.hooks,
  };
  const result = await runFailover(options.routes ?? ROUTES, pool, options.settings ?? SETTINGS, hooks, attempts);
  return { result, calls, attempts };
}

describe('failover walk', () => {
  it('the first target answers: done, one attempt, logged as ok', async () => {
    const { result, calls, attempts } = await walk([done]);
    assert.deepEqual(result, { kind: 'done', outcome: done, routeIndex: 0 });
    assert.deepEqual(calls, ['a#0']);
    assert.deepEqual(attempts, ['a#0:ok']);
  });

  it('a 503 is retried on the same upstream (its next key), then succeeds', async () => {
    const { result, calls, attempts } = await walk([failed(upstreamError(503)), done]);
    assert.equal(result.kind, 'done');
    assert.deepEqual(calls, ['a#0', 'a#1']);
    assert.equal(attempts.length, 2);
    assert.match(attempts[0] ?? '', /^a#0:503 \(/);
    assert.equal(attempts[1], 'a#1:ok');
  });

  it('after attempts_per_target failures it falls back to the next target', async () => {
    const { result, calls } = await walk([
      failed(upstreamError(503)),
      failed(upstreamError(503)),
      failed(upstreamError(503)),
      done,
    ]);
    assert.deepEqual(result, { kind: 'done', outcome: done, routeIndex: 1 });
    assert.deepEqual(calls, ['a#0', 'a#1', 'a#0', 'b#0']);
  });

  it('a client that retries itself: no retry here, straight to the next target', async () => {
    const { calls } = await walk([failed(upstreamError(503)), done], { hooks: { clientRetries: true } });
    assert.deepEqual(calls, ['a#0', 'b#0']);
  });

  it('a deterministic 400 stops the walk: no retry, no fallback', async () => {
    const error = upstreamError(400);
    const { result, calls } = await walk([failed(error), done]);
    assert.deepEqual(result, { kind: 'failed', error });
    assert.deepEqual(calls, ['a#0']);
  });

  it('a balance error tries the other key at once, then the next target', async () => {
    const balance = failed(upstreamError(402, '{"error":{"message":"Insufficient Balance"}}'));
    const started = Date.now();
    const { result, calls } = await walk([balance, balance, done], { settings: { ...SETTINGS, baseDelayMs: 10_000 } });
    assert.equal(result.kind, 'done');
    assert.deepEqual(calls, ['a#0', 'a#1', 'b#0']);
    assert.ok(Date.now() - started < 5000, 'no backoff wait before another key');
  });

  it('a 404 for the model moves to the next target without counting against the circuit', async () => {
    const pool = new UpstreamPool([upstream('a', 1), upstream('b', 1)], { failureThreshold: 1, cooldownMs: 60_000 });
    const { calls } = await walk([failed(upstreamError(404)), done], { pool });
    assert.deepEqual(calls, ['a#0', 'b#0']);
    assert.equal(pool.openCircuit('a', 'big'), undefined);
  });

  it('a Retry-After beyond max_delay_seconds moves on instead of waiting', async () => {
    const { calls } = await walk([failed(upstreamError(429, '{"error":{"message":"slow"}}', '60')), done]);
    assert.deepEqual(calls, ['a#0', 'b#0']);
  });

  it('with no target left, the last error is the answer', async () => {
    const last = upstreamError(503, '{"error":{"message":"still down"}}');
    const { result, calls } = await walk([failed(last)], { settings: { ...SETTINGS, attemptsPerTarget: 1 } });
    assert.deepEqual(result, { kind: 'failed', error: last });
    assert.deepEqual(calls, ['a#0', 'b#0']);
  });

  it('a failure after output is never retried: broken, at once', async () => {
    const error = upstreamError(503);
    const { result, calls } = await walk([{ kind: 'broken', error }, done]);
    assert.deepEqual(result, { kind: 'broken', error });
    assert.deepEqual(calls, ['a#0']);
  });

  it('a target that cannot take the request is skipped and logged as untranslatable', async () => {
    const refusal = new ProxyError('UNSUPPORTED_FEATURE', 'images are not supported by a');
    const { result, calls, attempts } = await walk([done], {
      hooks: {
        prepare: async (route) => {
          if (route.upstream === 'a') throw refusal;
          return route;
        },
      },
    });
    assert.deepEqual(result, { kind: 'done', outcome: done, routeIndex: 1 });
    assert.deepEqual(calls, ['b#0']);
    assert.deepEqual(attempts, ['a:untranslatable', 'b#0:ok']);
    const none = await walk([done], {
      hooks: {
        prepare: async () => {
          throw refusal;
        },
      },
    });
    assert.deepEqual(none.result, { kind: 'failed', error: refusal });
  });

  it('the client leaving ends the walk as abandoned, and the breaker is not told a failure', async () => {
    const pool = new UpstreamPool([upstream('a', 1), upstream('b', 1)], { failureThreshold: 1, cooldownMs: 60_000 });
    const { result } = await walk([failed(upstreamError(503))], { pool, hooks: { clientGone: () => true } });
    assert.deepEqual(result, { kind: 'abandoned' });
    assert.equal(pool.openCircuit('a', 'big'), undefined);
  });

  it('a request past its deadline stops, and its failure does not count against the circuit', async () => {
    const pool = new UpstreamPool([upstream('a', 1), upstream('b', 1)], { failureThreshold: 1, cooldownMs: 60_000 });
    const { result, calls } = await walk([failed(upstreamError(503))], { pool, hooks: { timedOut: () => true } });
    assert.equal(result.kind, 'failed');
    assert.deepEqual(calls, ['a#0']);
    assert.equal(pool.openCircuit('a', 'big'), undefined);
  });

  it('a backoff wait ends at once when the request is aborted (deadline passed or client gone)', async () => {
    const controller = new AbortController();
    controller.abort();
    const started = Date.now();
    const { result, calls } = await walk([failed(upstreamError(503)), done], {
      settings: { ...SETTINGS, baseDelayMs: 4000 },
      hooks: { signal: controller.signal },
    });
    assert.equal(result.kind, 'failed');
    assert.deepEqual(calls, ['a#0'], 'no second attempt after the aborted wait');
    assert.ok(Date.now() - started < 2500, `waited ${Date.now() - started} ms for a backoff of 3–5 s`);
  });

  it('the failure that opens the circuit becomes the circuit-open answer; the next request does not call at all', async () => {
    const pool = new UpstreamPool([upstream('a', 1), upstream('b', 1)], { failureThreshold: 1, cooldownMs: 60_000 });
    const routes = [{ upstream: 'a', model: 'big' }];
    const first = await walk([failed(upstreamError(503))], { pool, routes });
    assert.ok(first.result.kind === 'failed');
    assert.equal(first.result.error?.code, 'UPSTREAM_CIRCUIT_OPEN');
    const second = await walk([done], { pool, routes });
    assert.deepEqual(second.calls, []);
    assert.deepEqual(second.attempts, ['a:circuit-open']);
    assert.ok(second.result.kind === 'failed');
    assert.equal(second.result.error?.code, 'UPSTREAM_CIRCUIT_OPEN');
    assert.equal(second.result.error?.httpStatus, 400);
    const withFallback = await walk([done], { pool });
    assert.deepEqual(withFallback.calls, ['b#0'], 'an open circuit sends the request to the fallback');
  });
});

describe('failover labels and the circuit-open answer', () => {
  const route = { upstream: 'kimi', model: 'kimi-k2.5' };

  it("the attempt label: the upstream's own status and the reason without the prefix", () => {
    const error = classifyUpstreamError({
      provider: 'kimi',
      status: 429,
      body: '{"error":{"message":"Your account reached max RPM","type":"rate_limit_reached_error"}}',
    });
    assert.equal(upstreamStatusOf(error), '429');
    const label = failedAttemptLabel('kimi', 1, error);
    assert.match(label, /^kimi#1:429 \(/);
    assert.ok(!label.includes('upstream kimi 429'), label);
    assert.match(label, /max RPM/);
  });

  it('a network error that never got a status is named by its code', () => {
    const error = new ProxyError('UPSTREAM_UNREACHABLE', 'upstream local: connection refused', [
      errorInfo('UPSTREAM_UNREACHABLE', { network_error: 'ECONNREFUSED' }),
    ]);
    assert.equal(upstreamStatusOf(error), '400');
    assert.match(failedAttemptLabel('local', 0, error), /^local#0:ECONNREFUSED \(/);
  });

  it('the short reason is one line of at most 80 characters', () => {
    // The upstream's own words (ProxyError.logReason) when it answered with a body…
    const error = new ProxyError(
      'UPSTREAM_UNAVAILABLE',
      'Upstream main (kimi) is overloaded or unavailable (503).',
      [],
      'overloaded\n'.repeat(20),
    );
    const reason = shortReason(error);
    assert.ok(reason.length <= 80, reason);
    assert.ok(!reason.includes('\n'));
    assert.match(reason, /^overloaded overloaded/);
    // …else the sentence without its "Upstream NAME at URL" subject and full stop.
    const network = new ProxyError(
      'UPSTREAM_UNAVAILABLE',
      'Upstream main (kimi) at https://api.moonshot.ai/v1 closed the connection unexpectedly.',
    );
    assert.equal(shortReason(network), 'closed the connection unexpectedly');
  });

  it('open after a terminal-for-the-client failure (bad key): the same answer, without a call', () => {
    const error = circuitOpenError(
      route,
      {
        lastFailure: 'upstream kimi 401: Invalid Authentication',
        lastFailureCode: 'UPSTREAM_AUTH',
        consecutiveFailures: 5,
        remainingSeconds: 20,
      },
      30,
    );
    assert.equal(error.code, 'UPSTREAM_AUTH');
    assert.equal(error.httpStatus, 403);
    assert.equal(error.message, 'upstream kimi 401: Invalid Authentication');
  });

  it('open after rate limits: still a 429, with the remaining cooldown as RetryInfo', () => {
    const error = circuitOpenError(
      route,
      {
        lastFailure: 'upstream kimi 429: slow down',
        lastFailureCode: 'UPSTREAM_RATE_LIMITED',
        consecutiveFailures: 5,
        remainingSeconds: 12.2,
      },
      30,
    );
    assert.equal(error.httpStatus, 429);
    assert.deepEqual(error.details[0], retryInfo(12.2));
  });

  it('open after outages: 400 FAILED_PRECONDITION naming the upstream status, the model and the cooldown', () => {
    const error = circuitOpenError(
      route,
      {
        lastFailure: 'upstream kimi 503: overloaded',
        lastFailureCode: 'UPSTREAM_UNAVAILABLE',
        consecutiveFailures: 5,
        remainingSeconds: 30,
      },
      30,
    );
    assert.equal(error.code, 'UPSTREAM_CIRCUIT_OPEN');
    assert.equal(error.httpStatus, 400);
    assert.equal(error.status, 'FAILED_PRECONDITION');
    for (const part of ['503', 'overloaded', 'kimi-k2.5', '30 s']) assert.ok(error.message.includes(part), part);
  });
});
