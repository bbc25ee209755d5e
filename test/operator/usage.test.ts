/**
 * The SQLite usage store: rows survive close and reopen (directly, and across a proxy restart), aggregates per model
 * and time bucket with latency percentiles, retention, and no prompt content in the file.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RequestRecord } from '../../src/server/context.js';
import Database from 'libsql';
import { UsageStore, percentile } from '../../src/operator/usage-store.js';
import { ScriptedUpstream } from '../support/scripted-upstream.js';
import { completion, generate, startFileProxy, stream, tempDirectory } from '../support/operator.js';
import { waitFor } from '../support/wait.js';

function record(overrides: Partial<RequestRecord> & { time: string }): RequestRecord {
  return {
    requestId: Math.random().toString(16).slice(2, 10),
    method: 'POST',
    path: '/v1beta/models/gemini-2.5-pro:generateContent',
    status: 200,
    model: 'gemini-2.5-pro',
    upstreamModel: 'big-model',
    provider: 'generic',
    stream: false,
    durationMs: 100,
    promptTokens: 10,
    outputTokens: 5,
    thoughtsTokens: 0,
    clientClosed: false,
    ...overrides,
  };
}

describe('usage store', () => {
  it('writes on its own thread: queuing never waits for the database, even while another connection locks it', () => {
    const path = join(tempDirectory('gp-usage-thread-'), 'usage.sqlite3');
    const store = new UsageStore(path, { retentionDays: 0 });
    const reader = new Database(path);
    try {
      const base = Date.UTC(2026, 0, 1, 12, 0, 0);
      const count = (): number => (reader.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n;
      // Another connection holds the write lock: an insert on this thread would wait out the 5 s busy timeout.
      reader.exec('BEGIN IMMEDIATE');
      const started = Date.now();
      // 64 rows make a full batch, handed over at once.
      for (let index = 0; index < 64; index += 1)
        store.add(record({ time: new Date(base + index).toISOString(), requestId: `thread-${index}` }));
      const queuing = Date.now() - started;
      assert.ok(queuing < 2500, `queuing a full batch waited ${queuing} ms for the locked database`);
      reader.exec('COMMIT');
      // The writer thread finishes once the lock is gone; the event loop is held here, so only it can write.
      const deadline = Date.now() + 20_000;
      let seen = count();
      while (seen < 64 && Date.now() < deadline) seen = count();
      assert.equal(seen, 64, 'the writer thread did not write the batch');
      // A flush makes the rows queued since then visible at once.
      store.add(record({ time: new Date(base + 100).toISOString(), requestId: 'after' }));
      store.flush();
      assert.equal(count(), 65);
    } finally {
      reader.close();
      store.close();
    }
  });

  it('keeps rows across close and reopen, and aggregates per model and bucket', () => {
    const path = join(tempDirectory('gp-usage-'), 'nested', 'usage.sqlite3');
    const base = Date.UTC(2026, 0, 1, 12, 0, 0);
    const store = new UsageStore(path, { retentionDays: 0 });
    for (let index = 0; index < 10; index += 1) {
      store.add(
        record({
          time: new Date(base + index * 1000).toISOString(),
          durationMs: (index + 1) * 100,
          promptTokens: 10,
          outputTokens: 5,
        }),
      );
    }
    store.add(
      record({
        time: new Date(base + 61_000).toISOString(),
        model: 'gemini-2.5-flash',
        upstreamModel: 'small-model',
        status: 429,
        errorStatus: 'RESOURCE_EXHAUSTED',
        upstreamError: 'UPSTREAM_RATE_LIMITED',
      }),
    );
    store.add(
      record({
        time: new Date(base + 62_000).toISOString(),
        model: 'gemini-2.5-flash',
        upstreamModel: 'small-model',
        status: 200,
        errorStatus: 'UNAVAILABLE',
        stream: true,
      }),
    );
    store.add(
      record({
        time: new Date(base + 63_000).toISOString(),
        model: 'gemini-2.5-flash',
        upstreamModel: 'small-model',
        status: 499,
        clientClosed: true,
      }),
    );
    store.close();

    const reopened = new UsageStore(path, { retentionDays: 0 });
    try {
      assert.equal(reopened.count(), 13);
      const recent = reopened.recent(3);
      assert.deepEqual(
        recent.map((row) => row.status),
        [429, 200, 499],
        'oldest first',
      );
      assert.equal(recent[1]?.stream, true);
      assert.equal(recent[0]?.upstreamError, 'UPSTREAM_RATE_LIMITED');

      const series = reopened.series(base, base + 120_000, 60_000);
      assert.deepEqual(series.models, ['gemini-2.5-pro', 'gemini-2.5-flash']);
      const pro = series.points.find((point) => point.model === 'gemini-2.5-pro');
      assert.deepEqual(
        {
          bucket: pro?.bucket,
          requests: pro?.requests,
          errors: pro?.errors,
          prompt: pro?.promptTokens,
          output: pro?.outputTokens,
          p50: pro?.p50Ms,
          p95: pro?.p95Ms,
          p99: pro?.p99Ms,
        },
        { bucket: base, requests: 10, errors: 0, prompt: 100, output: 50, p50: 500, p95: 1000, p99: 1000 },
      );
      const flash = series.points.find((point) => point.model === 'gemini-2.5-flash');
      assert.equal(flash?.bucket, base + 60_000);
      assert.equal(flash?.requests, 3);
      assert.equal(flash?.errors, 2, 'a 429 and a late error count; a client that went away does not');
      const totals = series.totals.find((entry) => entry.model === 'gemini-2.5-flash');
      assert.deepEqual(totals?.upstreamModels, ['small-model']);
    } finally {
      reopened.close();
    }
  });

  it('deletes rows older than the retention, at open and when the retention changes', () => {
    const path = join(tempDirectory('gp-usage-'), 'usage.sqlite3');
    const now = Date.now();
    const store = new UsageStore(path, { retentionDays: 0 });
    store.add(record({ time: new Date(now - 10 * 86_400_000).toISOString() }));
    store.add(record({ time: new Date(now - 3 * 86_400_000).toISOString() }));
    store.add(record({ time: new Date(now - 60_000).toISOString() }));
    store.close();
    const week = new UsageStore(path, { retentionDays: 7 });
    assert.equal(week.count(), 2);
    week.setRetentionDays(1);
    assert.equal(week.count(), 1);
    week.close();
  });

  it('percentile is nearest-rank', () => {
    assert.equal(percentile([], 0.5), 0);
    assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
    assert.equal(percentile([1, 2, 3, 4], 0.95), 4);
    assert.equal(percentile([7], 0.99), 7);
  });
});

describe('usage across a proxy restart', () => {
  let upstream: ScriptedUpstream;
  before(async () => {
    upstream = await new ScriptedUpstream().start();
  });
  after(async () => {
    await upstream.stop();
  });

  it('is written per request through the proxy, survives the restart, and seeds the live list', async () => {
    const directory = tempDirectory('gp-usage-restart-');
    const config = {
      openai_base_url: upstream.baseUrl,
      provider: 'generic',
      model_mapping: { 'gemini-2.5-pro': 'big-model' },
      usage: { database: join(directory, 'data', 'usage.sqlite3'), retention_days: 30 },
    };
    const first = await startFileProxy(config, directory);
    upstream.enqueue(completion('secret answer text', { prompt_tokens: 21, completion_tokens: 4, total_tokens: 25 }));
    assert.equal((await generate(first.url, 'gemini-2.5-pro')).status, 200);
    upstream.enqueue(stream('streamed', { usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } }));
    assert.equal((await generate(first.url, 'gemini-2.5-pro', { stream: true })).status, 200);
    await waitFor(() => first.operator.live.lastSeq === 2, 'two request events');
    assert.equal(first.operator.usage().persistent, true);
    await first.stop();

    const second = await startFileProxy(config, directory);
    try {
      const usage = (await (await fetch(`${second.url}/ui/api/usage?range=1h`)).json()) as {
        persistent: boolean;
        totals: Array<{
          model: string;
          requests: number;
          promptTokens: number;
          outputTokens: number;
          upstreamModels: string[];
        }>;
      };
      assert.equal(usage.persistent, true);
      assert.deepEqual(
        usage.totals.map(({ model, requests, promptTokens, outputTokens, upstreamModels }) => ({
          model,
          requests,
          promptTokens,
          outputTokens,
          upstreamModels,
        })),
        [{ model: 'gemini-2.5-pro', requests: 2, promptTokens: 30, outputTokens: 6, upstreamModels: ['big-model'] }],
      );
      const list = (await (await fetch(`${second.url}/ui/api/requests?after=0`)).json()) as {
        requests: Array<{ stored: boolean; stream: boolean; hasTrace: boolean }>;
      };
      assert.deepEqual(
        list.requests.map((entry) => ({ stored: entry.stored, stream: entry.stream, hasTrace: entry.hasTrace })),
        [
          { stored: true, stream: false, hasTrace: false },
          { stored: true, stream: true, hasTrace: false },
        ],
      );
    } finally {
      await second.stop();
    }
    const bytes = readFileSync(join(directory, 'data', 'usage.sqlite3'));
    assert.ok(
      !bytes.includes('Say hello') && !bytes.includes('secret answer text'),
      'no prompt or answer content is stored',
    );
  });
});
