/**
 * `gemini-proxy init`, run as the real bin: with --yes and flags, and interactively with answers typed over stdin as
 * each prompt appears. The written config loads with the proxy's own loader; nothing is overwritten without a yes or
 * --force; Gemini CLI's settings.json is merged (GEMINI_CLI_HOME honoured) keeping every other setting.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { parse } from 'jsonc-parser';
import { resolveConfig } from '../../src/config/load.js';
import { routerFor } from '../../src/gateway/router.js';
import { compressionThreshold, runInit as initCommand } from '../../src/operator/init.js';
import { tempDirectory } from '../support/operator.js';
import { waitFor } from '../support/wait.js';

const CLI = resolve('dist/src/cli.js');

function runInit(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, 'init', ...args], {
    cwd,
    env: {
      PATH: process.env['PATH'] ?? '',
      GEMINI_CLI_HOME: join(cwd, 'home'),
      XDG_CONFIG_HOME: join(cwd, 'xdg'),
      ...env,
    },
    encoding: 'utf8',
    input: '',
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same command in-process (runInit is what the bin calls), for the cases that need no separate process. */
async function runInitHere(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        append(chunk.toString('utf8'));
        callback();
      },
    });
  const status = await initCommand(args, {
    stdin: Readable.from([]),
    stdout: sink((text) => (stdout += text)),
    stderr: sink((text) => (stderr += text)),
    env: { GEMINI_CLI_HOME: join(cwd, 'home'), XDG_CONFIG_HOME: join(cwd, 'xdg'), ...env },
    cwd,
  });
  return { status, stdout, stderr };
}

