// What the benchmarks share about their server processes: CPU time over all threads and child pids from /proc
// (Linux), waiting until a server answers HTTP, one JSON POST through an undici pool, and a work directory whose
// child processes are stopped on exit. Used by bench/run.mjs, bench/cost.mjs, bench/ladder.mjs and bench/gc.mjs.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function childPids(pid) {
  const pids = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      pids.push(
        ...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
      );
    } catch {
      // task gone
    }
  }
  return pids;
}

/** CPU time (ms) a process (and optionally its children) has used so far: the sum over all threads of schedstat. */
export function cpuMs(pid, withChildren = false) {
  let ns = 0;
  const pids = withChildren ? [pid, ...childPids(pid)] : [pid];
  for (const one of pids) {
    try {
      for (const task of readdirSync(`/proc/${one}/task`)) {
        try {
          ns += Number(readFileSync(`/proc/${one}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
        } catch {
          // thread gone
        }
      }
    } catch {
      // process gone
    }
  }
  return ns / 1e6;
}

/** Resolves once something on 127.0.0.1:`port` answers `path` (any status), polling every 100 ms for up to 40 s. */
export async function waitForHttp(port, path = '/') {
  for (let tries = 0; tries < 400; tries += 1) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      await response.arrayBuffer();
      return;
    } catch {
      await new Promise((done) => setTimeout(done, 100));
    }
  }
  throw new Error(`nothing on port ${port}`);
}

export const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * One JSON POST through undici's `dispatch`, body read and dropped, failing unless 200; resolves with its start,
 * time to the first body byte and total time, in µs on the monotonic clock (`process.hrtime`, as in CPU profiles).
 */
export function timedPost(pool, path, body) {
  return new Promise((done, fail) => {
    let status = 0;
    let first = 0;
    const started = nowUs();
    pool.dispatch(
      { method: 'POST', path, headers: { 'content-type': 'application/json' }, body },
      {
        onConnect() {},
        onHeaders(code) {
          status = code;
          return true;
        },
        onData() {
          if (first === 0) first = nowUs() - started;
          return true;
        },
        onComplete() {
          if (status === 200) done({ started, first, total: nowUs() - started });
          else fail(new Error(`status ${status} from ${path}`));
        },
        onError: fail,
      },
    );
  });
}

/** One JSON POST (see timedPost); resolves with its duration in ms. */
export async function postJson(pool, path, body) {
  return (await timedPost(pool, path, body)).total / 1000;
}

/** A temporary directory, and a list of child processes that are stopped (and the directory removed) on exit. */
export function benchWorkspace(prefix) {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const children = [];
  process.on('exit', () => {
    for (const child of children) child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });
  return { work, children };
}
