/**
 * A short run of the load/soak script (bench/load.mjs, `npm run load` for the full 1,000 streams × 60 s): 200
 * concurrent streams for 5 s through the proxy process, every answer checked by the load generator. Zero errors.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

/** dist/test/load/ → the repository root's bench/load.mjs. */
const LOAD_SCRIPT = fileURLToPath(new URL('../../../bench/load.mjs', import.meta.url));

interface Figures {
  streamsStarted: number;
  streamsCompleted: number;
  errors: number;
  errorSamples: string[];
  chunksReceived: number;
  proxyAlive: boolean;
  proxyRssMB: { start: number | null; peak: number; end: number | null };
}

describe('load smoke (bench/load.mjs)', () => {
  it('200 concurrent streams for 5 s: every stream completes, 0 errors', async (t) => {
    // Its own process group, so that a timeout also stops the upstream, proxy and load generator it started.
    const child = spawn(
      process.execPath,
      [LOAD_SCRIPT, '--seconds', '5', '--streams', '200', '--chunks', '10', '--pacing-ms', '100', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (data: string) => (stdout += data));
    child.stderr.setEncoding('utf8').on('data', (data: string) => (stderr += data));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, 60_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(timer);
    const line = stdout.trim().split('\n').at(-1) ?? '';
    let figures: Figures;
    try {
      figures = JSON.parse(line) as Figures;
    } catch {
      assert.fail(
        `no figures on stdout (exit ${String(code)})\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`,
      );
    }
    t.diagnostic(
      `${figures.streamsCompleted} streams completed, ${figures.chunksReceived} chunks, ${figures.errors} errors, proxy RSS ${figures.proxyRssMB.start} → ${figures.proxyRssMB.end} MB`,
    );
    assert.equal(figures.errors, 0, figures.errorSamples.join('\n'));
    assert.equal(figures.streamsCompleted, figures.streamsStarted);
    assert.ok(figures.streamsCompleted >= 200, `only ${figures.streamsCompleted} streams completed`);
    assert.ok(
      figures.chunksReceived >= figures.streamsCompleted,
      "at least one event per stream (the load generator checks each stream's text)",
    );
    assert.equal(figures.proxyAlive, true);
    assert.equal(code, 0, stderr);
  });
});
