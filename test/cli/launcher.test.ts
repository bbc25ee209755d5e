/**
 * `gemini-proxy [options] gemini [args…]` end to end with the real Gemini CLI 0.61.0: headless (`-p`) and an
 * interactive session in a real terminal emulator (tmux). The user's settings.json is chosen to
 * break the run if the launcher did not override it (OAuth selected, another model) and must be byte-identical
 * afterwards; the user's own GEMINI_API_KEY must not reach the proxy (only the per-run key is accepted); the CLI's exit
 * code comes back through the launcher; the per-run home is gone afterwards.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createOverlayHome, dissolveOverlayHome, mergeSettings, splitAtGemini } from '../../src/launcher.js';
import { geminiBin, removeTemporaryDirectories, temporaryDirectory } from '../support/gemini-cli.js';
import { ScriptedUpstream, sseFromChunks } from '../support/scripted-upstream.js';
import { waitFor } from '../support/wait.js';

const CLI = resolve('dist/src/cli.js');
const RUN_TIMEOUT_MS = 90_000;

/** Settings that would make the CLI use Google OAuth and another model: the launcher must override both. */
const USER_SETTINGS = `{
  // the user's own file, comments and all
  "security": { "auth": { "selectedType": "oauth-personal" } },
  "model": { "name": "gemini-2.5-pro" },
  "general": { "enableAutoUpdate": false, "enableAutoUpdateNotification": false, "maxAttempts": 1 },
  "privacy": { "usageStatisticsEnabled": false },
  "telemetry": { "enabled": false },
}
`;

interface Sandbox {
  home: string;
  workspace: string;
  xdg: string;
  tmp: string;
  settingsPath: string;
  env: NodeJS.ProcessEnv;
}

function sandbox(): Sandbox {
  const home = temporaryDirectory('gp-launch-home-');
  mkdirSync(join(home, '.gemini'));
  const settingsPath = join(home, '.gemini', 'settings.json');
  writeFileSync(settingsPath, USER_SETTINGS);
  mkdirSync(join(home, '.gemini', 'commands'));
  const workspace = temporaryDirectory('gp-launch-ws-');
  const xdg = temporaryDirectory('gp-launch-xdg-');
  const tmp = temporaryDirectory('gp-launch-tmp-');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '',
    HOME: home,
    GEMINI_CLI_HOME: home,
    XDG_CONFIG_HOME: xdg,
    TMPDIR: tmp,
    GEMINI_CLI_PATH: geminiBin(),
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
    GEMINI_CLI_NO_RELAUNCH: 'true',
    // The user's real Gemini key: the launcher must replace it with the per-run key the proxy requires.
    GEMINI_API_KEY: 'the-users-own-gemini-key',
    GOOGLE_GENAI_USE_VERTEXAI: 'true',
  };
  return { home, workspace, xdg, tmp, settingsPath, env };
}

interface Run {
  code: number | null;
  output: string;
}

function runLauncher(box: Sandbox, args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: box.workspace,
    env: { ...box.env, NO_COLOR: '1', TERM: 'dumb' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  return new Promise<Run>((resolveRun) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, output });
    }),
  );
}

/** Waits for the terminal to show something; the real CLI under tmux gets a minute on a busy machine. */
async function waitForScreen(check: () => boolean, what: string, output: () => string, ms = 60_000): Promise<void> {
  await waitFor(check, () => `${what}; output so far:\n${output().slice(-3000)}`, ms);
}

function answer(text: string): string[] {
  return sseFromChunks([
    {
      id: 'c1',
      object: 'chat.completion.chunk',
      model: 'up-model',
      choices: [{ index: 0, delta: { role: 'assistant', content: text }, finish_reason: null }],
    },
    {
      id: 'c1',
      object: 'chat.completion.chunk',
      model: 'up-model',
      choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      usage: { prompt_tokens: 120, completion_tokens: 6, total_tokens: 126 },
    },
  ]);
}

function assertUntouched(box: Sandbox, run: Run): void {
  assert.equal(
    readFileSync(box.settingsPath, 'utf8'),
    USER_SETTINGS,
    `the user's settings.json is byte-identical\n${run.output.slice(-2000)}`,
  );
  assert.deepEqual(
    readdirSync(box.tmp).filter((name) => name.startsWith('gemini-proxy-home-')),
    [],
    'the per-run home is removed',
  );
  assert.ok(
    statSync(join(box.home, '.gemini', 'commands')).isDirectory() &&
      !lstatSync(join(box.home, '.gemini', 'commands')).isSymbolicLink(),
    'the real entries stay as they were',
  );
}

