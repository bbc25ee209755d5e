// Where gemini-proxy's added latency goes, request phase by request phase, against the floor.
//
// For each request kind (small, the 49.5 KB Gemini CLI request, a stream of 64 chunks 1 ms apart), the floor (bench/floor.mjs) and gemini-proxy (shipped
// defaults, or --lean) run side by side behind bench/upstream.mjs, each under `--cpu-prof`, and serve the same
// requests one at a time in interleaved batches, as `npm run bench` measures latency (so each server's caches are as
// cold as there). Measured per request: the client's wall-clock p50 (also straight to the upstream, "direct"), the
// time to the first body byte, the CPU time of each server's main thread (schedstat), and, from the profile samples taken inside the measured
// window, the share of that main-thread time in each request phase (bench/phases.mjs). The µs per phase are those
// shares times the measured main-thread CPU time. The added p50 and the added CPU time differ: the work done after
// the response is sent (access line, request event) overlaps the client's next step, and other threads and waits to
// be scheduled hold no phase. The CPU time comes from a pass without the profiler (its 1 ms sampling signal wakes an
// idle thread and adds CPU time of its own), the shares from a second, profiled pass. The floor and the proxy get exactly the same upstream
// request bytes (captured from the proxy first).
//
//   node bench/breakdown.mjs [--kinds small,cli,stream] [--rounds 20] [--batch 100] [--jit-warmup N] [--lean] [--json <file>]
import { spawn } from 'node:child_process';
import { openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { benchWorkspace, nowUs, timedPost, waitForHttp } from './proc.mjs';
import { phaseSamples } from './phases.mjs';
import { SMALL_REQUEST, buildCliRequest } from './requests.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    kinds: { type: 'string', default: 'small,cli' },
    rounds: { type: 'string', default: '20' },
    batch: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '20' },
    lean: { type: 'boolean', default: false },
    'jit-warmup': { type: 'string' },
    json: { type: 'string' },
  },
});
const ROUNDS = Number(flags.rounds);
const BATCH = Number(flags.batch);
const WARMUP = Number(flags.warmup);
const { work, children } = benchWorkspace('gemini-proxy-breakdown-');

function start(name, args, execArgv = []) {
  const out = openSync(join(work, `${name}.log`), 'w');
  const child = spawn(process.execPath, [...execArgv, ...args], { stdio: ['ignore', out, out, 'ipc'] });
  children.push(child);
  return child;
}
const ready = (child) => new Promise((done) => child.once('message', (message) => done(message.port)));
const stopped = (child) =>
  new Promise((done) => {
    child.once('exit', done);
    child.kill('SIGTERM');
  });

