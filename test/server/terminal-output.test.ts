/**
 * What a person sees: one readable line per log entry (local time, level, the original tool's access line) when
 * stdout is a terminal or with --log-format human, pino JSON otherwise or with --log-format json; `GET /` answers
 * with pointers instead of a bare 404; a keyed provider started without a key says so at start.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chooseLogFormat, humanLine, localTime } from '../../src/server/log-format.js';
import { removeTemporaryDirectories, temporaryDirectory } from '../support/gemini-cli.js';
import { startProxy, type RunningProxy } from '../support/proxy.js';
import { ScriptedUpstream } from '../support/scripted-upstream.js';
import { waitFor } from '../support/wait.js';

const CLI = resolve('dist/src/cli.js');

interface Started {
  output: () => string;
  url: Promise<string>;
  stop: () => Promise<void>;
}

function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Started {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '', XDG_CONFIG_HOME: temporaryDirectory('gp-xdg-'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = new Promise<string>((resolveUrl, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1] !== undefined) resolveUrl(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', () => reject(new Error(`exited before listening:\n${output}`)));
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  return {
    output: () => output,
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitForOutput(started: Started, pattern: RegExp): Promise<void> {
  await waitFor(
    () => pattern.test(started.output()),
    () => `${String(pattern)} in:\n${started.output()}`,
    20_000,
  );
}

describe('log format', () => {
  let upstream: ScriptedUpstream;
  before(async () => {
    upstream = await new ScriptedUpstream().start();
  });
  after(async () => {
    await upstream.stop();
    removeTemporaryDirectories();
  });

  it('a terminal gets human lines, anything else JSON; --log-format overrides both', () => {
    assert.equal(chooseLogFormat(undefined, true), 'human');
    assert.equal(chooseLogFormat(undefined, false), 'json');
    assert.equal(chooseLogFormat('json', true), 'json');
    assert.equal(chooseLogFormat('human', false), 'human');
  });

  it('a human line: local time, level, message, other fields as key=value', () => {
    const time = Date.UTC(2026, 11, 2, 9, 30, 5, 7);
    const line = humanLine(
      JSON.stringify({
        level: 40,
        time,
        service: 'gemini-proxy',
        msg: 'upstream slow',
        requestId: 'ab12',
        upstream: 'default',
      }),
    );
    assert.equal(line, `${localTime(time)} WARN  upstream slow requestId=ab12 upstream=default\n`);
    assert.match(localTime(time), /^2026-12-0[12] \d\d:\d\d:05\.007$/);
    assert.equal(humanLine('not json'), 'not json\n');
  });

  it('the real process with --log-format human prints the access line as a readable line; piped stdout defaults to JSON', async () => {
    const config = join(temporaryDirectory('gp-logfmt-'), 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        openai_base_url: upstream.baseUrl,
        default_openai_model: 'm',
        server: { port: 0 },
        usage: { enabled: false },
      }),
    );
    const human = startCli(['--config', config, '--log-format', 'human']);
    try {
      const url = await human.url;
      await fetch(`${url}/health`);
      await fetch(`${url}/v1beta/models/gemini-x`);
      await waitForOutput(human, /GET \/v1beta\/models\/gemini-x - 200/);
      const lines = human.output().split('\n');
      const access = lines.find((line) => line.includes('GET /v1beta/models/gemini-x'));
      assert.match(
        access ?? '',
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO {2}GET \/v1beta\/models\/gemini-x - 200 - Model: -/,
      );
      assert.ok(!lines.some((line) => line.startsWith('{"level"')), 'no JSON lines');
    } finally {
      await human.stop();
    }
    const piped = startCli(['--config', config]);
    try {
      await piped.url;
      const first = piped
        .output()
        .split('\n')
        .find((line) => line.includes('listening on'));
      assert.match(first ?? '', /^\{"level":30,"time":\d+,/, 'stdout is a pipe here: JSON');
    } finally {
      await piped.stop();
    }
  });

  it('starting a keyed provider without a key warns at once', async () => {
    const started = startCli(
      ['--provider', 'kimi', '--base-url', upstream.baseUrl, '--port', '0', '--log-format', 'human'],
      { OPENAI_API_KEY: '' },
    );
    try {
      await started.url;
      await waitForOutput(
        started,
        /WARN {2}upstream "default" \(Moonshot Kimi\) has no API key: its requests will be refused until one is set \(--api-key, openai_api_key or OPENAI_API_KEY\)/,
      );
    } finally {
      await started.stop();
    }
  });

  it('reads the per-user config when no --config is given', async () => {
    const xdg = temporaryDirectory('gp-xdg-user-');
    execFileSync(
      process.execPath,
      [
        CLI,
        'init',
        '--yes',
        '--provider',
        'ollama',
        '--base-url',
        upstream.baseUrl,
        '--model',
        'user-model',
        '--port',
        '18999',
      ],
      {
        env: { PATH: process.env['PATH'] ?? '', XDG_CONFIG_HOME: xdg, GEMINI_CLI_HOME: temporaryDirectory('gp-home-') },
      },
    );
    assert.ok(existsSync(join(xdg, 'gemini-proxy', 'config.json')));
    assert.equal(
      (JSON.parse(readFileSync(join(xdg, 'gemini-proxy', 'config.json'), 'utf8')) as { default_openai_model: string })
        .default_openai_model,
      'user-model',
    );
    const started = startCli(['--port', '0'], { XDG_CONFIG_HOME: xdg });
    try {
      await started.url;
      assert.match(started.output(), /config: .*gemini-proxy\/config\.json/);
    } finally {
      await started.stop();
    }
  });
});

describe('GET /', () => {
  let proxy: RunningProxy;
  before(async () => {
    proxy = await startProxy({ openai_base_url: 'http://127.0.0.1:9/v1', default_openai_model: 'm' });
  });
  after(async () => proxy.stop());

  it('answers JSON pointing to /ui, /health and the README, and a small page to a browser', async () => {
    const json = await fetch(`${proxy.url}/`);
    assert.equal(json.status, 200);
    const index = (await json.json()) as Record<string, string>;
    assert.equal(index['dashboard'], '/ui/');
    assert.equal(index['health'], '/health');
    assert.match(index['readme'] ?? '', /README/);
    const page = await fetch(`${proxy.url}/`, { headers: { accept: 'text/html' } });
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<a href="\/ui\/">Dashboard<\/a>/);
  });
});
