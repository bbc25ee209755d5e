// Where the time over the floor goes: a ladder of servers, each adding one layer to the one below, all in front of
// the same upstream and measured in the same run, in interleaved rounds whose order rotates. The figure that decides
// is CPU time per request of the serving process (all threads, from /proc/<pid>/task/*/schedstat): on a shared,
// noisy 2-vCPU machine it moves by a few percent between runs where wall-clock latency moves by tens.
//
//   node bench/ladder.mjs [--n 3000] [--rounds 5] [--concurrency 8] [--out bench/ladder.json]
//
// Rungs (small unary request; every server answers the same upstream):
//   floor         bench/floor.mjs: node:http + undici dispatch, bytes forwarded unchanged (OpenAI body)
//   stack         bench/stack-floor.mjs: Fastify 5 + undici dispatch (as gemini-proxy), the Gemini body parsed, a
//                 one-message Chat Completions body built, the answer parsed and a minimal Gemini answer sent
//   proxy_bare    gemini-proxy with every optional feature off: no access log, metrics, dashboard or usage store
//   proxy_access  the same plus the access log (to a file, as shipped)
//   proxy         gemini-proxy as shipped: access log, usage database, metrics, dashboard
// Each difference between neighbouring rungs is what that layer costs; `stack − floor` is the price of the framework
// and client API, `proxy_bare − stack` the price of gemini-proxy's own request path (validation, translation,
// routing, retries, timeouts, the response channel).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, openSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchWorkspace, cpuMs, postJson, waitForHttp } from './proc.mjs';
import { Pool } from 'undici';
import { SMALL_REQUEST } from './requests.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const { values: flags } = parseArgs({
  options: {
    n: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' },
    out: { type: 'string' },
  },
});
const N = Number(flags.n);
const ROUNDS = Number(flags.rounds);
const C = Number(flags.concurrency);
const { work, children } = benchWorkspace('gemini-proxy-ladder-');

function start(name, args) {
  const out = openSync(join(work, `${name}.log`), 'w');
  const child = spawn(process.execPath, args, { stdio: ['ignore', out, out, 'ipc'] });
  children.push(child);
  return child;
}

const upstream = start('upstream', [join(here, 'upstream.mjs'), '--port', '0', '--pacing-ms', '0']);
const upstreamPort = await new Promise((done) => upstream.once('message', (message) => done(message.port)));
const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
// Below the ephemeral range (32768+), where an outgoing connection could already hold the port.
const basePort = 20000 + Math.floor(Math.random() * 1500) * 8;

function proxyConfig(name, port, features) {
  const path = join(work, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      ...(features.operator
        ? {}
        : { usage: { enabled: false }, metrics: { enabled: false }, dashboard: { enabled: false } }),
      openai_base_url: `${upstreamUrl}/v1`,
      openai_api_key: 'sk-bench-upstream',
      default_openai_model: 'bench-model',
      server: { host: '127.0.0.1', port, log_level: 'info' },
      logging: {
        enable_detailed_logs: false,
        enable_access_logs: features.access,
        log_directory: join(work, `logs-${name}`),
      },
    }),
  );
  return path;
}

const geminiSmall = {
  path: '/v1beta/models/bench:generateContent',
  body: JSON.stringify(SMALL_REQUEST),
};
const cli = join(root, 'dist/src/cli.js');
const rungs = [
  {
    name: 'floor',
    args: (port) => [join(here, 'floor.mjs'), '--port', String(port), '--upstream', upstreamUrl],
    request: {
      path: '/v1/chat/completions',
      body: JSON.stringify({
        model: 'bench-model',
        messages: [{ role: 'user', content: SMALL_REQUEST.contents[0].parts[0].text }],
      }),
    },
  },
  {
    name: 'stack',
    args: (port) => [join(here, 'stack-floor.mjs'), '--port', String(port), '--upstream', upstreamUrl],
    request: geminiSmall,
  },
  {
    name: 'proxy_bare',
    args: (port) => [cli, '--config', proxyConfig('proxy_bare', port, { operator: false, access: false })],
    request: geminiSmall,
  },
  {
    name: 'proxy_access',
    args: (port) => [cli, '--config', proxyConfig('proxy_access', port, { operator: false, access: true })],
    request: geminiSmall,
  },
  {
    name: 'proxy',
    args: (port) => [cli, '--config', proxyConfig('proxy', port, { operator: true, access: true })],
    request: geminiSmall,
  },
];
for (const [index, rung] of rungs.entries()) {
  rung.port = basePort + index;
  rung.child = start(rung.name, rung.args(rung.port));
  rung.cpu = [];
  rung.latency = [];
}
for (const rung of rungs) await waitForHttp(rung.port);

