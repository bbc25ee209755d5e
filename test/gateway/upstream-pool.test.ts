/**
 * The upstream pool (src/gateway/upstream-pool.ts): keys in rotation, and a circuit breaker per upstream key and
 * model driven by an injected clock — threshold, cooldown, one half-open probe at a time, success closing it, neutral
 * outcomes counting for nothing, the circuit-open report and the /health snapshot.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamPool, type UpstreamDefinition } from '../../src/gateway/upstream-pool.js';
import { PROVIDERS } from '../../src/providers/index.js';
import type { UpstreamTarget } from '../../src/upstream/endpoints.js';

const TIMEOUTS = { idleSeconds: 60, headersSeconds: 60, unarySeconds: 300, connectSeconds: 10 };

function upstream(name: string, apiKeys: string[]): UpstreamDefinition {
  return {
    name,
    provider: 'kimi',
    profile: PROVIDERS.kimi,
    baseUrl: `https://${name}.example/v1`,
    apiKeys,
    azureApiVersion: '2024-10-21',
    timeouts: TIMEOUTS,
  };
}

/** A pool of two upstreams (two keys, and none) with a clock the test moves. */
function pool(threshold = 2, cooldownMs = 1000): { pool: UpstreamPool; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  return {
    pool: new UpstreamPool(
      [upstream('main', ['key-a', 'key-b']), upstream('local', [])],
      { failureThreshold: threshold, cooldownMs },
      () => clock.now,
    ),
    clock,
  };
}

function keyOf(target: UpstreamTarget | undefined): string | undefined {
  return target?.apiKey ?? (target === undefined ? undefined : `#${String(target.keyIndex)}`);
}

const fail = (message = 'upstream main 503: overloaded') => ({ message, code: 'UPSTREAM_UNAVAILABLE' });