/** CPU time (µs) of a process's main thread so far. */
function mainThreadUs(pid) {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** Serves the interleaved batches once; with `profiled`, under --cpu-prof (whose 1 ms sampling signal wakes an idle
 * thread and so adds CPU time of its own: the profiled pass gives only the shares, the other the times). */
async function servePass(kind, profiled) {
  const tag = `${kind}-${profiled ? 'profiled' : 'timed'}`;
  const upstream = start(`upstream-${tag}`, [
    join(here, 'upstream.mjs'),
    '--port',
    '0',
    '--pacing-ms',
    kind === 'stream' ? '1' : '0',
  ]);
  const upstreamPort = await ready(upstream);
  const profiles = join(work, `profiles-${tag}`);
  // One folder per server: every thread writes its own profile there (gemini-proxy's usage writer is a thread).
  // Streams sample every 100 µs: their first-chunk windows are short, and only the samples inside them are split.
  const cpuProf = (name) =>
    profiled
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${join(profiles, name)}`,
          ...(kind === 'stream' ? ['--cpu-prof-interval=100'] : []),
        ]
      : [];
  const floor = start(
    `floor-${tag}`,
    [join(here, 'floor.mjs'), '--port', '0', '--upstream', `http://127.0.0.1:${upstreamPort}`],
    cpuProf('floor'),
  );
  const floorPort = await ready(floor);
  const proxyPort = 19900 + Math.floor(Math.random() * 90);
  const config = join(work, `config-${tag}`, 'config.json');
  const off = flags.lean
    ? { usage: { enabled: false }, metrics: { enabled: false }, dashboard: { enabled: false } }
    : {};
  (await import('node:fs')).mkdirSync(dirname(config), { recursive: true });
  writeFileSync(
    config,
    JSON.stringify({
      ...off,
      openai_base_url: `http://127.0.0.1:${upstreamPort}/v1`,
      openai_api_key: 'sk-bench-upstream',
      default_openai_model: 'bench-model',
      server: { host: '127.0.0.1', port: proxyPort, log_level: 'info' },
      logging: {
        enable_detailed_logs: false,
        enable_access_logs: !flags.lean,
        log_directory: join(work, `logs-${tag}`),
      },
    }),
  );
  const proxy = start(`proxy-${tag}`, [join(here, '..', 'dist/src/cli.js'), '--config', config], cpuProf('proxy'));
  await waitForHttp(proxyPort, '/health');

  const geminiBody = JSON.stringify(kind === 'cli' ? buildCliRequest() : SMALL_REQUEST);
  const geminiPath =
    kind === 'stream' ? '/v1beta/models/bench:streamGenerateContent?alt=sse' : '/v1beta/models/bench:generateContent';
  const pools = {
    direct: new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 1 }),
    floor: new Pool(`http://127.0.0.1:${floorPort}`, { connections: 1 }),
    proxy: new Pool(`http://127.0.0.1:${proxyPort}`, { connections: 1 }),
  };
  await timedPost(pools.proxy, geminiPath, geminiBody);
  const last = await pools.direct.request({ method: 'GET', path: '/__last' });
  const openaiBody = await last.body.text();
  const targets = {
    direct: { pool: pools.direct, path: '/v1/chat/completions', body: openaiBody },
    floor: { pool: pools.floor, path: '/v1/chat/completions', body: openaiBody, pid: floor.pid },
    proxy: { pool: pools.proxy, path: geminiPath, body: geminiBody, pid: proxy.pid },
  };
  const names = Object.keys(targets);
  // The JIT needs a few thousand requests before a server's code is optimised: warm every target up first (a paced
  // stream runs its per-chunk code 64 times a request, and takes 70 ms).
  const warmupRequests = Number(flags['jit-warmup'] ?? (kind === 'stream' ? 300 : 3000));
  for (const name of names)
    for (let index = 0; index < warmupRequests; index += 1)
      await timedPost(targets[name].pool, targets[name].path, targets[name].body);
  const result = Object.fromEntries(
    names.map((name) => [name, { wall: [], first: [], cpuUs: 0, requests: 0, windows: [], firstWindows: [] }]),
  );
  // A paced stream takes ~70 ms: fewer and smaller batches, as npm run bench measures streams (10 rounds of 15).
  const rounds = kind === 'stream' ? Math.min(ROUNDS, 10) : ROUNDS;
  const batch = kind === 'stream' ? Math.min(BATCH, 15) : BATCH;
  const warmup = kind === 'stream' ? Math.min(WARMUP, 3) : WARMUP;
  for (let round = 0; round <= rounds; round += 1) {
    for (const name of [...names.slice(round % 3), ...names.slice(0, round % 3)]) {
      const target = targets[name];
      for (let index = 0; index < warmup; index += 1) await timedPost(target.pool, target.path, target.body);
      const from = nowUs();
      const cpuBefore = target.pid === undefined ? 0 : mainThreadUs(target.pid);
      const wall = [];
      const first = [];
      const firstWindows = [];
      for (let index = 0; index < batch; index += 1) {
        const timing = await timedPost(target.pool, target.path, target.body);
        wall.push(timing.total);
        first.push(timing.first);
        firstWindows.push([timing.started, timing.started + timing.first]);
      }
      const cpu = target.pid === undefined ? 0 : mainThreadUs(target.pid) - cpuBefore;
      if (process.env.BREAKDOWN_DEBUG)
        process.stderr.write(
          `${kind} round ${round} ${name}: p50 ${percentile(wall, 50).toFixed(0)} µs, cpu ${(cpu / batch).toFixed(0)} µs\n`,
        );
      if (round === 0) continue; // JIT warm-up
      const entry = result[name];
      entry.wall.push(...wall);
      entry.first.push(...first);
      entry.firstWindows.push(...firstWindows);
      entry.cpuUs += cpu;
      entry.requests += batch;
      entry.windows.push([from, nowUs()]);
    }
  }
  for (const pool of Object.values(pools)) await pool.close();
  await Promise.all([stopped(floor), stopped(proxy), stopped(upstream)]);
  return { result, names, profiles };
}

