/**
 * /metrics scraped over HTTP and parsed as Prometheus text: the counters move with real requests through the proxy
 * (unary, stream, upstream error), the open-streams gauge sees a stream in progress, and the endpoint is guarded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScriptedUpstream } from '../support/scripted-upstream.js';
import {
  BAD_KEY,
  completion,
  generate,
  parsePrometheus,
  sampleSum,
  startFileProxy,
  stream,
  type FileProxy,
} from '../support/operator.js';
import { gate, waitFor } from '../support/wait.js';

const ADMIN = 'admin-key-for-metrics';

async function scrape(proxy: FileProxy, key = ADMIN): Promise<ReturnType<typeof parsePrometheus>> {
  const response = await fetch(`${proxy.url}/metrics`, { headers: { 'x-goog-api-key': key } });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await response.text());
}

describe('/metrics', () => {
  let upstream: ScriptedUpstream;
  let proxy: FileProxy;

  before(async () => {
    upstream = await new ScriptedUpstream().start();
    proxy = await startFileProxy({
      openai_base_url: upstream.baseUrl,
      provider: 'generic',
      model_mapping: { 'gemini-2.5-pro': 'big-model', 'gemini-2.5-flash': 'small-model' },
      admin_api_key: ADMIN,
      usage: { database: ':memory:' },
      logging: { enable_access_logs: true },
    });
  });
  after(async () => {
    await proxy.stop();
    await upstream.stop();
  });

  it('counts requests, latency, first chunk, tokens and upstream errors by model and upstream', async () => {
    const before = await scrape(proxy);
    assert.equal(before.types.get('gemini_proxy_requests_total'), 'counter');
    assert.equal(before.types.get('gemini_proxy_request_duration_seconds'), 'histogram');
    assert.equal(before.types.get('gemini_proxy_time_to_first_chunk_seconds'), 'histogram');
    assert.equal(before.types.get('gemini_proxy_tokens_total'), 'counter');
    assert.equal(before.types.get('gemini_proxy_upstream_errors_total'), 'counter');
    assert.equal(before.types.get('gemini_proxy_open_streams'), 'gauge');
    assert.equal(sampleSum(before.samples, 'gemini_proxy_requests_total'), 0);

    upstream.enqueue(completion('Hello', { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 }));
    assert.equal((await generate(proxy.url, 'gemini-2.5-pro')).status, 200);
    upstream.enqueue(stream('Hi', { usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } }));
    assert.equal((await generate(proxy.url, 'gemini-2.5-flash', { stream: true })).status, 200);
    upstream.enqueue(BAD_KEY);
    assert.equal((await generate(proxy.url, 'gemini-2.5-pro')).status, 403);

    // The request event fires when the response has closed.
    let after = before;
    await waitFor(async () => {
      after = await scrape(proxy);
      return sampleSum(after.samples, 'gemini_proxy_requests_total') === 3;
    }, 'three counted requests');
    const { samples } = after;
    assert.equal(
      sampleSum(samples, 'gemini_proxy_requests_total', {
        model: 'gemini-2.5-pro',
        upstream_model: 'big-model',
        provider: 'generic',
        status: '200',
        stream: 'false',
      }),
      1,
    );
    assert.equal(
      sampleSum(samples, 'gemini_proxy_requests_total', {
        model: 'gemini-2.5-flash',
        upstream_model: 'small-model',
        status: '200',
        stream: 'true',
      }),
      1,
    );
    assert.equal(sampleSum(samples, 'gemini_proxy_requests_total', { model: 'gemini-2.5-pro', status: '403' }), 1);
    assert.equal(
      sampleSum(samples, 'gemini_proxy_tokens_total', {
        model: 'gemini-2.5-pro',
        upstream_model: 'big-model',
        type: 'prompt',
      }),
      11,
    );
    assert.equal(
      sampleSum(samples, 'gemini_proxy_tokens_total', {
        model: 'gemini-2.5-pro',
        upstream_model: 'big-model',
        type: 'output',
      }),
      7,
    );
    assert.equal(
      sampleSum(samples, 'gemini_proxy_tokens_total', {
        model: 'gemini-2.5-flash',
        upstream_model: 'small-model',
        type: 'prompt',
      }),
      5,
    );
    assert.equal(
      sampleSum(samples, 'gemini_proxy_tokens_total', {
        model: 'gemini-2.5-flash',
        upstream_model: 'small-model',
        type: 'output',
      }),
      3,
    );
    assert.equal(
      sampleSum(samples, 'gemini_proxy_upstream_errors_total', { provider: 'generic', class: 'UPSTREAM_AUTH' }),
      1,
    );
    assert.equal(sampleSum(samples, 'gemini_proxy_request_duration_seconds_count'), 3);
    assert.equal(
      sampleSum(samples, 'gemini_proxy_request_duration_seconds_count', { model: 'gemini-2.5-flash', stream: 'true' }),
      1,
    );
    assert.ok(sampleSum(samples, 'gemini_proxy_request_duration_seconds_sum') > 0);
    const infBucket = sampleSum(samples, 'gemini_proxy_request_duration_seconds_bucket', { le: '+Inf' });
    assert.equal(infBucket, 3, 'every observation is in the +Inf bucket');
    assert.ok(
      sampleSum(samples, 'gemini_proxy_time_to_first_chunk_seconds_count', { model: 'gemini-2.5-flash' }) >= 1,
      'the stream has a first chunk time',
    );
    assert.ok(
      samples.some((sample) => sample.name === 'process_cpu_user_seconds_total'),
      'process metrics are included',
    );
    // Scrapes and dashboard calls leave no info-level access-log line; a path that only starts like one does.
    assert.ok(!proxy.logLines.some((line) => line.includes('"level":30') && line.includes('GET /metrics')));
    await fetch(`${proxy.url}/health`, { headers: { 'x-gemini-proxy-dashboard': '1' } });
    await fetch(`${proxy.url}/metricsx`);
    await fetch(`${proxy.url}/health?plain`);
    await waitFor(
      () => proxy.logLines.some((line) => line.includes('GET /health?plain')),
      'the access line of the plain /health call',
    );
    const infoLines = proxy.logLines.filter((line) => line.includes('"level":30'));
    assert.ok(
      infoLines.some((line) => line.includes('GET /metricsx')),
      'a look-alike path is logged',
    );
    assert.ok(!infoLines.some((line) => line.includes('GET /health - ')), 'the dashboard-internal call is not');
  });

  it('shows a stream in progress in the open-streams gauge', async () => {
    // The stream is held open after its first chunk until the gauge has been seen.
    const rest = gate();
    upstream.enqueue(stream('slow', { holdUntil: rest.opened }));
    const pending = generate(proxy.url, 'gemini-2.5-flash', { stream: true });
    await waitFor(
      async () => sampleSum((await scrape(proxy)).samples, 'gemini_proxy_open_streams') === 1,
      'one open stream',
    );
    rest.open();
    assert.equal((await pending).status, 200);
    await waitFor(
      async () => sampleSum((await scrape(proxy)).samples, 'gemini_proxy_open_streams') === 0,
      'no open stream',
    );
  });

  it('is guarded by the admin key, in the Gemini error format', async () => {
    const missing = await fetch(`${proxy.url}/metrics`);
    assert.equal(missing.status, 400);
    const body = (await missing.json()) as { error: { status: string; details: Array<{ reason: string }> } };
    assert.equal(body.error.status, 'INVALID_ARGUMENT');
    assert.equal(body.error.details[0]?.reason, 'API_KEY_INVALID');
    assert.equal((await fetch(`${proxy.url}/metrics?key=${ADMIN}`)).status, 200);
    assert.equal((await fetch(`${proxy.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).status, 200);
    assert.equal((await fetch(`${proxy.url}/metrics`, { headers: { 'x-goog-api-key': 'wrong-key-123' } })).status, 400);
  });
});

describe('/metrics settings', () => {
  it('metrics.require_key false opens it; metrics.enabled false removes it (404)', async () => {
    const open = await startFileProxy({
      openai_base_url: 'http://127.0.0.1:9/v1',
      client_api_keys: ['client-key-1234'],
      metrics: { require_key: false },
    });
    try {
      const response = await fetch(`${open.url}/metrics`);
      assert.equal(response.status, 200);
      assert.ok(parsePrometheus(await response.text()).types.has('gemini_proxy_requests_total'));
    } finally {
      await open.stop();
    }
    const off = await startFileProxy({ openai_base_url: 'http://127.0.0.1:9/v1', metrics: { enabled: false } });
    try {
      const response = await fetch(`${off.url}/metrics`);
      assert.equal(response.status, 404);
      assert.equal(((await response.json()) as { error: { status: string } }).error.status, 'NOT_FOUND');
    } finally {
      await off.stop();
    }
  });

  it('is also served under server.base_path', async () => {
    const proxy = await startFileProxy({
      openai_base_url: 'http://127.0.0.1:9/v1',
      server: { host: '127.0.0.1', port: 0, base_path: '/gemini' },
    });
    try {
      assert.equal((await fetch(`${proxy.url}/gemini/metrics`)).status, 200);
      assert.equal((await fetch(`${proxy.url}/metrics`)).status, 200);
    } finally {
      await proxy.stop();
    }
  });
});
