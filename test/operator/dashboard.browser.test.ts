/**
 * The dashboard in real headless Chromium (Debian's /usr/bin/chromium, installed by scripts/install-test-deps.sh;
 * driven by playwright-core, which downloads no browser): it loads, asks for the key, lists a request just made
 * through the proxy, opens its four stages side by side, and draws the charts from the usage store. The page must run
 * without a console error (so without a Content-Security-Policy violation). The screenshot is kept in
 * test-artifacts/dashboard.png; with UPDATE_DOCS_SCREENSHOT=1 it also replaces docs/dashboard.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import type { RequestRecord } from '../../src/server/context.js';
import { UsageStore } from '../../src/operator/usage-store.js';
import { launchChromium, pageProblems } from '../support/chromium.js';
import { ScriptedUpstream } from '../support/scripted-upstream.js';
import {
  BAD_KEY,
  USER_TURN,
  completion,
  startFileProxy,
  stream,
  tempDirectory,
  type FileProxy,
} from '../support/operator.js';

const ADMIN_KEY = 'dashboard-admin-key';
const UPSTREAM_KEY = 'sk-upstream-never-shown';

/** An hour of earlier traffic for two models, as a previous run of the proxy would have stored it. */
function seedHistory(path: string): void {
  const store = new UsageStore(path, { retentionDays: 30 });
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const now = Date.now();
  for (let minute = 58; minute >= 2; minute -= 1) {
    const models: Array<[string, string, number, number]> = [
      ['gemini-2.5-pro', 'kimi-k2.5', 2 + Math.round(3 * random() + 2 * Math.sin(minute / 6)), 2200],
      ['gemini-3.5-flash-lite', 'kimi-k2-turbo-preview', 1 + Math.round(2 * random()), 600],
    ];
    for (const [model, upstreamModel, count, typical] of models) {
      for (let index = 0; index < count; index += 1) {
        const failed = random() < 0.04;
        const record: RequestRecord = {
          requestId: Math.floor(random() * 0xffffffff)
            .toString(16)
            .padStart(8, '0'),
          time: new Date(now - minute * 60_000 + Math.floor(random() * 50_000)).toISOString(),
          method: 'POST',
          path: `/v1beta/models/${model}:streamGenerateContent`,
          status: failed ? 429 : 200,
          model,
          upstreamModel,
          provider: 'kimi',
          stream: model === 'gemini-2.5-pro',
          durationMs: typical * (0.5 + random() * 1.5),
          firstChunkMs: typical * 0.3 * (0.5 + random()),
          promptTokens: failed ? 0 : Math.round(1500 + random() * 9000),
          outputTokens: failed ? 0 : Math.round(80 + random() * 900),
          thoughtsTokens: failed ? 0 : Math.round(random() * 300),
          clientClosed: false,
        };
        if (failed) {
          record.errorStatus = 'RESOURCE_EXHAUSTED';
          record.upstreamError = 'UPSTREAM_RATE_LIMITED';
        }
        store.add(record);
      }
    }
  }
  store.close();
}