describe('upstream pool', () => {
  it('rotates keys round-robin; a keyless upstream still gets a target', () => {
    const { pool: p } = pool();
    assert.deepEqual(
      [1, 2, 3, 4].map(() => keyOf(p.acquire('main', 'm'))),
      ['key-a', 'key-b', 'key-a', 'key-b'],
    );
    const local = p.acquire('local', 'm');
    assert.equal(local?.apiKey, undefined);
    assert.equal(local?.keyIndex, 0);
    assert.equal(local?.upstreamName, 'local');
    assert.equal(local?.baseUrl, 'https://local.example/v1');
    assert.equal(p.acquire('nowhere', 'm'), undefined);
  });

  it("opens one key's circuit for one model after the threshold; that key is skipped, the other key and other models are not", () => {
    const { pool: p } = pool(2);
    const a = p.acquire('main', 'big');
    assert.equal(keyOf(a), 'key-a');
    assert.ok(a !== undefined);
    p.report(a, 'big', 'failure', fail());
    assert.equal(p.openCircuit('main', 'big'), undefined, 'one failure is under the threshold');
    p.report(a, 'big', 'failure', fail());
    assert.deepEqual(
      [1, 2, 3].map(() => keyOf(p.acquire('main', 'big'))),
      ['key-b', 'key-b', 'key-b'],
      'key-a is skipped for big',
    );
    assert.deepEqual(
      [1, 2].map(() => keyOf(p.acquire('main', 'small'))),
      ['key-a', 'key-b'],
      'another model on the same key is unaffected',
    );
    assert.equal(p.openCircuit('main', 'big'), undefined, 'key-b still takes big');
  });

  it('when every key is open: no target, and the open circuit reports the latest failure and the time left', () => {
    const { pool: p, clock } = pool(1, 1000);
    const a = p.acquire('main', 'm');
    const b = p.acquire('main', 'm');
    assert.ok(a !== undefined && b !== undefined);
    p.report(a, 'm', 'failure', fail('first'));
    clock.now += 200;
    p.report(b, 'm', 'failure', { message: 'second', code: 'UPSTREAM_RATE_LIMITED' });
    assert.equal(p.acquire('main', 'm'), undefined);
    assert.deepEqual(p.openCircuit('main', 'm'), {
      lastFailure: 'second',
      lastFailureCode: 'UPSTREAM_RATE_LIMITED',
      consecutiveFailures: 1,
      remainingSeconds: 0.8,
    });
    assert.equal(p.cooldownSeconds, 1);
  });

  it('after the cooldown one probe goes through at a time; its failure reopens at once, its success closes', () => {
    const { pool: p, clock } = pool(2, 1000);
    const local = p.acquire('local', 'm');
    assert.ok(local !== undefined);
    p.report(local, 'm', 'failure', fail());
    p.report(local, 'm', 'failure', fail());
    assert.equal(p.acquire('local', 'm'), undefined, 'open');
    clock.now += 999;
    assert.equal(p.acquire('local', 'm'), undefined, 'still open 1 ms before the cooldown ends');
    clock.now += 1;
    const probe = p.acquire('local', 'm');
    assert.ok(probe !== undefined, 'half-open: one probe');
    assert.equal(p.acquire('local', 'm'), undefined, 'no second request while the probe is out');
    p.report(probe, 'm', 'failure', fail());
    assert.equal(p.acquire('local', 'm'), undefined, 'one failed probe reopens, without waiting for the threshold');
    assert.ok(p.openCircuit('local', 'm') !== undefined);
    clock.now += 1000;
    const second = p.acquire('local', 'm');
    assert.ok(second !== undefined);
    p.report(second, 'm', 'success');
    assert.ok(p.acquire('local', 'm') !== undefined, 'closed');
    assert.ok(p.acquire('local', 'm') !== undefined, 'and stays closed');
  });

  it('a neutral outcome neither counts nor resets; a success resets the count', () => {
    const { pool: p } = pool(2);
    const local = (): UpstreamTarget => p.acquire('local', 'm') ?? assert.fail('no target');
    p.report(local(), 'm', 'failure', fail());
    p.report(local(), 'm', 'neutral');
    p.report(local(), 'm', 'failure', fail());
    assert.equal(p.acquire('local', 'm'), undefined, 'failure, neutral, failure opens at a threshold of 2');

    const { pool: q } = pool(2);
    const target = q.acquire('local', 'm') ?? assert.fail('no target');
    q.report(target, 'm', 'failure', fail());
    q.report(target, 'm', 'success');
    q.report(target, 'm', 'failure', fail());
    assert.ok(q.acquire('local', 'm') !== undefined, 'failure, success, failure stays closed');
  });

  it('a neutral outcome releases a probe without deciding it', () => {
    const { pool: p, clock } = pool(1, 1000);
    const target = p.acquire('local', 'm') ?? assert.fail('no target');
    p.report(target, 'm', 'failure', fail());
    clock.now += 1000;
    const probe = p.acquire('local', 'm') ?? assert.fail('no probe');
    p.report(probe, 'm', 'neutral');
    assert.ok(p.acquire('local', 'm') !== undefined, 'another probe may go');
  });

  it('the snapshot shows the worst state per key, failing models with their last failure, and only positions for keys', () => {
    const { pool: p, clock } = pool(1, 1000);
    const a = p.acquire('main', 'big') ?? assert.fail('no target');
    p.report(a, 'big', 'failure', fail('upstream main 503: overloaded'));
    const snapshot = p.snapshot();
    assert.deepEqual(snapshot['main']?.keys, [
      { key: '#0', state: 'open', consecutiveFailures: 1 },
      { key: '#1', state: 'closed', consecutiveFailures: 0 },
    ]);
    assert.deepEqual(snapshot['main']?.failing_models['big'], {
      state: 'open',
      consecutiveFailures: 1,
      last_failure: 'upstream main 503: overloaded',
      last_failure_at: new Date(clock.now).toISOString(),
    });
    assert.deepEqual(snapshot['local']?.failing_models, {});
    assert.ok(!JSON.stringify(snapshot).includes('key-a'), 'no key in the snapshot');
    assert.equal(p.isDegraded(), true);

    clock.now += 1000;
    assert.equal(p.snapshot()['main']?.keys[0]?.state, 'half-open');
    const other = p.acquire('main', 'big') ?? assert.fail('no target');
    assert.equal(other.keyIndex, 1, 'the rotation goes on to the closed key first');
    p.report(other, 'big', 'success');
    assert.equal(
      p.snapshot()['main']?.failing_models['big']?.state,
      'half-open',
      "key #1's success says nothing of #0",
    );
    const probe = p.acquire('main', 'big') ?? assert.fail('no probe');
    assert.equal(probe.keyIndex, 0);
    p.report(probe, 'big', 'success');
    assert.deepEqual(p.snapshot()['main']?.failing_models, {});
    assert.equal(p.isDegraded(), false);
  });

  it('a model with failures under the threshold counts as failing for five minutes without a success', () => {
    const { pool: p, clock } = pool(5);
    const target = p.acquire('local', '') ?? assert.fail('no target');
    p.report(target, '', 'failure', fail());
    assert.equal(p.snapshot()['local']?.failing_models['(other methods)']?.state, 'closed');
    assert.equal(p.isDegraded(), true);
    clock.now += 5 * 60_000;
    assert.equal(p.isDegraded(), false);
  });
});