async function measureKind(kind) {
  const timed = await servePass(kind, false);
  const { result: sampled, profiles } = await servePass(kind, true);
  const { result, names } = timed;
  const rows = new Map();
  const summary = {};
  for (const name of ['floor', 'proxy']) {
    // The main thread's profile: CPU.<date>.<time>.<pid>.<thread id 0>.<sequence>.cpuprofile
    const file = readdirSync(join(profiles, name)).find((entry) => /\.\d+\.0\.\d+\.cpuprofile$/.test(entry));
    if (file === undefined) throw new Error(`no main-thread profile of ${name} in ${join(profiles, name)}`);
    const profile = JSON.parse(readFileSync(join(profiles, name, file), 'utf8'));
    const counts = new Map();
    let busy = 0;
    for (const [from, to] of sampled[name].windows) {
      const part = phaseSamples(profile, { from, to, separateWrites: true });
      busy += part.busy;
      for (const [phase, count] of part.counts) counts.set(phase, (counts.get(phase) ?? 0) + count);
    }
    const cpuPerRequest = result[name].cpuUs / result[name].requests;
    summary[name] = { cpu_us: cpuPerRequest, busy_samples: busy };
    for (const [phase, count] of counts) {
      const row = rows.get(phase) ?? { floor: 0, proxy: 0 };
      row[name] = (count / busy) * cpuPerRequest;
      rows.set(phase, row);
    }
  }
  // Streams: what the main thread did between each request's start and its first body byte, in µs per request from
  // the samples inside those windows (sample count x the profile's mean sampling interval).
  const firstChunk = new Map();
  if (kind === 'stream') {
    for (const name of ['floor', 'proxy']) {
      const file = readdirSync(join(profiles, name)).find((entry) => /\.\d+\.0\.\d+\.cpuprofile$/.test(entry));
      const profile = JSON.parse(readFileSync(join(profiles, name, file), 'utf8'));
      const intervalUs = (profile.endTime - profile.startTime) / profile.samples.length;
      for (const [from, to] of sampled[name].firstWindows) {
        const part = phaseSamples(profile, { from, to, separateWrites: true });
        for (const [phase, count] of part.counts) {
          const row = firstChunk.get(phase) ?? { floor: 0, proxy: 0 };
          row[name] += (count * intervalUs) / sampled[name].firstWindows.length;
          firstChunk.set(phase, row);
        }
      }
    }
  }
  const p50 = Object.fromEntries(names.map((name) => [name, percentile(result[name].wall, 50)]));
  const firstP50 = Object.fromEntries(names.map((name) => [name, percentile(result[name].first, 50)]));
  return {
    kind,
    requests_per_target: result.proxy.requests,
    p50_us: p50,
    first_byte_p50_us: firstP50,
    added_first_byte_p50_over_floor_us: firstP50.proxy - firstP50.floor,
    added_p50_over_floor_us: p50.proxy - p50.floor,
    main_thread_cpu_us: { floor: summary.floor.cpu_us, proxy: summary.proxy.cpu_us },
    busy_samples: { floor: summary.floor.busy_samples, proxy: summary.proxy.busy_samples },
    phases: [...rows.entries()]
      .map(([phase, row]) => ({ phase, floor_us: row.floor, proxy_us: row.proxy, added_us: row.proxy - row.floor }))
      .sort((a, b) => b.added_us - a.added_us),
    ...(kind === 'stream'
      ? {
          until_first_chunk_phases: [...firstChunk.entries()]
            .map(([phase, row]) => ({
              phase,
              floor_us: row.floor,
              proxy_us: row.proxy,
              added_us: row.proxy - row.floor,
            }))
            .sort((a, b) => b.added_us - a.added_us),
        }
      : {}),
  };
}