function readJson(path: string): Record<string, unknown> {
  return parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

describe('gemini-proxy init --yes', () => {
  it('writes a config for the provider preset that the proxy loads, and prints the Gemini CLI setup', () => {
    const cwd = tempDirectory('gp-init-');
    const result = runInit(
      [
        '--yes',
        '--provider',
        'deepseek',
        '--api-key',
        'sk-deepseek-test',
        '--output',
        'proxy.json',
        '--port',
        '8123',
        '--context-window',
        '128k',
      ],
      cwd,
    );
    assert.equal(result.status, 0, result.stderr);
    const path = join(cwd, 'proxy.json');
    const written = readJson(path);
    assert.deepEqual(written, {
      provider: 'deepseek',
      openai_base_url: 'https://api.deepseek.com/v1',
      openai_api_key: 'sk-deepseek-test',
      model_mapping: { 'gemini-*-flash-lite*': 'deepseek-v4-flash', 'gemini-*': 'deepseek-v4-pro' },
      default_openai_model: 'deepseek-v4-pro',
      server: { host: '127.0.0.1', port: 8123 },
      logging: { enable_detailed_logs: false, enable_access_logs: true, log_directory: 'logs' },
    });
    assert.equal(statSync(path).mode & 0o777, 0o600, 'the file holds a key: owner only');
    const config = resolveConfig({ configPath: path }, {});
    assert.equal(config.upstream.provider, 'deepseek');
    assert.equal(routerFor(config.routing).plan('gemini-3.5-flash-lite')?.targets[0]?.model, 'deepseek-v4-flash');
    assert.equal(routerFor(config.routing).plan('gemini-3.8-flash')?.targets[0]?.model, 'deepseek-v4-pro');
    assert.match(result.stdout, /export GOOGLE_GEMINI_BASE_URL=http:\/\/127\.0\.0\.1:8123/);
    assert.match(result.stdout, /export GEMINI_API_KEY=any-non-empty-value/);
    assert.match(result.stdout, /"selectedType": "gemini-api-key"/);
    assert.match(
      result.stdout,
      /"compressionThreshold": 0\.09\b/,
      '128k = 128,000: 80% of it is 0.0977 of 1,048,576, rounded down',
    );
    assert.ok(!existsSync(join(cwd, 'home', '.gemini', 'settings.json')), 'settings.json is only written when asked');
  });

  it('never overwrites an existing config without --force', async () => {
    const cwd = tempDirectory('gp-init-');
    writeFileSync(join(cwd, 'config.json'), '{"keep": "me"}');
    const refused = await runInitHere(['--yes', '--provider', 'ollama', '--output', 'config.json'], cwd);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /config\.json exists; not overwritten \(use --force/);
    assert.equal(readFileSync(join(cwd, 'config.json'), 'utf8'), '{"keep": "me"}');
    const forced = await runInitHere(['--yes', '--provider', 'ollama', '--output', 'config.json', '--force'], cwd);
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(readJson(join(cwd, 'config.json'))['provider'], 'ollama');
  });

  it('merges into $GEMINI_CLI_HOME/.gemini/settings.json: other settings and comments kept, differing values kept without --force', async () => {
    const cwd = tempDirectory('gp-init-');
    const settingsPath = join(cwd, 'home', '.gemini', 'settings.json');
    mkdirSync(join(cwd, 'home', '.gemini'), { recursive: true });
    writeFileSync(
      settingsPath,
      '{\n  // my theme\n  "ui": { "theme": "GitHub" },\n  "model": { "name": "gemini-2.5-pro" }\n}\n',
    );
    const result = await runInitHere(
      [
        '--yes',
        '--provider',
        'kimi',
        '--api-key',
        'sk-kimi',
        '--context-window',
        '131072',
        '--generate-client-key',
        '--gemini-settings',
        '-o',
        'config.json',
      ],
      cwd,
    );
    assert.equal(result.status, 0, result.stderr);
    const text = readFileSync(settingsPath, 'utf8');
    assert.match(text, /\/\/ my theme/, 'comments survive');
    const settings = parse(text) as {
      ui: unknown;
      model: { name: string; compressionThreshold: number };
      security: { auth: { selectedType: string } };
    };
    assert.deepEqual(settings.ui, { theme: 'GitHub' });
    assert.equal(settings.security.auth.selectedType, 'gemini-api-key');
    assert.equal(settings.model.compressionThreshold, 0.1);
    assert.equal(settings.model.name, 'gemini-2.5-pro', 'an existing different value is not changed without --force');
    assert.match(result.stdout, /Not changed: model\.name \(kept "gemini-2\.5-pro"\)\. Use --force/);
    const clientKey = (readJson(join(cwd, 'config.json'))['client_api_keys'] as string[])[0] ?? '';
    assert.match(clientKey, /^gp-[A-Za-z0-9_-]{24}$/);
    assert.ok(result.stdout.includes(`export GEMINI_API_KEY=${clientKey}`));

    const forced = await runInitHere(
      [
        '--yes',
        '--provider',
        'kimi',
        '--api-key',
        'sk-kimi',
        '-o',
        'config.json',
        '--force',
        '--gemini-settings',
        '--cli-model',
        'gemini-3-flash-preview',
      ],
      cwd,
    );
    assert.equal(forced.status, 0, forced.stderr);
    const after = parse(readFileSync(settingsPath, 'utf8')) as { ui: unknown; model: { name: string } };
    assert.equal(after.model.name, 'gemini-3-flash-preview');
    assert.deepEqual(after.ui, { theme: 'GitHub' });
  });

  it('refuses a provider without a base URL unless one is given, and unknown flags', async () => {
    const cwd = tempDirectory('gp-init-');
    const missing = await runInitHere(['--yes', '--provider', 'azure'], cwd);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--base-url is required for provider azure/);
    const unknown = await runInitHere(['--yes', '--bogus'], cwd);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /Usage: gemini-proxy init/);
    assert.ok(!existsSync(join(cwd, 'config.json')));
  });

  it('compression threshold keeps 80% of the upstream window', () => {
    assert.equal(compressionThreshold(131_072), 0.1);
    assert.equal(compressionThreshold(262_144), 0.2);
    assert.equal(compressionThreshold(1_048_576), 0.8);
    assert.equal(
      compressionThreshold(40_960),
      0.031,
      'small windows get a third decimal rather than rounding past the 80%',
    );
    assert.equal(compressionThreshold(8192), 0.006);
  });

  it("writes to the per-user config by default, with logs next to it, sized from the preset's window", async () => {
    const cwd = tempDirectory('gp-init-');
    const result = await runInitHere(['--yes', '--provider', 'kimi', '--api-key', 'sk-kimi-user'], cwd);
    assert.equal(result.status, 0, result.stderr);
    const path = join(cwd, 'xdg', 'gemini-proxy', 'config.json');
    const written = readJson(path) as { logging: { log_directory: string }; openai_api_key: string };
    assert.equal(written.openai_api_key, 'sk-kimi-user');
    assert.equal(
      written.logging.log_directory,
      join(cwd, 'xdg', 'gemini-proxy', 'logs'),
      'logs do not land in whatever directory the proxy is started from',
    );
    assert.ok(!existsSync(join(cwd, 'config.json')), 'nothing in the working directory');
    assert.match(result.stdout, /"compressionThreshold": 0\.2\b/, 'kimi-k2.5 has a 262,144-token window: 0.2');
    assert.match(result.stdout, /gemini-proxy gemini /, 'the launcher is the next step, with no --config needed');
    assert.ok(!/npx gemini-proxy/.test(result.stdout), 'npx is not offered: the package is not yet published');
  });

  it('refuses a hosted provider without a key unless --no-key, which writes it and says what is missing', async () => {
    const cwd = tempDirectory('gp-init-');
    const refused = await runInitHere(['--yes', '--provider', 'kimi', '-o', 'config.json'], cwd);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /provider kimi needs an API key: pass --api-key or set OPENAI_API_KEY \(or --no-key/);
    assert.ok(!existsSync(join(cwd, 'config.json')));
    const fromEnv = await runInitHere(['--yes', '--provider', 'kimi', '-o', 'env.json'], cwd, {
      OPENAI_API_KEY: 'sk-from-env',
    });
    assert.equal(fromEnv.status, 0, fromEnv.stderr);
    assert.equal(readJson(join(cwd, 'env.json'))['openai_api_key'], 'sk-from-env');
    const told = await runInitHere(['--yes', '--provider', 'kimi', '-o', 'config.json', '--no-key'], cwd);
    assert.equal(told.status, 0, told.stderr);
    assert.equal(readJson(join(cwd, 'config.json'))['openai_api_key'], undefined);
    assert.match(told.stdout, /No API key written: add "openai_api_key"/);
    const local = await runInitHere(['--yes', '--provider', 'ollama', '-o', 'local.json'], cwd);
    assert.equal(local.status, 0, 'a local server needs no key');
  });

  it('inside a git work tree, adds the written file to the top-level .gitignore once', async () => {
    const cwd = tempDirectory('gp-init-git-');
    mkdirSync(join(cwd, '.git'));
    mkdirSync(join(cwd, 'sub'));
    writeFileSync(join(cwd, '.gitignore'), 'node_modules');
    const first = await runInitHere(
      ['--yes', '--provider', 'kimi', '--api-key', 'sk-git', '-o', 'proxy.json'],
      join(cwd, 'sub'),
    );
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /added it to .*\.gitignore/);
    const again = await runInitHere(
      ['--yes', '--provider', 'kimi', '--api-key', 'sk-git', '-o', 'proxy.json', '--force'],
      join(cwd, 'sub'),
    );
    assert.equal(again.status, 0, again.stderr);
    const lines = readFileSync(join(cwd, '.gitignore'), 'utf8').split('\n');
    assert.equal(lines[0], 'node_modules', 'the existing content is kept');
    assert.equal(lines.filter((line) => line === '/sub/proxy.json').length, 1);
  });
});

