/**
 * Hot reload: a good file changes the mapping, client keys and upstream without a restart; a bad file is rejected with
 * one log line and the old config stays; listener settings are reported as needing a restart; SIGHUP on the real CLI.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHotReload, type HotReloader } from '../../src/operator/reload.js';
import { ScriptedUpstream, type ReceivedRequest } from '../support/scripted-upstream.js';
import { completion, generate, startFileProxy, tempDirectory, type FileProxy } from '../support/operator.js';
import { waitFor } from '../support/wait.js';

function upstreamModel(request: ReceivedRequest | undefined): string | undefined {
  return (request?.body as { model?: string } | undefined)?.model;
}

function rewrite(path: string, change: (config: Record<string, unknown>) => void): void {
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  change(config);
  writeFileSync(path, JSON.stringify(config, null, 2));
}

function messages(proxy: FileProxy): string[] {
  return proxy.logLines.map((line) => (JSON.parse(line) as { msg: string }).msg);
}

describe('hot reload (file watch)', () => {
  let upstream: ScriptedUpstream;
  let proxy: FileProxy;
  let reloader: HotReloader;

  before(async () => {
    upstream = await new ScriptedUpstream().start();
    upstream.setFallback(completion('ok'));
    proxy = await startFileProxy({
      openai_base_url: upstream.baseUrl,
      provider: 'generic',
      model_mapping: { 'gemini-2.5-pro': 'model-a' },
      client_api_keys: ['client-key-0001'],
    });
    reloader = startHotReload({
      context: proxy.context,
      operator: proxy.operator,
      overrides: { configPath: proxy.configPath },
      env: {},
      log: proxy.context.log,
      debounceMs: 50,
    });
  });
  after(async () => {
    reloader.close();
    await proxy.stop();
    await upstream.stop();
  });

  it('a good file: the new mapping and keys take effect without a restart', async () => {
    assert.equal((await generate(proxy.url, 'gemini-2.5-pro', { key: 'client-key-0001' })).status, 200);
    assert.equal(upstreamModel(upstream.received.at(-1)), 'model-a');

    rewrite(proxy.configPath, (config) => {
      config['model_mapping'] = { 'gemini-2.5-pro': 'model-b' };
      config['client_api_keys'] = ['client-key-0002'];
    });
    await waitFor(() => messages(proxy).some((message) => message.includes('config reloaded')), 'the reload log line');
    const line = messages(proxy).find((message) => message.includes('config reloaded')) ?? '';
    assert.match(line, /\(file change\); changed: client_api_keys, model_mapping$/);

    assert.equal((await generate(proxy.url, 'gemini-2.5-pro', { key: 'client-key-0002' })).status, 200);
    assert.equal(upstreamModel(upstream.received.at(-1)), 'model-b', 'the new mapping is used');
    assert.equal(
      (await generate(proxy.url, 'gemini-2.5-pro', { key: 'client-key-0001' })).status,
      400,
      'the old key no longer works',
    );
    const metrics = await (
      await fetch(`${proxy.url}/metrics`, { headers: { 'x-goog-api-key': 'client-key-0002' } })
    ).text();
    assert.match(metrics, /gemini_proxy_config_reloads_total\{result="success"\} 1/);
  });

  it('a bad file: rejected with one clear log line, the running config stays', async () => {
    const before = proxy.logLines.length;
    writeFileSync(
      proxy.configPath,
      '{ "model_mapping": { "gemini-2.5-pro": "model-c" }, "server": { "port": "eighty" } ',
    );
    await waitFor(
      () =>
        messages(proxy)
          .slice(before)
          .some((message) => message.includes('rejected')),
      'the rejection log line',
    );
    const rejected = messages(proxy)
      .slice(before)
      .filter((message) => message.includes('rejected'));
    assert.equal(rejected.length, 1);
    assert.match(
      rejected[0] ?? '',
      /^config reload \(file change\) rejected, the running config stays in force: .*config\.json: invalid JSON at line 1/,
    );
    assert.ok(!(rejected[0] ?? '').includes('\n'), 'one line');

    // Valid JSON, invalid value: named by key.
    const next = proxy.logLines.length;
    writeFileSync(
      proxy.configPath,
      JSON.stringify({
        openai_base_url: upstream.baseUrl,
        model_mapping: { 'gemini-2.5-pro': 'model-c' },
        server: { port: 'eighty' },
      }),
    );
    await waitFor(
      () =>
        messages(proxy)
          .slice(next)
          .some((message) => message.includes('rejected')),
      'the second rejection',
    );
    assert.match(
      messages(proxy)
        .slice(next)
        .find((message) => message.includes('rejected')) ?? '',
      /server\.port: /,
    );

    assert.equal((await generate(proxy.url, 'gemini-2.5-pro', { key: 'client-key-0002' })).status, 200);
    assert.equal(upstreamModel(upstream.received.at(-1)), 'model-b', 'still the last good mapping');
    const metrics = await (
      await fetch(`${proxy.url}/metrics`, { headers: { 'x-goog-api-key': 'client-key-0002' } })
    ).text();
    assert.match(metrics, /gemini_proxy_config_reloads_total\{result="failure"\} 2/);
  });

  it('host, port and base_path changes are logged as needing a restart; the rest applies', async () => {
    const before = proxy.logLines.length;
    writeFileSync(
      proxy.configPath,
      JSON.stringify({
        openai_base_url: upstream.baseUrl,
        provider: 'generic',
        model_mapping: { 'gemini-2.5-pro': 'model-d' },
        client_api_keys: ['client-key-0002'],
        server: { host: '127.0.0.1', port: 18_999, base_path: '/moved' },
        timeouts: { upstream_idle_seconds: 120 },
      }),
    );
    await waitFor(
      () =>
        messages(proxy)
          .slice(before)
          .some((message) => message.includes('after a restart')),
      'the restart warning',
    );
    const warning =
      messages(proxy)
        .slice(before)
        .find((message) => message.includes('after a restart')) ?? '';
    assert.match(warning, /server\.port, server\.base_path changed; these take effect only after a restart/);
    assert.equal(proxy.context.config.basePath, '', 'the running listener keeps its base path');
    assert.equal(proxy.context.config.timeouts.idleSeconds, 120, 'timeouts apply');
    assert.equal((await generate(proxy.url, 'gemini-2.5-pro', { key: 'client-key-0002' })).status, 200);
    assert.equal(upstreamModel(upstream.received.at(-1)), 'model-d');
  });
});

describe('hot reload (SIGHUP, real CLI)', () => {
  it('reloads on SIGHUP; a bad file then leaves the running config in force', async () => {
    const upstream = await new ScriptedUpstream().start();
    upstream.setFallback(completion('ok'));
    const directory = tempDirectory('gp-sighup-');
    const configPath = join(directory, 'config.json');
    const config = (model: string): string =>
      JSON.stringify({
        openai_base_url: upstream.baseUrl,
        provider: 'generic',
        model_mapping: { 'gemini-2.5-pro': model },
        server: { host: '127.0.0.1', port: 0 },
        usage: { database: ':memory:' },
      });
    writeFileSync(configPath, config('model-a'));
    const child = spawn(process.execPath, ['dist/src/cli.js', '--config', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) if (part.trim() !== '') lines.push((JSON.parse(part) as { msg: string }).msg);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => lines.some((line) => line.includes('listening on')), 'the proxy to listen', 10_000);
      const url =
        /listening on (http:\/\/\S+)/.exec(lines.find((line) => line.includes('listening on')) ?? '')?.[1] ?? '';
      assert.equal((await generate(url, 'gemini-2.5-pro')).status, 200);
      assert.equal(upstreamModel(upstream.received.at(-1)), 'model-a');

      // Change the file and signal at once: SIGHUP comes before the watcher's debounce, which then sees nothing new.
      writeFileSync(configPath, config('model-b'));
      child.kill('SIGHUP');
      await waitFor(() => lines.some((line) => line.includes('config reloaded')), 'the SIGHUP reload');
      assert.match(lines.find((line) => line.includes('config reloaded')) ?? '', /\(SIGHUP\); changed: model_mapping$/);
      assert.equal((await generate(url, 'gemini-2.5-pro')).status, 200);
      assert.equal(upstreamModel(upstream.received.at(-1)), 'model-b');

      writeFileSync(configPath, '{ "model_mapping": ');
      child.kill('SIGHUP');
      await waitFor(() => lines.some((line) => line.includes('rejected')), 'the rejection');
      assert.equal((await generate(url, 'gemini-2.5-pro')).status, 200);
      assert.equal(upstreamModel(upstream.received.at(-1)), 'model-b', 'the process is alive with the old config');
      assert.equal(
        lines.filter((line) => line.includes('config reloaded')).length,
        1,
        'no duplicate reload from the watcher',
      );
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      await upstream.stop();
    }
  });
});