describe('gemini-proxy … gemini (the launcher)', () => {
  let upstream: ScriptedUpstream;
  before(async () => {
    upstream = await new ScriptedUpstream().start();
  });
  beforeEach(() => upstream.reset());
  after(async () => {
    await upstream.stop();
    removeTemporaryDirectories();
  });

  it('headless -p: the CLI talks to the proxy with the per-run key, the user settings stay byte-identical', async () => {
    const box = sandbox();
    upstream.setFallback({ kind: 'sse', writes: answer('hello through the launcher') });
    const run = await runLauncher(box, [
      '--provider',
      'kimi',
      '--api-key',
      'sk-upstream-test',
      '--base-url',
      upstream.baseUrl,
      'gemini',
      '-p',
      'say hi',
      '--output-format',
      'json',
    ]);
    assert.equal(run.code, 0, run.output);
    const json = JSON.parse(run.output.slice(run.output.indexOf('{\n'), run.output.lastIndexOf('}') + 1)) as {
      response: string;
    };
    assert.equal(json.response, 'hello through the launcher');
    assert.ok(upstream.received.length >= 1);
    const first = upstream.received[0];
    assert.equal(first?.headers['authorization'], 'Bearer sk-upstream-test', 'the upstream key from --api-key');
    assert.equal(
      (first?.body as { model?: string }).model,
      'kimi-k2.5',
      'gemini-3.8-flash from the overlay settings, through the kimi preset mapping',
    );
    assert.match(
      run.output,
      /gemini-proxy: http:\/\/127\.0\.0\.1:\d+ → kimi kimi-k2\.5 \(262144-token window, compressionThreshold 0\.2\)/,
    );
    assert.ok(!run.output.includes('the-users-own-gemini-key'));
    assertUntouched(box, run);
    const log = readFileSync(join(box.xdg, 'gemini-proxy', 'logs', 'launcher.log'), 'utf8');
    assert.match(
      log,
      /POST \/v1beta\/models\/gemini-3\.8-flash:streamGenerateContent\?alt=sse - 200 - Model: gemini-3\.8-flash → kimi-k2\.5/,
    );
    assert.match(log, /launcher: Gemini CLI exited with 0; proxy stopped/);
  });

  it("passes the CLI's exit code through (an upstream 400 makes Gemini CLI exit 144)", async () => {
    const box = sandbox();
    upstream.setFallback({
      kind: 'json',
      status: 400,
      body: { error: { message: 'bad request from the scripted upstream', type: 'invalid_request_error' } },
    });
    const run = await runLauncher(box, [
      '--base-url',
      upstream.baseUrl,
      '--model',
      'up-model',
      'gemini',
      '-p',
      'say hi',
      '--output-format',
      'json',
    ]);
    assert.equal(run.code, 144, run.output);
    assertUntouched(box, run);
  });

  it('interactive session in a terminal (tmux): prompt, answer, /quit', async () => {
    const box = sandbox();
    upstream.setFallback({ kind: 'sse', writes: answer('hello in the terminal') });
    // tmux is a real terminal emulator: it answers the CLI's capability queries and renders the screen, which the test
    // reads with capture-pane. The session runs a script that records the launcher's exit code.
    const socket = `gp-launch-${process.pid}-${Date.now()}`;
    const exitFile = join(box.tmp, 'exit-code');
    const script = join(box.tmp, 'run.sh');
    const exports = Object.entries({ ...box.env, TERM: 'xterm-256color' })
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([name, value]) => `export ${name}='${value.replace(/'/g, `'\\''`)}'`)
      .join('\n');
    writeFileSync(
      script,
      // Gemini CLI (through is-in-ci) starts non-interactive when CI, CONTINUOUS_INTEGRATION or any CI_* variable is
      // set, as it is in CI runs: a person's terminal has none of them.
      `for name in $(compgen -e | grep -E '^(CI|CONTINUOUS_INTEGRATION|CI_.*)$'); do unset "$name"; done\n` +
        `${exports}\ncd '${box.workspace}'\n'${process.execPath}' '${CLI}' --base-url '${upstream.baseUrl}' --model up-model gemini\necho $? > '${exitFile}'\n`,
    );
    const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    const screen = (): string => tmux('capture-pane', '-p', '-t', 'launch');
    tmux('new-session', '-d', '-s', 'launch', '-x', '100', '-y', '30', `bash '${script}'`);
    try {
      await waitForScreen(
        () => screen().includes('Authenticated with gemini-api-key'),
        'the CLI to start with API-key auth',
        screen,
      );
      await waitForScreen(() => screen().includes('Type your message'), 'the input prompt', screen);
      tmux('send-keys', '-t', 'launch', '-l', 'say hi');
      await waitForScreen(() => screen().includes('> say hi'), 'the typed prompt', screen);
      tmux('send-keys', '-t', 'launch', 'Enter');
      await waitForScreen(() => screen().includes('hello in the terminal'), 'the answer', screen);
      await waitForScreen(() => screen().includes('Type your message'), 'the input prompt again', screen);
      tmux('send-keys', '-t', 'launch', '-l', '/quit');
      await waitForScreen(() => screen().includes('> /quit'), 'the typed /quit', screen);
      tmux('send-keys', '-t', 'launch', 'Enter');
      await waitForScreen(
        () => existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() !== '',
        'the launcher to exit',
        screen,
      );
    } finally {
      try {
        tmux('kill-server');
      } catch {
        // already gone with its only session
      }
    }
    assert.equal(readFileSync(exitFile, 'utf8').trim(), '0');
    assert.equal(upstream.received.length, 1);
    assertUntouched(box, { code: 0, output: '' });
  });

  it('without Gemini CLI: exit 127 and a sentence saying how to get it', async () => {
    const box = sandbox();
    const run = await runLauncher({ ...box, env: { ...box.env, GEMINI_CLI_PATH: '', PATH: box.tmp } }, [
      '--base-url',
      upstream.baseUrl,
      'gemini',
      '-p',
      'x',
    ]);
    assert.equal(run.code, 127);
    assert.match(
      run.output,
      /Gemini CLI not found: install it \(npm install -g @google\/gemini-cli\) or set GEMINI_CLI_PATH/,
    );
  });
});

describe('launcher pieces', () => {
  after(() => removeTemporaryDirectories());

  it('the word gemini splits proxy options from Gemini CLI arguments, also when an option value is "gemini"', () => {
    assert.deepEqual(splitAtGemini(['--model', 'gemini', 'gemini', '-p', 'x', '--model', 'y']), {
      proxy: ['--model', 'gemini'],
      gemini: ['-p', 'x', '--model', 'y'],
    });
    assert.deepEqual(splitAtGemini(['-c', 'f.json', 'gemini']), { proxy: ['-c', 'f.json'], gemini: [] });
    assert.deepEqual(splitAtGemini(['--port', '1']), { proxy: ['--port', '1'], gemini: undefined });
  });

  it('the per-run home: merged settings, links to every other entry, new entries moved back, nothing else touched', () => {
    const real = join(temporaryDirectory('gp-overlay-'), '.gemini');
    mkdirSync(join(real, 'tmp'), { recursive: true });
    writeFileSync(join(real, 'settings.json'), '{"ui":{"theme":"GitHub"},"model":{"name":"x","maxSessionTurns":5}}');
    writeFileSync(join(real, 'oauth_creds.json'), '{}');
    const home = createOverlayHome(real, {
      model: { name: 'gemini-3.8-flash' },
      security: { auth: { selectedType: 'gemini-api-key' } },
    });
    const overlay = join(home, '.gemini');
    assert.deepEqual(JSON.parse(readFileSync(join(overlay, 'settings.json'), 'utf8')), {
      ui: { theme: 'GitHub' },
      model: { name: 'gemini-3.8-flash', maxSessionTurns: 5 },
      security: { auth: { selectedType: 'gemini-api-key' } },
    });
    assert.ok(lstatSync(join(overlay, 'oauth_creds.json')).isSymbolicLink());
    assert.ok(lstatSync(join(overlay, 'tmp')).isSymbolicLink());
    writeFileSync(join(overlay, 'tmp', 'session.json'), 'through the link');
    writeFileSync(join(overlay, 'installation_id'), 'new during the run');
    dissolveOverlayHome(home, real);
    assert.equal(readFileSync(join(real, 'tmp', 'session.json'), 'utf8'), 'through the link');
    assert.equal(readFileSync(join(real, 'installation_id'), 'utf8'), 'new during the run');
    assert.equal(
      readFileSync(join(real, 'settings.json'), 'utf8'),
      '{"ui":{"theme":"GitHub"},"model":{"name":"x","maxSessionTurns":5}}',
    );
    assert.ok(!existsSync(home));
    assert.deepEqual(mergeSettings({ a: { b: 1, c: 2 }, d: [1] }, { a: { b: 3 }, d: [2] }), {
      a: { b: 3, c: 2 },
      d: [2],
    });
  });
});