describe('gemini-proxy init (interactive)', () => {
  it('asks, takes answers typed at each prompt, asks before overwriting and before changing settings.json', async () => {
    const cwd = tempDirectory('gp-init-interactive-');
    writeFileSync(join(cwd, 'config.json'), '{}');
    const settingsPath = join(cwd, 'home', '.gemini', 'settings.json');
    mkdirSync(join(cwd, 'home', '.gemini'), { recursive: true });
    writeFileSync(
      settingsPath,
      JSON.stringify({ model: { name: 'gemini-2.5-pro' }, general: { vimMode: true } }, null, 2),
    );
    const child = spawn(process.execPath, [CLI, 'init'], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '', GEMINI_CLI_HOME: join(cwd, 'home'), XDG_CONFIG_HOME: join(cwd, 'xdg') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
    let seen = 0;
    /** Waits for the next prompt containing `prompt`, then types `answer`. */
    const answer = async (prompt: string, typed: string): Promise<void> => {
      await waitFor(
        () => output.indexOf(prompt, seen) >= 0,
        `the prompt "${prompt}" (output so far:\n${output})`,
        10_000,
      );
      seen = output.indexOf(prompt, seen) + prompt.length;
      child.stdin.write(`${typed}\n`);
    };
    try {
      await answer('Provider (number or name) [openai]:', 'zhipu');
      await answer('Base URL of the Zhipu GLM / Z.ai API [https://api.z.ai/api/paas/v4]:', '');
      await answer('API key for Zhipu GLM / Z.ai:', 'zhipu-secret-key');
      await answer('Upstream model for Gemini requests (gemini-*) [glm-5]:', 'glm-4.7');
      await answer('Upstream model for utility calls (gemini-*-flash-lite*) [glm-4.7-flash]:', '');
      await answer('Proxy port [8000]:', 'not-a-port');
      await answer('is not a port number\nProxy port [8000]:', '8040');
      await answer('Require a client key (generated) from Gemini CLI and other clients? (y/N):', 'n');
      await answer("in tokens (sets Gemini CLI's compression threshold) [200000]:", '');
      await answer(`Write the config to [${join(cwd, 'xdg', 'gemini-proxy', 'config.json')}]:`, 'config.json');
      await answer('config.json exists. Overwrite it? (y/N):', 'y');
      await answer('Merge these settings into', 'y');
      await answer('model.name is "gemini-2.5-pro"; change it to "gemini-3.8-flash"? (y/N):', 'y');
      assert.equal(await exited, 0, stderr);
    } finally {
      child.kill();
    }
    const written = readJson(join(cwd, 'config.json'));
    assert.equal(written['provider'], 'zhipu');
    assert.equal(written['openai_base_url'], 'https://api.z.ai/api/paas/v4');
    assert.equal(written['openai_api_key'], 'zhipu-secret-key');
    assert.deepEqual(written['model_mapping'], { 'gemini-*-flash-lite*': 'glm-4.7-flash', 'gemini-*': 'glm-4.7' });
    assert.deepEqual(written['server'], { host: '127.0.0.1', port: 8040 });
    assert.equal(written['client_api_keys'], undefined);
    const settings = readJson(settingsPath) as {
      model: { name: string; compressionThreshold: number };
      general: unknown;
      security: unknown;
    };
    assert.deepEqual(settings, {
      model: { name: 'gemini-3.8-flash', compressionThreshold: 0.15 },
      general: { vimMode: true },
      security: { auth: { selectedType: 'gemini-api-key' } },
    });
    assert.match(
      output,
      /Updated .*settings\.json: security\.auth\.selectedType, model\.name, model\.compressionThreshold \(other settings untouched\)/,
    );
  });
});
