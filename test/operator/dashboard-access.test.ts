/**
 * Who may open the dashboard: the admin key (or the client keys when there is none); with no key at all, direct
 * loopback connections only. Refusals are Gemini-format errors. Also the JSON the page reads, and base_path.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackAddress } from '../../src/operator/access.js';
import { ScriptedUpstream } from '../support/scripted-upstream.js';
import { completion, generate, startFileProxy, tempDirectory } from '../support/operator.js';
import { waitFor } from '../support/wait.js';

const UPSTREAM = 'http://127.0.0.1:9/v1';

async function status(url: string, headers: Record<string, string> = {}): Promise<number> {
  return (await fetch(url, { headers, redirect: 'manual' })).status;
}

describe('dashboard access', () => {
  it('without any key: loopback only; another address or a forwarded request gets 403 PERMISSION_DENIED', async () => {
    const proxy = await startFileProxy({ openai_base_url: UPSTREAM });
    try {
      assert.equal(await status(`${proxy.url}/ui/`), 200);
      assert.equal(await status(`${proxy.url}/ui/api/requests`), 200);
      const forwarded = await fetch(`${proxy.url}/ui/api/requests`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      assert.equal(forwarded.status, 403);
      const body = (await forwarded.json()) as { error: { code: number; status: string; message: string } };
      assert.equal(body.error.code, 403);
      assert.equal(body.error.status, 'PERMISSION_DENIED');
      assert.match(body.error.message, /admin_api_key/);
      assert.equal(await status(`${proxy.url}/ui/`, { forwarded: 'for=203.0.113.9' }), 403, 'the page itself too');
      // A connection from another host (the address is set on the injected request's socket).
      const remote = await proxy.app.inject({ method: 'GET', url: '/ui/api/health', remoteAddress: '192.0.2.7' });
      assert.equal(remote.statusCode, 403);
      const remotePage = await proxy.app.inject({ method: 'GET', url: '/ui/', remoteAddress: '192.0.2.7' });
      assert.equal(remotePage.statusCode, 403);
      const remoteMetrics = await proxy.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '192.0.2.7' });
      assert.equal(remoteMetrics.statusCode, 403);
    } finally {
      await proxy.stop();
    }
  });

  it('with admin_api_key: the page loads without it, every data call needs it; client keys are not enough', async () => {
    const proxy = await startFileProxy({
      openai_base_url: UPSTREAM,
      client_api_keys: ['client-key-1234'],
      admin_api_key: 'admin-key-5678',
    });
    try {
      const page = await fetch(`${proxy.url}/ui/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.match(await page.text(), /<script src="app.js" defer><\/script>/);
      const refused = await fetch(`${proxy.url}/ui/api/requests`);
      assert.equal(refused.status, 400);
      assert.equal(
        ((await refused.json()) as { error: { details: Array<{ reason: string }> } }).error.details[0]?.reason,
        'API_KEY_INVALID',
      );
      assert.equal(await status(`${proxy.url}/ui/api/requests`, { 'x-goog-api-key': 'client-key-1234' }), 400);
      assert.equal(await status(`${proxy.url}/ui/api/requests`, { 'x-goog-api-key': 'admin-key-5678' }), 200);
      assert.equal(await status(`${proxy.url}/ui/api/usage?key=admin-key-5678`), 200);
      // The key works from anywhere.
      const remote = await proxy.app.inject({
        method: 'GET',
        url: '/ui/api/health',
        remoteAddress: '192.0.2.7',
        headers: { 'x-goog-api-key': 'admin-key-5678' },
      });
      assert.equal(remote.statusCode, 200);
    } finally {
      await proxy.stop();
    }
  });

  it('without admin_api_key, any client key opens it', async () => {
    const proxy = await startFileProxy({
      openai_base_url: UPSTREAM,
      client_api_keys: ['client-key-1234', 'client-key-9999'],
    });
    try {
      assert.equal(await status(`${proxy.url}/ui/api/requests`), 400);
      assert.equal(await status(`${proxy.url}/ui/api/requests`, { authorization: 'Bearer client-key-9999' }), 200);
    } finally {
      await proxy.stop();
    }
  });

  it('dashboard.enabled false: 404; /ui redirects to /ui/; base_path serves it too', async () => {
    const off = await startFileProxy({ openai_base_url: UPSTREAM, dashboard: { enabled: false } });
    try {
      assert.equal(await status(`${off.url}/ui/`), 404);
    } finally {
      await off.stop();
    }
    const proxy = await startFileProxy({
      openai_base_url: UPSTREAM,
      server: { host: '127.0.0.1', port: 0, base_path: '/gemini' },
    });
    try {
      const redirect = await fetch(`${proxy.url}/gemini/ui?key=x`, { redirect: 'manual' });
      assert.equal(redirect.status, 302);
      assert.equal(redirect.headers.get('location'), '/gemini/ui/?key=x');
      assert.equal(await status(`${proxy.url}/gemini/ui/app.js`), 200);
      assert.equal(await status(`${proxy.url}/gemini/ui/api/health`), 200);
      assert.equal(await status(`${proxy.url}/ui/`), 200);
    } finally {
      await proxy.stop();
    }
  });

  it('loopback addresses', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])
      assert.equal(isLoopbackAddress(address), true, address);
    for (const address of ['10.0.0.1', '::ffff:10.0.0.1', '192.0.2.7', '::', undefined])
      assert.equal(isLoopbackAddress(address), false, String(address));
  });
});

describe('dashboard data', () => {
  it('lists a finished request, serves its four redacted stages, usage per model, and upstream health', async () => {
    const upstream = await new ScriptedUpstream().start();
    const directory = tempDirectory('gp-dashboard-data-');
    const proxy = await startFileProxy(
      {
        openai_base_url: upstream.baseUrl,
        openai_api_key: 'sk-upstream-secret-value',
        provider: 'generic',
        model_mapping: { 'gemini-2.5-pro': 'big-model' },
        client_api_keys: ['client-key-1234'],
        logging: { enable_detailed_logs: true, log_directory: directory },
      },
      directory,
    );
    const headers = { 'x-goog-api-key': 'client-key-1234' };
    try {
      upstream.enqueue(completion('Hello there'));
      assert.equal((await generate(proxy.url, 'gemini-2.5-pro', { key: 'client-key-1234' })).status, 200);
      await waitFor(() => proxy.operator.live.lastSeq === 1, 'the request event');
      const list = (await (await fetch(`${proxy.url}/ui/api/requests?after=0`, { headers })).json()) as {
        last: number;
        detailedLogs: boolean;
        requests: Array<Record<string, unknown>>;
      };
      assert.equal(list.detailedLogs, true);
      assert.equal(list.requests.length, 1);
      const entry = list.requests[0] ?? {};
      assert.equal(entry['model'], 'gemini-2.5-pro');
      assert.equal(entry['upstreamModel'], 'big-model');
      assert.equal(entry['status'], 200);
      assert.equal(entry['stream'], false);
      assert.equal(entry['promptTokens'], 11);
      assert.equal(entry['outputTokens'], 7);
      assert.equal(entry['hasTrace'], true);
      assert.equal(entry['trace'], undefined, 'the list carries no stages');
      const none = (await (await fetch(`${proxy.url}/ui/api/requests?after=${list.last}`, { headers })).json()) as {
        requests: unknown[];
      };
      assert.equal(none.requests.length, 0, 'nothing newer');

      const detail = await fetch(`${proxy.url}/ui/api/requests/${String(entry['requestId'])}`, { headers });
      const text = await detail.text();
      assert.ok(!text.includes('sk-upstream-secret-value') && !text.includes('client-key-1234'), 'keys are redacted');
      const trace = (JSON.parse(text) as { request: { trace: Record<string, unknown> } }).request.trace;
      assert.deepEqual(
        Object.keys(trace)
          .filter((key) => /^\d_/.test(key))
          .sort(),
        ['1_GEMINI_REQUEST', '2_OPENAI_REQUEST', '3_OPENAI_RESPONSE', '4_GEMINI_RESPONSE'],
      );
      assert.equal((trace['2_OPENAI_REQUEST'] as { model: string }).model, 'big-model');
      assert.equal((await fetch(`${proxy.url}/ui/api/requests/ffffffff`, { headers })).status, 404);

      const usage = (await (await fetch(`${proxy.url}/ui/api/usage?range=15m`, { headers })).json()) as {
        range: string;
        bucketMs: number;
        points: Array<{ model: string; requests: number }>;
      };
      assert.equal(usage.range, '15m');
      assert.equal(usage.bucketMs, 15_000);
      assert.deepEqual(
        usage.points.map((point) => [point.model, point.requests]),
        [['gemini-2.5-pro', 1]],
      );

      const health = (await (await fetch(`${proxy.url}/ui/api/health?probe=1`, { headers })).json()) as {
        health: { status: string; upstream: { provider: string; probe: { reachable: boolean } } };
        recent: { requests: number; errors: number };
      };
      assert.equal(health.health.status, 'healthy');
      assert.equal(health.health.upstream.provider, 'generic');
      assert.equal(health.health.upstream.probe.reachable, true);
      assert.deepEqual(health.recent, { windowSeconds: 300, requests: 1, errors: 0 });
    } finally {
      await proxy.stop();
      await upstream.stop();
    }
  });
});
