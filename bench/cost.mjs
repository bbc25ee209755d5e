// CPU time per request of gemini-proxy builds, side by side: for deciding optimisations on a shared, noisy machine,
// where wall-clock latency moves by tens of percent between runs but the CPU time a process spends per request moves
// by a few. Every build serves the same requests in interleaved batches whose order rotates every round; the figure is
// the serving process's CPU time (all threads, /proc/<pid>/task/*/schedstat) over the batch, divided by its requests.
//
//   node bench/cost.mjs [--build dist/src/cli.js] [--build ../other-checkout/dist/src/cli.js] [--kind small|cli|stream]
//                       [--n 2000] [--rounds 5] [--concurrency 4] [--lean] [--no-access-log] [--profile <dir>]
//
// --build may repeat (A/B); each entry is a cli.js, optionally followed by #lean (operator features and access log
// off), #quiet (access log off) or #off=usage,metrics,dashboard (those operator features off, the access log on),
// or #node=<flag>[+<flag>…] (extra node flags for that build, shipped config), e.g. --build dist/src/cli.js
// --build dist/src/cli.js#quiet --build 'dist/src/cli.js#off=metrics' --build 'dist/src/cli.js#node=--max-semi-space-size=4'. --lean and
// --no-access-log apply to every build. --profile writes a --cpu-prof profile of every build's main thread to
// <dir>/build-N.cpuprofile (summarise with bench/profile-summary.mjs, draw with bench/flamegraph.mjs).
import { spawn } from 'node:child_process';
import { copyFileSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchWorkspace, cpuMs, postJson, waitForHttp } from './proc.mjs';
import { Pool } from 'undici';
import { SMALL_REQUEST, buildCliRequest } from './requests.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    build: { type: 'string', multiple: true, default: [join(here, '..', 'dist/src/cli.js')] },
    kind: { type: 'string', default: 'small' },
    n: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '4' },
    lean: { type: 'boolean', default: false },
    'no-access-log': { type: 'boolean', default: false },
    profile: { type: 'string' },
    'node-args': { type: 'string', default: '' },
  },
});
const N = Number(flags.n);
const ROUNDS = Number(flags.rounds);
const C = Number(flags.concurrency);
const { work, children } = benchWorkspace('gemini-proxy-cost-');

function start(name, args, execArgv = []) {
  const out = openSync(join(work, `${name}.log`), 'w');
  const child = spawn(process.execPath, [...execArgv, ...args], { stdio: ['ignore', out, out, 'ipc'] });
  children.push(child);
  return child;
}

const upstream = start('upstream', [join(here, 'upstream.mjs'), '--port', '0', '--pacing-ms', '0']);
const upstreamPort = await new Promise((done) => upstream.once('message', (message) => done(message.port)));

const builds = [];
for (const [index, entry] of flags.build.entries()) {
  const [cli, variant] = entry.split('#');
  const lean = flags.lean || variant === 'lean';
  const quiet = lean || flags['no-access-log'] || variant === 'quiet';
  const off = new Set(
    lean ? ['usage', 'metrics', 'dashboard'] : variant?.startsWith('off=') ? variant.slice(4).split(',') : [],
  );
  const port = 19500 + index + Math.floor(Math.random() * 400) * 4;
  const config = join(work, `config-${index}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      ...Object.fromEntries([...off].map((feature) => [feature, { enabled: false }])),
      openai_base_url: `http://127.0.0.1:${upstreamPort}/v1`,
      openai_api_key: 'sk-bench-upstream',
      default_openai_model: 'bench-model',
      server: { host: '127.0.0.1', port, log_level: 'info' },
      logging: { enable_detailed_logs: false, enable_access_logs: !quiet, log_directory: join(work, `logs-${index}`) },
    }),
  );
  const execArgv = [
    ...flags['node-args'].split(' ').filter(Boolean),
    ...(variant?.startsWith('node=') ? variant.slice(5).split('+') : []),
    ...(flags.profile === undefined
      ? []
      : // Each thread writes its own profile (the usage writer is a thread); the main thread's is copied out below.
        ['--cpu-prof', `--cpu-prof-dir=${join(resolve(flags.profile), `build-${index}`)}`]),
  ];
  const child = start(`build-${index}`, [resolve(cli), '--config', config], execArgv);
  builds.push({ name: `${index}:${entry}`, child, port, cpu: 0, n: 0, wall: 0 });
}
for (const build of builds) await waitForHttp(build.port, '/health');

const kind = flags.kind;
const body = JSON.stringify(kind === 'cli' ? buildCliRequest() : SMALL_REQUEST);
const path =
  kind === 'stream' ? '/v1beta/models/bench:streamGenerateContent?alt=sse' : '/v1beta/models/bench:generateContent';

const one = (pool) => postJson(pool, path, body);

for (let round = 0; round <= ROUNDS; round += 1) {
  const shift = round % builds.length;
  for (const build of [...builds.slice(shift), ...builds.slice(0, shift)]) {
    const pool = new Pool(`http://127.0.0.1:${build.port}`, { connections: C });
    let left = N;
    const loop = async () => {
      while (left-- > 0) await one(pool);
    };
    const before = cpuMs(build.child.pid);
    const started = performance.now();
    await Promise.all(Array.from({ length: C }, loop));
    const wall = performance.now() - started;
    const used = cpuMs(build.child.pid) - before;
    await pool.close();
    if (round === 0) continue; // warm-up (JIT)
    build.cpu += used;
    build.n += N;
    build.wall += wall;
  }
}
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
for (const build of builds) {
  process.stdout.write(
    `${build.name}: ${((build.cpu * 1000) / build.n).toFixed(1)} µs CPU per ${kind} request, ${((build.n / build.wall) * 1000).toFixed(0)} req/s at c=${C}, RSS ${rss(build.child.pid).toFixed(1)} MB\n`,
  );
}
process.stdout.write(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
await Promise.all(
  builds.map(
    (build) =>
      new Promise((done) => {
        build.child.once('exit', done);
        build.child.kill('SIGTERM');
      }),
  ),
);
if (flags.profile !== undefined) {
  for (const [index] of builds.entries()) {
    const dir = join(resolve(flags.profile), `build-${index}`);
    // CPU.<date>.<time>.<pid>.<thread id>.<sequence>.cpuprofile: thread 0 is the main thread.
    const main = readdirSync(dir).find((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name));
    if (main !== undefined) copyFileSync(join(dir, main), join(resolve(flags.profile), `build-${index}.cpuprofile`));
  }
}
process.exit(0);
