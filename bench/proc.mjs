// What the benchmarks read about their server processes from /proc (Linux): CPU time over all threads, child pids,
// and waiting until a server answers HTTP. Shared by bench/run.mjs, bench/cost.mjs and bench/ladder.mjs.
import { readFileSync, readdirSync } from 'node:fs';

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