const one = (pool, request) => postJson(pool, request.path, request.body);

async function batch(rung, concurrency, count) {
  const pool = new Pool(`http://127.0.0.1:${rung.port}`, { connections: concurrency, pipelining: 1 });
  let left = count;
  const times = [];
  const loop = async () => {
    while (left-- > 0) times.push(await one(pool, rung.request));
  };
  const before = cpuMs(rung.child.pid);
  await Promise.all(Array.from({ length: concurrency }, loop));
  const used = cpuMs(rung.child.pid) - before;
  await pool.close();
  return { cpuUs: (used * 1000) / count, times };
}

const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
const startedLoad = loadavg();
// Round 0 warms every server up (JIT) and is dropped.
for (let round = 0; round <= ROUNDS; round += 1) {
  const shift = round % rungs.length;
  for (const rung of [...rungs.slice(shift), ...rungs.slice(0, shift)]) {
    const cpu = await batch(rung, C, N);
    const latency = await batch(rung, 1, Math.ceil(N / 4));
    if (round === 0) continue;
    rung.cpu.push(cpu.cpuUs);
    rung.latency.push(...latency.times);
  }
  process.stderr.write(`[ladder] round ${round}/${ROUNDS}\n`);
}

const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const rows = rungs.map((rung, index) => {
  const cpuUs = median(rung.cpu);
  const p50 = median(rung.latency);
  const below = rungs[index - 1];
  return {
    rung: rung.name,
    cpu_us_per_request: Math.round(cpuUs),
    cpu_us_over_rung_below: below === undefined ? null : Math.round(cpuUs - median(below.cpu)),
    cpu_us_rounds: rung.cpu.map(Math.round),
    p50_ms_c1: Number(p50.toFixed(3)),
    p50_ms_over_rung_below: below === undefined ? null : Number((p50 - median(below.latency)).toFixed(3)),
    rss_mb: Number(rss(rung.child.pid).toFixed(1)),
  };
});
const result = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  load_average: {
    start: startedLoad.map((value) => Number(value.toFixed(2))),
    end: loadavg().map((v) => Number(v.toFixed(2))),
  },
  plan: { requests_per_batch: N, rounds: ROUNDS, concurrency_for_cpu: C, latency_concurrency: 1 },
  rows,
};
const pad = (value, width) => String(value).padStart(width);
process.stdout.write(
  `\n| rung         | CPU µs/request | over rung below | p50 c=1 (ms) | over rung below | RSS (MB) |\n`,
);
process.stdout.write(
  `| ------------ | -------------- | --------------- | ------------ | --------------- | -------- |\n`,
);
for (const row of rows) {
  process.stdout.write(
    `| ${row.rung.padEnd(12)} | ${pad(row.cpu_us_per_request, 14)} | ${pad(row.cpu_us_over_rung_below ?? '—', 15)} | ${pad(row.p50_ms_c1, 12)} | ${pad(row.p50_ms_over_rung_below ?? '—', 15)} | ${pad(row.rss_mb, 8)} |\n`,
  );
}
process.stdout.write(
  `load average ${result.load_average.start.join(' ')} at start, ${result.load_average.end.join(' ')} at end\n`,
);
if (flags.out !== undefined) writeFileSync(resolve(flags.out), `${JSON.stringify(result, null, 2)}\n`);
await Promise.all(
  rungs.map(
    (rung) =>
      new Promise((done) => {
        rung.child.once('exit', done);
        rung.child.kill('SIGTERM');
      }),
  ),
);
process.exit(0);
