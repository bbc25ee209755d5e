// The load generator: its own process (forked by bench/run.mjs, driven over IPC), undici Pools, one per target and
// concurrency. It never runs in any measured server's event loop.
//
// Commands (each answered with { id, result } or { id, error }):
//   setup    capture the proxy's upstream bodies (so every OpenAI-format target gets exactly the request the proxy
//            sends upstream) and check every target answers every kind of request
//   latency  concurrency 1, interleaved batches in rotated order, warm-up samples dropped → p50/p99 per target
//   stream   the same for the 64-chunk stream → time to first chunk and per-chunk time per target
//   rps      concurrency N for a fixed time per batch, interleaved, rotated → requests/s per target
//   open     open N streams that stay open on one target and wait until every one has its first chunk
//   close    close them
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { SMALL_REQUEST, buildCliRequest } from './requests.mjs';

const now = () => performance.now();

/** name → { spec, bodies: { small, cli, stream, hold }, pools: Map<connections, Pool> } */
const targets = new Map();
let openStreams = [];

function pool(target, connections) {
  let found = target.pools.get(connections);
  if (found === undefined) {
    found = new Pool(target.spec.origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    target.pools.set(connections, found);
  }
  return found;
}

function pathFor(target, kind) {
  return kind === 'small' || kind === 'cli'
    ? target.spec.unaryPath
    : kind === 'hold'
      ? target.spec.holdPath
      : target.spec.streamPath;
}

/** One request, body fully read. Returns timings in ms from the start of the request. */
async function exchange(target, kind, connections = 1, keepText = false) {
  const start = now();
  const response = await pool(target, connections).request({
    method: 'POST',
    path: pathFor(target, kind),
    headers: target.spec.headers,
    body: target.bodies[kind],
  });
  let first = 0;
  let text = keepText ? '' : undefined;
  for await (const chunk of response.body) {
    if (first === 0) first = now();
    if (keepText) text += chunk.toString('utf8');
  }
  const end = now();
  return {
    status: response.statusCode,
    ttfc: first === 0 ? end - start : first - start,
    total: end - start,
    span: first === 0 ? 0 : end - first,
    text,
  };
}

/** CPU time (ms) the given processes have used so far, all threads (schedstat of every task in /proc/<pid>/task). */
function cpuMs(pids) {
  let ns = 0;
  for (const pid of pids) {
    try {
      for (const task of readdirSync(`/proc/${pid}/task`)) {
        try {
          ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
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

/**
 * One small unary request for the throughput phase, through undici's lowest-level `dispatch`: no response stream, no
 * promise per chunk, so the load generator spends as little CPU per request as undici allows. Resolves to the status.
 */
function leanExchange(target, connections) {
  return new Promise((resolve, reject) => {
    let status = 0;
    pool(target, connections).dispatch(
      { method: 'POST', path: target.spec.unaryPath, headers: target.spec.headers, body: target.bodies.small },
      {
        onConnect() {},
        onHeaders(statusCode) {
          status = statusCode;
          return true;
        },
        onData() {
          return true;
        },
        onComplete() {
          resolve(status);
        },
        onError: reject,
      },
    );
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

function summary(samples) {
  const sorted = Float64Array.from(samples).sort();
  const mean = samples.length === 0 ? null : samples.reduce((sum, value) => sum + value, 0) / samples.length;
  return {
    n: samples.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    mean,
  };
}

function rotated(list, round) {
  const shift = round % list.length;
  return [...list.slice(shift), ...list.slice(0, shift)];
}

function countSseEvents(text) {
  return text.split(/\r?\n\r?\n/).filter((event) => event.trim().startsWith('data:')).length;
}

async function setup({ specs, proxyName, upstreamOrigin }) {
  const gemini = { small: SMALL_REQUEST, cli: buildCliRequest(), stream: SMALL_REQUEST, hold: SMALL_REQUEST };
  for (const spec of specs) targets.set(spec.name, { spec, bodies: {}, pools: new Map() });
  const proxy = targets.get(proxyName);
  const geminiBodies = Object.fromEntries(Object.entries(gemini).map(([kind, body]) => [kind, JSON.stringify(body)]));
  proxy.bodies = geminiBodies;
  for (const spec of specs) if (spec.format === 'gemini') targets.get(spec.name).bodies = geminiBodies;

  // What the proxy sends upstream, captured at the upstream: the OpenAI-format targets send exactly these bytes.
  const upstream = new Pool(upstreamOrigin, { connections: 1 });
  const captured = {};
  for (const kind of ['small', 'cli', 'stream']) {
    const result = await exchange(proxy, kind);
    if (result.status !== 200) throw new Error(`proxy answered ${result.status} to the ${kind} request`);
    const last = await upstream.request({ method: 'GET', path: '/__last' });
    captured[kind] = await last.body.text();
  }
  {
    const abort = new AbortController();
    const response = await pool(proxy, 1).request({
      method: 'POST',
      path: proxy.spec.holdPath,
      headers: proxy.spec.headers,
      body: geminiBodies.hold,
      signal: abort.signal,
    });
    for await (const _chunk of response.body) break;
    const last = await upstream.request({ method: 'GET', path: '/__last' });
    captured.hold = await last.body.text();
    abort.abort();
  }
  await upstream.close();
  for (const spec of specs) if (spec.format === 'openai') targets.get(spec.name).bodies = captured;

  // Every target answers every kind; streams carry the expected number of events.
  const checks = {};
  for (const spec of specs) {
    const target = targets.get(spec.name);
    const small = await exchange(target, 'small', 1, true);
    const cli = await exchange(target, 'cli', 1, true);
    const stream = await exchange(target, 'stream', 1, true);
    checks[spec.name] = {
      small_status: small.status,
      cli_status: cli.status,
      stream_status: stream.status,
      stream_events: countSseEvents(stream.text ?? ''),
      small_body: (small.text ?? '').slice(0, 160),
    };
  }
  return {
    request_bytes: Object.fromEntries(
      Object.entries(geminiBodies).map(([kind, body]) => [kind, Buffer.byteLength(body)]),
    ),
    upstream_request_bytes: Object.fromEntries(
      Object.entries(captured).map(([kind, body]) => [kind, Buffer.byteLength(body)]),
    ),
    checks,
  };
}

async function latency({ names, kind, rounds, batch, warmup }) {
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const errors = Object.fromEntries(names.map((name) => [name, 0]));
  for (let round = 0; round < rounds; round += 1) {
    for (const name of rotated(names, round)) {
      const target = targets.get(name);
      for (let index = 0; index < warmup + batch; index += 1) {
        const result = await exchange(target, kind);
        if (result.status !== 200) errors[name] += 1;
        else if (index >= warmup) samples[name].push(result.total);
      }
    }
  }
  return Object.fromEntries(names.map((name) => [name, { ...summary(samples[name]), errors: errors[name] }]));
}

async function stream({ names, rounds, batch, warmup, chunks }) {
  const ttfc = Object.fromEntries(names.map((name) => [name, []]));
  const perChunk = Object.fromEntries(names.map((name) => [name, []]));
  const errors = Object.fromEntries(names.map((name) => [name, 0]));
  for (let round = 0; round < rounds; round += 1) {
    for (const name of rotated(names, round)) {
      const target = targets.get(name);
      for (let index = 0; index < warmup + batch; index += 1) {
        const result = await exchange(target, 'stream');
        if (result.status !== 200) errors[name] += 1;
        else if (index >= warmup) {
          ttfc[name].push(result.ttfc);
          perChunk[name].push(result.span / chunks);
        }
      }
    }
  }
  return Object.fromEntries(
    names.map((name) => [
      name,
      { ttfc: summary(ttfc[name]), per_chunk: summary(perChunk[name]), errors: errors[name] },
    ]),
  );
}

/**
 * `watch` maps a label to process ids (e.g. the upstream); every target's own `pids` (from its spec) are watched as
 * "target" and this process as "loadgen". The CPU share of each, in % of one core over the counting window, shows
 * which process is the bottleneck: the target should be near 100 %, the load generator well below.
 */
async function rps({ names, rounds, seconds, warmupSeconds, concurrency, watch = {} }) {
  const totals = Object.fromEntries(
    names.map((name) => [name, { completed: 0, all: 0, elapsed: 0, errors: 0, perRound: [], cpu: {} }]),
  );
  for (let round = 0; round < rounds; round += 1) {
    for (const name of rotated(names, round)) {
      const target = targets.get(name);
      let counting = false;
      let stop = false;
      let completed = 0;
      let errors = 0;
      const loop = async () => {
        while (!stop) {
          try {
            const status = await leanExchange(target, concurrency);
            totals[name].all += 1;
            if (!counting) continue;
            if (status === 200) completed += 1;
            else errors += 1;
          } catch {
            if (counting) errors += 1;
          }
        }
      };
      const loops = Array.from({ length: concurrency }, loop);
      await new Promise((resolve) => setTimeout(resolve, warmupSeconds * 1000));
      const pids = target.spec.pids ?? [];
      // With several processes (--workers), each one on its own too: how the work splits between primary and workers.
      const perPid = pids.length > 1 ? Object.fromEntries(pids.map((pid) => [`pid_${pid}`, [pid]])) : {};
      const watched = { target: pids, loadgen: [process.pid], ...watch, ...perPid };
      const cpuBefore = Object.fromEntries(Object.entries(watched).map(([label, pids]) => [label, cpuMs(pids)]));
      counting = true;
      const start = now();
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      const elapsed = (now() - start) / 1000;
      const count = completed;
      counting = false;
      for (const [label, pids] of Object.entries(watched)) {
        totals[name].cpu[label] = (totals[name].cpu[label] ?? 0) + cpuMs(pids) - cpuBefore[label];
      }
      stop = true;
      await Promise.all(loops);
      totals[name].completed += count;
      totals[name].elapsed += elapsed;
      totals[name].errors += errors;
      totals[name].perRound.push(Math.round(count / elapsed));
    }
  }
  return Object.fromEntries(
    names.map((name) => {
      const total = totals[name];
      const cpuShare = Object.fromEntries(
        Object.entries(total.cpu).map(([label, ms]) => [label, Math.round(ms / total.elapsed / 10)]),
      );
      const cpuUsPerRequest = Object.fromEntries(
        Object.entries(total.cpu).map(([label, ms]) => [label, Math.round((ms * 1000) / Math.max(1, total.completed))]),
      );
      return [
        name,
        {
          rps: total.completed / total.elapsed,
          per_round: total.perRound,
          errors: total.errors,
          completed: total.completed,
          requests: total.all,
          cpu_percent_of_one_core: cpuShare,
          cpu_us_per_request: cpuUsPerRequest,
        },
      ];
    }),
  );
}

async function open({ name, count, timeoutSeconds }) {
  const target = targets.get(name);
  const streamPool = new Pool(target.spec.origin, {
    connections: count,
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const deadline = now() + timeoutSeconds * 1000;
  let opened = 0;
  let failed = 0;
  let firstError;
  const openOne = async () => {
    const abort = new AbortController();
    const entry = { abort, pool: streamPool };
    openStreams.push(entry);
    try {
      const response = await streamPool.request({
        method: 'POST',
        path: target.spec.holdPath,
        headers: target.spec.headers,
        body: target.bodies.hold,
        signal: abort.signal,
      });
      if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
      const body = response.body;
      entry.body = body;
      // Read (and discard) everything, so heartbeats never back up; the first chunk marks the stream as open.
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no first chunk in time')), Math.max(1, deadline - now()));
        body.on('data', () => {
          clearTimeout(timer);
          resolve();
        });
        body.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        body.on('end', () => {
          clearTimeout(timer);
          reject(new Error('the stream ended instead of staying open'));
        });
      });
      opened += 1;
    } catch (error) {
      failed += 1;
      firstError ??= error instanceof Error ? error.message : String(error);
    }
  };
  // A stream still waiting for its answer at the deadline (queued somewhere) is given up, so the phase always ends.
  const giveUp = setTimeout(() => {
    for (const entry of openStreams) if (entry.body === undefined) entry.abort.abort();
  }, timeoutSeconds * 1000);
  // Open in waves so the listen backlog is never the limit being measured.
  const wave = 100;
  for (let start = 0; start < count && now() < deadline; start += wave) {
    await Promise.all(Array.from({ length: Math.min(wave, count - start) }, openOne));
  }
  clearTimeout(giveUp);
  return { requested: count, opened, failed, error: firstError };
}

async function close() {
  const pools = new Set();
  for (const entry of openStreams) {
    entry.abort.abort();
    pools.add(entry.pool);
  }
  openStreams = [];
  await Promise.all([...pools].map((item) => item.destroy().catch(() => {})));
  return { closed: true };
}

const COMMANDS = { setup, latency, stream, rps, open, close };

process.on('message', async (message) => {
  try {
    const result = await COMMANDS[message.cmd](message.args ?? {});
    process.send({ id: message.id, result });
  } catch (error) {
    process.send({
      id: message.id,
      error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error),
    });
  }
});
process.send({ ready: true });
