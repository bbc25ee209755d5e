import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { CounterFamily, HistogramFamily } from '../../src/operator/prom-text.js';

const BOUNDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Deterministic pseudo-random observations: label values (with characters that need escaping) and amounts. */
function* observations(count: number): Generator<{ labels: [string, string, string]; value: number }> {
  const models = ['gemini-2.5-pro', 'a "quoted" model', 'back\\slash', 'new\nline', 'other'];
  let seed = 7;
  for (let index = 0; index < count; index += 1) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const model = models[seed % models.length] ?? 'other';
    const status = seed % 3 === 0 ? '429' : '200';
    const stream = seed % 2 === 0 ? 'true' : 'false';
    yield { labels: [model, status, stream], value: (seed % 10_000) / 1234 };
  }
}

describe('Prometheus text of the request metrics', () => {
  it('is byte for byte what prom-client writes for the same counter and histogram observations', async () => {
    const registry = new Registry();
    const help = 'Help with a \\ backslash and a\nnewline.';
    const counter = new Counter({
      name: 't_requests_total',
      help,
      labelNames: ['model', 'status', 'stream'],
      registers: [registry],
    });
    const histogram = new Histogram({
      name: 't_duration_seconds',
      help,
      labelNames: ['model', 'status', 'stream'],
      buckets: BOUNDS,
      registers: [registry],
    });
    const ownCounter = new CounterFamily('t_requests_total', help, ['model', 'status', 'stream']);
    const ownHistogram = new HistogramFamily('t_duration_seconds', help, ['model', 'status', 'stream'], BOUNDS);
    for (const { labels, value } of observations(500)) {
      const [model, status, stream] = labels;
      counter.inc({ model, status, stream }, value);
      histogram.observe({ model, status, stream }, value);
      ownCounter.inc(labels, value);
      ownHistogram.observe(labels, value);
    }
    const expected = await registry.metrics();
    assert.equal(`${ownCounter.render()}\n\n${ownHistogram.render()}\n`, expected);
    assert.match(expected, /model="a \\"quoted\\" model"/, 'the sample covers escaping');
    assert.match(expected, /le="\+Inf"/);
  });

  it('writes only HELP and TYPE before the first observation, as prom-client does', async () => {
    const registry = new Registry();
    new Counter({ name: 't_empty_total', help: 'Nothing yet.', labelNames: ['model'], registers: [registry] });
    assert.equal(
      `${new CounterFamily('t_empty_total', 'Nothing yet.', ['model']).render()}\n`,
      await registry.metrics(),
    );
  });

  it('counts a value above the last bound only in +Inf, and one on a bound in that bound', () => {
    const family = new HistogramFamily('t_h', 'h', ['m'], [1, 2]);
    family.observe(['x'], 2);
    family.observe(['x'], 9);
    assert.deepEqual(family.render().split('\n').slice(2), [
      't_h_bucket{le="1",m="x"} 0',
      't_h_bucket{le="2",m="x"} 1',
      't_h_bucket{le="+Inf",m="x"} 2',
      't_h_sum{m="x"} 11',
      't_h_count{m="x"} 2',
    ]);
  });
});