describe('dashboard in headless Chromium', () => {
  let upstream: ScriptedUpstream;
  let proxy: FileProxy;
  let browser: BrowserContext;
  let requestId = '';

  before(async () => {
    const directory = tempDirectory('gp-dashboard-');
    const database = join(directory, 'usage.sqlite3');
    seedHistory(database);
    upstream = await new ScriptedUpstream().start();
    proxy = await startFileProxy(
      {
        openai_base_url: upstream.baseUrl,
        openai_api_key: UPSTREAM_KEY,
        provider: 'generic',
        model_mapping: { 'gemini-2.5-pro': 'kimi-k2.5', 'gemini-*-flash-lite*': 'kimi-k2-turbo-preview' },
        admin_api_key: ADMIN_KEY,
        logging: { enable_detailed_logs: true, log_directory: directory },
        usage: { database },
      },
      directory,
    );
    // Requests just made through the proxy: a stream, an upstream failure, and the unary one the test opens.
    upstream.enqueue(
      stream('Streaming hello', { usage: { prompt_tokens: 1200, completion_tokens: 40, total_tokens: 1240 } }),
    );
    await (
      await fetch(`${proxy.url}/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse`, {
        method: 'POST',
        body: JSON.stringify(USER_TURN),
      })
    ).text();
    upstream.enqueue(BAD_KEY);
    await (
      await fetch(`${proxy.url}/v1beta/models/gemini-3.5-flash-lite:generateContent`, {
        method: 'POST',
        body: JSON.stringify(USER_TURN),
      })
    ).text();
    upstream.enqueue(
      completion('Hello from the upstream', { prompt_tokens: 321, completion_tokens: 12, total_tokens: 333 }),
    );
    const response = await fetch(`${proxy.url}/v1beta/models/gemini-2.5-pro:generateContent?key=${UPSTREAM_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(USER_TURN),
    });
    assert.equal(response.status, 200, await response.text());
    requestId = response.headers.get('x-request-id') ?? '';
    assert.match(requestId, /^[0-9a-f]{8}$/);

    browser = await launchChromium('gp-chromium-profile-', { width: 1440, height: 1000 });
  });

  after(async () => {
    await browser?.close();
    await proxy?.stop();
    await upstream?.stop();
  });

  it('asks for the key, lists the request, opens its four stages, draws the charts', async () => {
    const page = await browser.newPage();
    // The refused data calls before the key is given are this test's own 400s.
    const problems = pageProblems(page, /status of 400/);
    await page.goto(`${proxy.url}/ui`);
    assert.equal(new URL(page.url()).pathname, '/ui/');

    // Without the key the data calls are refused and the page says so.
    await page.locator('#auth-message').waitFor({ state: 'visible' });
    assert.match((await page.locator('#auth-message').textContent()) ?? '', /needs a key/);
    await page.fill('#key', ADMIN_KEY);
    await page.click('#login button[type=submit]');
    await page.locator('#auth-message').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate("sessionStorage.getItem('gemini-proxy.dashboard-key')"), ADMIN_KEY);

    // The request just made, with its models, status, tokens.
    const row = page.locator(`#requests tbody tr[data-request-id="${requestId}"]`);
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[1], '200');
    assert.equal(cells[2], 'gemini-2.5-pro→kimi-k2.5');
    assert.equal(cells[3], 'unary');
    assert.equal(cells[6], '321 / 12 / 0');
    assert.ok(
      (await page.locator('#requests tbody tr').count()) >= 3 + 100,
      'the stored history and the new requests are listed',
    );
    const failed = page
      .locator('#requests tbody tr', { hasText: 'gemini-3.5-flash-lite→kimi-k2-turbo-preview' })
      .first();
    assert.match((await failed.locator('td').nth(1).textContent()) ?? '', /^403 PERMISSION_DENIED$/);

    // Its four stages, side by side, redacted.
    await row.click();
    await page.locator('#stages .stage').nth(3).waitFor({ state: 'visible' });
    assert.equal(await page.locator('#stages .stage').count(), 4);
    const stage = (name: string) => page.locator(`#stages .stage[data-stage="${name}"] pre`).textContent();
    assert.match((await stage('1_GEMINI_REQUEST')) ?? '', /Say hello/);
    assert.match((await stage('2_OPENAI_REQUEST')) ?? '', /"model": "kimi-k2\.5"/);
    assert.match((await stage('3_OPENAI_RESPONSE')) ?? '', /Hello from the upstream/);
    assert.match((await stage('4_GEMINI_RESPONSE')) ?? '', /"finishReason": "STOP"/);
    const boxes = await page
      .locator('#stages .stage')
      .evaluateAll((nodes) => nodes.map((node) => node.getBoundingClientRect().top));
    assert.equal(new Set(boxes.map(Math.round)).size, 1, 'the four stages are side by side');
    assert.ok(!(await page.content()).includes(UPSTREAM_KEY), 'no key on the page');

    // Charts drawn from the usage store (the stored hour plus the new requests), per model.
    await page.locator('#chart-requests svg polyline').first().waitFor({ state: 'attached' });
    for (const chart of ['requests', 'tokens', 'latency']) {
      const series = await page
        .locator(`#chart-${chart} svg polyline`)
        .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-series')));
      assert.ok(
        series.includes('gemini-2.5-pro') && series.includes('gemini-3.5-flash-lite'),
        `${chart}: a line per model (${series.join(', ')})`,
      );
    }
    const points = await page
      .locator('#chart-requests svg polyline[data-series="gemini-2.5-pro"]')
      .getAttribute('points');
    assert.ok((points ?? '').split(' ').length >= 50, 'an hour of one-minute buckets');
    const totals = await page.locator('#totals tbody tr').allTextContents();
    assert.ok(totals.some((text) => text.startsWith('gemini-2.5-prokimi-k2.5')));
    assert.match((await page.locator('#health-text').textContent()) ?? '', /^generic: /);

    await page.selectOption('#percentile', 'p99Ms');
    assert.equal(await page.locator('#chart-latency figcaption').textContent(), 'Latency (p99)');

    mkdirSync('test-artifacts', { recursive: true });
    await page.locator('#detail').scrollIntoViewIfNeeded();
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: 'test-artifacts/dashboard.png', fullPage: true });
    if (process.env['UPDATE_DOCS_SCREENSHOT'] === '1') {
      mkdirSync('docs', { recursive: true });
      copyFileSync('test-artifacts/dashboard.png', 'docs/dashboard.png');
    }
    assert.deepEqual(problems, [], 'no console errors (a CSP violation would be one)');
  });
});
