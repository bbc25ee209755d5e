/**
 * Batched stdout logging (src/server/log-destination.ts), in a real child process whose stdout is a pipe: lines held
 * back for batching still come out on their own when the process stays idle, and none is lost when it exits at once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

const MODULE = new URL('../../src/server/log-destination.js', import.meta.url).href;

/** Runs `body` (ES module code with `log`, a pino logger on batchedStdout) in a child; resolves with its stdout. */
function runChild(body: string, until: (output: string) => boolean): Promise<{ output: string; exited: boolean }> {
  const code = `import { pino } from 'pino'; import { batchedStdout } from ${JSON.stringify(MODULE)};
const log = pino({ base: null }, batchedStdout(50));
${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: new URL('../../..', import.meta.url),
  });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      output += text;
      if (until(output)) {
        child.kill('SIGKILL');
        resolve({ output, exited: false });
      }
    });
    child.once('error', reject);
    child.once('exit', () => resolve({ output, exited: true }));
  });
}

describe('batched stdout logging', () => {
  it('writes a lone line of an idle process without waiting for more lines', { timeout: 60_000 }, async () => {
    // The child stays alive (an interval keeps it running): only the flush timer can bring the line out.
    const { output, exited } = await runChild(`log.info('only line'); setInterval(() => {}, 1000);`, (text) =>
      text.includes('only line'),
    );
    assert.equal(exited, false, 'the line arrived while the process was still running');
    assert.match(output, /"msg":"only line"/);
  });

  it('writes a later lone line too, after an earlier batch went out', { timeout: 60_000 }, async () => {
    // The flush timer is armed by the first line after a flush: the second line needs a timer of its own.
    const { output, exited } = await runChild(
      `log.info('first line');
setInterval(() => {}, 1000);
setTimeout(() => log.info('second line'), 300);`,
      (text) => text.includes('second line'),
    );
    assert.equal(exited, false, 'the second line arrived while the process was still running');
    assert.match(output, /"msg":"first line"[^]*"msg":"second line"/);
  });

  it('loses no line when the process exits right after logging', { timeout: 60_000 }, async () => {
    const { output, exited } = await runChild(
      `for (let i = 0; i < 500; i += 1) log.info('line ' + i); process.exit(0);`,
      () => false,
    );
    assert.equal(exited, true);
    const lines = output.trim().split('\n');
    assert.equal(lines.length, 500);
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as { msg: string }).msg),
      Array.from({ length: 500 }, (_, index) => `line ${index}`),
    );
  });
});
