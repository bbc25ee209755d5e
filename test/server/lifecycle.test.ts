/**
 * The real CLI process: quick start without a config file prints the Gemini CLI setup; SIGTERM lets open streams
 * finish, within server.drain_seconds.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ScriptedUpstream, sseFromChunks } from '../support/scripted-upstream.js';
import { gate, waitFor } from '../support/wait.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

interface Running {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  url: Promise<string>;
  exited: Promise<{ code: number | null; at: number }>;
}

function startCli(args: string[]): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '', GEMINI_PROXY_CONFIG: '' },
  });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s)"]+)/.exec(output);
      if (match?.[1] !== undefined) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', () => reject(new Error(`exited before listening:\n${output}`)));
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, at: Date.now() })),
  );
  return { child, output: () => output, url, exited };
}

describe('the CLI process', () => {
  let upstream: ScriptedUpstream;
  const directory = mkdtempSync(join(tmpdir(), 'gp-lifecycle-'));
  before(async () => {
    upstream = await new ScriptedUpstream().start();
  });
  after(async () => {
    await upstream.stop();
  });

  it('quick start: --provider kimi --api-key prints the Gemini CLI environment and settings', async () => {
    const running = startCli([
      '--provider',
      'kimi',
      '--api-key',
      'sk-quick-start-key',
      '--base-url',
      upstream.baseUrl,
      '--port',
      '0',
    ]);
    try {
      const url = await running.url;
      await waitFor(
        () => running.output().includes('settings.json'),
        () => `the setup text in:\n${running.output()}`,
      );
      const output = running.output();
      assert.match(output, new RegExp(`export GOOGLE_GEMINI_BASE_URL=${url.replace(/[.]/g, '\\.')}`));
      assert.match(output, /export GEMINI_API_KEY=any-non-empty-value/);
      assert.match(output, /"selectedType":"gemini-api-key"/);
      assert.match(output, /gemini-3\.8-flash → kimi-k2\.5/, 'the preset default mapping is in force');
      assert.ok(!output.includes('sk-quick-start-key'), 'the key is not printed');
    } finally {
      running.child.kill('SIGKILL');
    }
  });

  it('SIGTERM: an open stream finishes, then the process exits', async () => {
    const config = join(directory, 'drain.json');
    writeFileSync(
      config,
      JSON.stringify({
        openai_base_url: upstream.baseUrl,
        default_openai_model: 'm',
        server: { port: 0, drain_seconds: 10 },
      }),
    );
    const chunks = Array.from({ length: 6 }, (_, index) => ({
      choices: [{ index: 0, delta: { content: `part${index} ` }, finish_reason: null }],
    }));
    // The stream is held open after its first chunk until the process has taken the SIGTERM.
    const rest = gate();
    upstream.enqueue({
      kind: 'sse',
      writes: sseFromChunks([...chunks, { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }]),
      pause: { after: 1, until: rest.opened },
    });
    const running = startCli(['--config', config]);
    const url = await running.url;
    const response = await fetch(`${url}/v1beta/models/m:streamGenerateContent?alt=sse`, {
      method: 'POST',
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
    });
    const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
    assert.ok(reader !== undefined);
    let text = new TextDecoder().decode((await reader.read()).value);
    running.child.kill('SIGTERM');
    await waitFor(
      () => running.output().includes('SIGTERM received'),
      () => `the SIGTERM log line in:\n${running.output()}`,
    );
    rest.open();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assert.match(text, /part5/);
    assert.match(text, /"finishReason":"STOP"/);
    const exit = await running.exited;
    assert.equal(exit.code, 0);
    assert.match(running.output(), /SIGTERM received: closing \(open streams get up to 10 s\)/);
  });

  it('SIGTERM: a stream that outlives server.drain_seconds is cut at the bound', async () => {
    const config = join(directory, 'bound.json');
    writeFileSync(
      config,
      JSON.stringify({
        openai_base_url: upstream.baseUrl,
        default_openai_model: 'm',
        server: { port: 0, drain_seconds: 1 },
      }),
    );
    upstream.enqueue({
      kind: 'sse',
      writes: sseFromChunks([{ choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }] }], {
        done: false,
      }),
      endAfter: false,
    });
    const running = startCli(['--config', config]);
    const url = await running.url;
    const response = await fetch(`${url}/v1beta/models/m:streamGenerateContent?alt=sse`, {
      method: 'POST',
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
    });
    await response.body?.getReader().read();
    const signalled = Date.now();
    running.child.kill('SIGTERM');
    const exit = await running.exited;
    // Not before the 1 s bound; the upper bound only tells the bound from waiting for the stream (which never ends).
    assert.ok(
      exit.at - signalled >= 900 && exit.at - signalled < 15_000,
      `exited ${exit.at - signalled} ms after SIGTERM`,
    );
  });
});