const kinds = flags.kinds.split(',');
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const report = {
  date: new Date().toISOString(),
  variant: flags.lean ? 'lean' : 'shipped',
  load_start: load(),
  kinds: [],
};
for (const kind of kinds) report.kinds.push(await measureKind(kind));
report.load_end = load();

const us = (value) => value.toFixed(0).padStart(7);
for (const entry of report.kinds) {
  process.stdout.write(
    `\n${entry.kind} request, concurrency 1, ${entry.requests_per_target} requests per target (${report.variant})\n` +
      `p50 µs: direct ${us(entry.p50_us.direct)}, floor ${us(entry.p50_us.floor)}, proxy ${us(entry.p50_us.proxy)}` +
      ` -> proxy over the floor ${us(entry.added_p50_over_floor_us)}\n` +
      `first body byte p50 µs: direct ${us(entry.first_byte_p50_us.direct)}, floor ${us(entry.first_byte_p50_us.floor)}, proxy ${us(entry.first_byte_p50_us.proxy)}` +
      ` -> proxy over the floor ${us(entry.added_first_byte_p50_over_floor_us)}\n` +
      `main-thread CPU µs per request: floor ${us(entry.main_thread_cpu_us.floor)}, proxy ${us(entry.main_thread_cpu_us.proxy)}` +
      ` -> ${us(entry.main_thread_cpu_us.proxy - entry.main_thread_cpu_us.floor)} more\n\n` +
      `| phase (main thread) | floor µs | proxy µs | added µs |\n|---|--:|--:|--:|\n`,
  );
  for (const row of entry.phases)
    process.stdout.write(`| ${row.phase} | ${us(row.floor_us)} | ${us(row.proxy_us)} | ${us(row.added_us)} |\n`);
  const cpuGap = entry.main_thread_cpu_us.proxy - entry.main_thread_cpu_us.floor;
  process.stdout.write(
    `| **main-thread CPU, all phases** | ${us(entry.main_thread_cpu_us.floor)} | ${us(entry.main_thread_cpu_us.proxy)} | ${us(cpuGap)} |\n` +
      `| added p50 minus added CPU (work after the response is sent overlaps the client; other threads; scheduling) | | | ${us(entry.added_p50_over_floor_us - cpuGap)} |\n` +
      `| **added p50 over the floor** | | | ${us(entry.added_p50_over_floor_us)} |\n`,
  );
}
for (const entry of report.kinds) {
  if (entry.until_first_chunk_phases === undefined) continue;
  process.stdout.write(
    `\n${entry.kind}: main thread from each request's start to its first body byte, µs per request from profile samples\n\n` +
      `| phase (until the first chunk) | floor µs | proxy µs | added µs |\n|---|--:|--:|--:|\n`,
  );
  const rows = entry.until_first_chunk_phases;
  for (const row of rows)
    process.stdout.write(`| ${row.phase} | ${us(row.floor_us)} | ${us(row.proxy_us)} | ${us(row.added_us)} |\n`);
  const sum = (key) => rows.reduce((total, row) => total + row[key], 0);
  process.stdout.write(
    `| **all phases** | ${us(sum('floor_us'))} | ${us(sum('proxy_us'))} | ${us(sum('added_us'))} |\n`,
  );
}
process.stdout.write(`\nload average ${report.load_start} at start, ${report.load_end} at end\n`);
if (flags.json !== undefined) writeFileSync(flags.json, `${JSON.stringify(report, null, 2)}\n`);
process.exit(0);
