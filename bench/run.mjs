// `npm run bench`: gemini-proxy's overhead, measured side by side with a zero-work Node forwarder (the floor) and
// Portkey's gateway (the reference), against direct-to-upstream, in the same run, in interleaved batches.
//
//   node bench/run.mjs [--quick] [--pacing-ms 1] [--no-reference] [--profile <dir>] [--out bench/results.json]
//
// Processes (all on 127.0.0.1): the upstream (bench/upstream.mjs), the floor (bench/floor.mjs), gemini-proxy
// (dist/src/cli.js) with access logs off, the same with access logs on (written to a file), gemini-proxy with
// --workers 2, Portkey's gateway, and the load generator (bench/loadgen.mjs). The floor, Portkey and direct receive
// the OpenAI request gemini-proxy itself sends upstream (captured at the upstream), gemini-proxy receives the
// equivalent Gemini request: the same upstream work for every target.
import { execFileSync, fork, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { childPids, cpuMs } from './proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'pacing-ms': { type: 'string', default: '1' },
    'no-reference': { type: 'boolean', default: false },
    profile: { type: 'string' },
    /** Extra node flags for every gemini-proxy process, e.g. "--max-semi-space-size=4" (tuning experiments). */
    'proxy-node-args': { type: 'string', default: '' },
    out: { type: 'string' },
    /** Keep the temporary directory with every server's output (for debugging). */
    'keep-logs': { type: 'boolean', default: false },
    /** For development and profiling: a comma-separated subset of floor,small,cli,stream,rps,workers,rss,ladder. */
    phases: { type: 'string', default: 'floor,small,cli,stream,rps,workers,rss,ladder' },
  },
});
/** bench/floor-variants.mjs designs raced against bench/floor.mjs to validate it. */
const FLOOR_VARIANTS = ['request-pipe', 'request', 'stream', 'http-agent'];
const phases = new Set(flags.phases.split(',').map((phase) => phase.trim()));
const quick = flags.quick;
const pacingMs = Number(flags['pacing-ms']);
const CHUNKS = 64;
const outPath = resolve(flags.out ?? join(here, quick ? 'results.quick.json' : 'results.json'));

/** Sample plan. Full: thousands of samples per target for the c=1 figures, about three minutes in all. */
const PLAN = quick
  ? {
      small: { rounds: 4, batch: 50, warmup: 10 },
      cli: { rounds: 3, batch: 30, warmup: 5 },
      stream: { rounds: 1, batch: 10, warmup: 2 },
      rps: { rounds: 1, seconds: 0.6, warmupSeconds: 0.3, concurrency: 64 },
      floorLatency: { rounds: 2, batch: 50, warmup: 10 },
      floorRps: { rounds: 1, seconds: 0.6, warmupSeconds: 0.3, concurrency: 64 },
      openStreams: 200,
      warmupRequests: 100,
      settleMs: 400,
    }
  : {
      small: { rounds: 30, batch: 100, warmup: 20 },
      cli: { rounds: 20, batch: 100, warmup: 20 },
      stream: { rounds: 10, batch: 15, warmup: 3 },
      rps: { rounds: 3, seconds: 3, warmupSeconds: 0.75, concurrency: 64 },
      floorLatency: { rounds: 10, batch: 100, warmup: 20 },
      floorRps: { rounds: 3, seconds: 2, warmupSeconds: 0.5, concurrency: 64 },
      openStreams: 1000,
      // gemini-proxy's main-thread CPU per small request settles after about 4,000 requests on this VM (1,000 after
      // start: ~1.5x its settled figure), the floor's after about 1,000; bench/breakdown.mjs --jit-warmup shows it.
      warmupRequests: 5000,
      settleMs: 1000,
    };

const started = Date.now();
const loadAtStart = loadavg().map((value) => Math.round(value * 10) / 10);
const work = mkdtempSync(join(tmpdir(), 'gemini-proxy-bench-'));
const children = [];
const log = (message) =>
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);

async function freePorts(count) {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise((resolveServer) => {
          const server = createServer();
          server.listen(0, '127.0.0.1', () => resolveServer(server));
        }),
    ),
  );
  const ports = servers.map((server) => server.address().port);
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

function outputFile(name) {
  return openSync(join(work, `${name}.log`), 'w');
}

function track(name, child) {
  children.push({ name, child });
  child.on('exit', (code, signal) => {
    if (!shuttingDown)
      log(`${name} exited unexpectedly (code ${code}, signal ${signal}); see ${join(work, `${name}.log`)}`);
  });
  return child;
}

function startNode(name, args, { execArgv = [], env = {} } = {}) {
  const out = outputFile(name);
  return track(
    name,
    spawn(process.execPath, [...execArgv, ...args], {
      cwd: root,
      stdio: ['ignore', out, out],
      env: { ...process.env, ...env },
    }),
  );
}

async function waitHttp(port, path, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      await response.arrayBuffer();
      if (response.status < 500) return;
      lastError = new Error(`status ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((done) => setTimeout(done, 150));
  }
  throw new Error(`nothing answered on 127.0.0.1:${port}${path} within ${timeoutMs} ms (${lastError?.message})`);
}

/** VmRSS of a process, in MB (MiB). */
function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return match ? Number(match[1]) / 1024 : null;
}

let shuttingDown = false;
async function shutdown() {
  shuttingDown = true;
  const alive = children.filter(({ child }) => child.exitCode === null && child.signalCode === null);
  await Promise.all(
    alive.map(
      ({ child }) =>
        new Promise((done) => {
          const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
          child.once('exit', () => {
            clearTimeout(force);
            done();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}
process.on('exit', () => {
  for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
process.on('SIGINT', () => {
  shutdown().finally(() => process.exit(130));
});

// ---------------------------------------------------------------------------------------------------------------------

const round3 = (value) =>
  value === null || value === undefined || Number.isNaN(value) ? null : Math.round(value * 1000) / 1000;
const round1 = (value) =>
  value === null || value === undefined || Number.isNaN(value) ? null : Math.round(value * 10) / 10;

async function main() {
  if (!existsSync(join(root, 'dist/src/cli.js')))
    throw new Error('dist/src/cli.js is missing: run `npm run build` (npm run bench does)');
  const [
    upstreamPort,
    floorPort,
    proxyPort,
    proxyQuietPort,
    proxyW2Port,
    referencePort,
    proxyLeanPort,
    proxySemiPort,
    ...variantPorts
  ] = await freePorts(8 + FLOOR_VARIANTS.length);
  log(`work directory ${work}; ${quick ? 'quick smoke' : 'full run'}; pacing ${pacingMs} ms × ${CHUNKS} chunks`);

  // The upstream and the floor.
  const upstream = startNode('upstream', [
    join(here, 'upstream.mjs'),
    '--port',
    String(upstreamPort),
    '--pacing-ms',
    String(pacingMs),
    '--chunks',
    String(CHUNKS),
  ]);
  const floor = startNode('floor', [
    join(here, 'floor.mjs'),
    '--port',
    String(floorPort),
    '--upstream',
    `http://127.0.0.1:${upstreamPort}`,
  ]);
  // Other forwarder designs, raced against the floor to validate it (bench/floor-variants.mjs).
  const variants = FLOOR_VARIANTS.map((variant, index) => ({
    name: `floor_${variant.replaceAll('-', '_')}`,
    variant,
    port: variantPorts[index],
    child: startNode(`floor-${variant}`, [
      join(here, 'floor-variants.mjs'),
      '--variant',
      variant,
      '--port',
      String(variantPorts[index]),
      '--upstream',
      `http://127.0.0.1:${upstreamPort}`,
    ]),
  }));

  // gemini-proxy as shipped (access log written to a file, usage database, metrics and dashboard on): the headline,
  // and the same with --workers 2. Extra rows: the access log off, and everything optional off (`lean`: usage
  // database, metrics, dashboard and access log).
  const proxyConfig = (port, access, lean = false) => {
    const path = join(work, `proxy-${port}.json`);
    writeFileSync(
      path,
      JSON.stringify({
        ...(lean ? { usage: { enabled: false }, metrics: { enabled: false }, dashboard: { enabled: false } } : {}),
        openai_base_url: `http://127.0.0.1:${upstreamPort}/v1`,
        openai_api_key: 'sk-bench-upstream',
        default_openai_model: 'bench-model',
        model_mapping: { 'bench-hold': 'bench-hold' },
        server: { host: '127.0.0.1', port, log_level: 'info' },
        logging: { enable_detailed_logs: false, enable_access_logs: access, log_directory: join(work, `logs-${port}`) },
      }),
    );
    return path;
  };
  const cli = join(root, 'dist/src/cli.js');
  const proxyNodeArgs = flags['proxy-node-args'].split(' ').filter(Boolean);
  const profileDir = flags.profile === undefined ? undefined : resolve(flags.profile);
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  const proxy = startNode('proxy', [cli, '--config', proxyConfig(proxyPort, true)], {
    execArgv: [...proxyNodeArgs, ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`])],
  });
  const proxyQuiet = startNode('proxy-no-access-log', [cli, '--config', proxyConfig(proxyQuietPort, false)], {
    execArgv: proxyNodeArgs,
  });
  const proxyLean = startNode('proxy-lean', [cli, '--config', proxyConfig(proxyLeanPort, false, true)], {
    execArgv: proxyNodeArgs,
  });
  // As shipped, with V8's young generation capped at 2 MB per semi-space (node --max-semi-space-size=2, e.g. through
  // NODE_OPTIONS): what the memory figures are without the young generation's growth under load.
  const SEMI_SPACE_ARGS = ['--max-semi-space-size=2'];
  const proxySemi = startNode('proxy-semi-space-2', [cli, '--config', proxyConfig(proxySemiPort, true)], {
    execArgv: [...proxyNodeArgs, ...SEMI_SPACE_ARGS],
  });
  const proxyW2 = startNode('proxy-workers-2', [cli, '--config', proxyConfig(proxyW2Port, true), '--workers', '2'], {
    execArgv: proxyNodeArgs,
  });

  // Portkey's gateway, OpenAI pass-through to the same upstream, pinned to loopback.
  let reference = { error: 'skipped (--no-reference)' };
  if (!flags['no-reference']) {
    try {
      const require = createRequire(import.meta.url);
      const packageJson = require.resolve('@portkey-ai/gateway/package.json');
      const version = JSON.parse(readFileSync(packageJson, 'utf8')).version;
      const entry = join(dirname(packageJson), 'build/start-server.js');
      const child = startNode('reference', [entry, `--port=${referencePort}`, '--headless'], {
        execArgv: ['--import', pathToFileURL(join(here, 'loopback-only.mjs')).href],
      });
      reference = { name: `Portkey gateway ${version} (@portkey-ai/gateway)`, child };
    } catch (error) {
      reference = { error: `@portkey-ai/gateway is not installed (${error.message}); run npm ci` };
    }
  }

  await waitHttp(upstreamPort, '/v1/models');
  await waitHttp(floorPort, '/v1/models');
  for (const variant of variants) await waitHttp(variant.port, '/v1/models');
  await waitHttp(proxyPort, '/health');
  await waitHttp(proxyQuietPort, '/health');
  await waitHttp(proxyLeanPort, '/health');
  await waitHttp(proxySemiPort, '/health');
  await waitHttp(proxyW2Port, '/health');
  if (reference.child !== undefined) {
    try {
      await waitHttp(referencePort, '/');
    } catch (error) {
      reference = {
        error: `the reference gateway did not start: ${error.message}; see ${join(work, 'reference.log')}`,
      };
    }
  }
  log('all servers up');
  const rssStart = {
    upstream: rssMb(upstream.pid),
    floor: rssMb(floor.pid),
    proxy: rssMb(proxy.pid),
    reference: reference.child ? rssMb(reference.child.pid) : null,
  };

  // The load generator, in its own process.
  const loadgen = track(
    'loadgen',
    fork(join(here, 'loadgen.mjs'), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  await new Promise((done) => loadgen.once('message', done));
  let sequence = 0;
  const pending = new Map();
  loadgen.on('message', (message) => {
    const entry = pending.get(message.id);
    if (entry === undefined) return;
    pending.delete(message.id);
    if (message.error !== undefined) entry.reject(new Error(message.error));
    else entry.resolve(message.result);
  });
  const call = (cmd, args) =>
    new Promise((resolveCall, rejectCall) => {
      const id = ++sequence;
      pending.set(id, { resolve: resolveCall, reject: rejectCall });
      loadgen.send({ id, cmd, args });
    });

  const openaiHeaders = { 'content-type': 'application/json', authorization: 'Bearer sk-bench-upstream' };
  const geminiHeaders = { 'content-type': 'application/json' };
  const openaiPaths = {
    unaryPath: '/v1/chat/completions',
    streamPath: '/v1/chat/completions',
    holdPath: '/v1/chat/completions',
  };
  const geminiPaths = {
    unaryPath: '/v1beta/models/bench:generateContent',
    streamPath: '/v1beta/models/bench:streamGenerateContent?alt=sse',
    holdPath: '/v1beta/models/bench-hold:streamGenerateContent?alt=sse',
  };
  const specs = [
    {
      name: 'direct',
      origin: `http://127.0.0.1:${upstreamPort}`,
      headers: openaiHeaders,
      format: 'openai',
      pids: [],
      ...openaiPaths,
    },
    {
      name: 'floor',
      origin: `http://127.0.0.1:${floorPort}`,
      headers: openaiHeaders,
      format: 'openai',
      pids: [floor.pid],
      ...openaiPaths,
    },
    ...variants.map((variant) => ({
      name: variant.name,
      origin: `http://127.0.0.1:${variant.port}`,
      headers: openaiHeaders,
      format: 'openai',
      pids: [variant.child.pid],
      ...openaiPaths,
    })),
    {
      name: 'proxy',
      origin: `http://127.0.0.1:${proxyPort}`,
      headers: geminiHeaders,
      format: 'gemini',
      pids: [proxy.pid],
      ...geminiPaths,
    },
    {
      name: 'proxy_no_access_log',
      origin: `http://127.0.0.1:${proxyQuietPort}`,
      headers: geminiHeaders,
      format: 'gemini',
      pids: [proxyQuiet.pid],
      ...geminiPaths,
    },
    {
      name: 'proxy_lean',
      origin: `http://127.0.0.1:${proxyLeanPort}`,
      headers: geminiHeaders,
      format: 'gemini',
      pids: [proxyLean.pid],
      ...geminiPaths,
    },
    {
      name: 'proxy_semi_space_2',
      origin: `http://127.0.0.1:${proxySemiPort}`,
      headers: geminiHeaders,
      format: 'gemini',
      pids: [proxySemi.pid],
      ...geminiPaths,
    },
    {
      name: 'proxy_workers_2',
      origin: `http://127.0.0.1:${proxyW2Port}`,
      headers: geminiHeaders,
      format: 'gemini',
      pids: [proxyW2.pid, ...childPids(proxyW2.pid)],
      ...geminiPaths,
    },
  ];
  if (reference.child !== undefined) {
    specs.push({
      name: 'reference',
      origin: `http://127.0.0.1:${referencePort}`,
      headers: {
        ...openaiHeaders,
        'x-portkey-provider': 'openai',
        'x-portkey-custom-host': `http://127.0.0.1:${upstreamPort}/v1`,
      },
      format: 'openai',
      pids: [reference.child.pid],
      ...openaiPaths,
    });
  }
  const setup = await call('setup', { specs, proxyName: 'proxy', upstreamOrigin: `http://127.0.0.1:${upstreamPort}` });
  for (const [name, check] of Object.entries(setup.checks)) {
    log(
      `check ${name}: small ${check.small_status}, cli ${check.cli_status}, stream ${check.stream_status} with ${check.stream_events} events`,
    );
  }
  const refCheck = setup.checks.reference;
  if (
    refCheck !== undefined &&
    (refCheck.small_status !== 200 || refCheck.cli_status !== 200 || refCheck.stream_status !== 200)
  ) {
    reference = {
      error: `the reference gateway answered ${refCheck.small_status}/${refCheck.cli_status}/${refCheck.stream_status}: ${refCheck.small_body}`,
    };
    specs.splice(
      specs.findIndex((spec) => spec.name === 'reference'),
      1,
    );
  }
  for (const [name, check] of Object.entries(setup.checks)) {
    if (
      name !== 'reference' &&
      (check.small_status !== 200 || check.cli_status !== 200 || check.stream_status !== 200)
    ) {
      throw new Error(`${name} failed its check: ${JSON.stringify(check)}`);
    }
  }
  const hasRef = specs.some((spec) => spec.name === 'reference');
  const withRef = (names) => (hasRef ? [...names, 'reference'] : names);
  log(
    `request sizes: Gemini ${JSON.stringify(setup.request_bytes)}; upstream ${JSON.stringify(setup.upstream_request_bytes)}`,
  );

  // Warm-up (JIT, pools), then idle RSS. The p50 of every 1,000 warm-up requests is kept: how fast each target
  // settles after start (the launcher starts a proxy for each Gemini CLI run).
  const variantNames = variants.map((variant) => variant.name);
  const warmNames = withRef([
    'direct',
    'floor',
    ...variantNames,
    'proxy',
    'proxy_no_access_log',
    'proxy_lean',
    'proxy_workers_2',
    'proxy_semi_space_2',
  ]);
  const warmupCurve = [];
  for (let done = 0; done < PLAN.warmupRequests;) {
    const windowRequests = Math.min(1000, PLAN.warmupRequests - done);
    const window = await call('latency', {
      names: warmNames,
      kind: 'small',
      rounds: Math.max(1, Math.floor(windowRequests / 100)),
      batch: Math.min(100, windowRequests),
      warmup: 0,
    });
    done += windowRequests;
    warmupCurve.push({
      after_requests: done,
      p50_ms: Object.fromEntries(warmNames.map((name) => [name, round3(window[name].p50)])),
    });
  }
  await call('latency', {
    names: withRef(['direct', 'floor', 'proxy', 'proxy_semi_space_2']),
    kind: 'cli',
    rounds: quick ? 1 : 3,
    batch: quick ? 20 : 100,
    warmup: 0,
  });
  await call('stream', {
    names: withRef(['direct', 'floor', 'proxy', 'proxy_semi_space_2']),
    rounds: 1,
    batch: quick ? 3 : 20,
    warmup: 0,
    chunks: CHUNKS,
  });
  await new Promise((done) => setTimeout(done, PLAN.settleMs));
  const rssIdle = {
    floor: rssMb(floor.pid),
    proxy: rssMb(proxy.pid),
    reference: hasRef ? rssMb(reference.child.pid) : null,
  };
  const rssIdleLean = rssMb(proxyLean.pid);
  const rssIdleSemi = rssMb(proxySemi.pid);
  const rssIdleQuiet = rssMb(proxyQuiet.pid);
  // The upstream is a bare node:http server that has served every request of the warm-up: the RSS a Node HTTP process
  // without undici sits at here, to compare the floor's with.
  const rssIdleBare = rssMb(upstream.pid);
  const rssIdleVariants = Object.fromEntries(
    variants.map((variant) => [variant.name, round1(rssMb(variant.child.pid))]),
  );
  const w2Pids = [proxyW2.pid, ...childPids(proxyW2.pid)];
  const rssIdleW2Total = w2Pids.reduce((sum, pid) => sum + (rssMb(pid) ?? 0), 0);
  log(
    `idle RSS (MB): floor ${round1(rssIdle.floor)}, proxy ${round1(rssIdle.proxy)}, reference ${round1(rssIdle.reference)}`,
  );

  // Floor validation: the floor raced against the other forwarder designs, interleaved, at c=1 and c=64. The floor is
  // valid when no other design serves more than 10 % more requests per second than it does.
  let floorValidation = { skipped: 'phase floor not run' };
  if (phases.has('floor')) {
    const names = ['floor', ...variantNames];
    log(
      `floor validation: ${names.join(', ')}; latency ${PLAN.floorLatency.rounds} × ${PLAN.floorLatency.batch}, throughput ${PLAN.floorRps.rounds} × ${PLAN.floorRps.seconds} s`,
    );
    const latencyF = await call('latency', { names: ['direct', ...names], kind: 'small', ...PLAN.floorLatency });
    const rpsF = await call('rps', {
      names: ['direct', ...names],
      ...PLAN.floorRps,
      watch: { upstream: [upstream.pid] },
    });
    const fastest = names.reduce((best, name) => (rpsF[name].rps > rpsF[best].rps ? name : best), names[0]);
    const ratio = rpsF.floor.rps / rpsF[fastest].rps;
    floorValidation = {
      method:
        "bench/floor.mjs raced in this run against the other forwarder designs in bench/floor-variants.mjs (undici Pool.request with piped body + AbortController + stream.pipeline as in round 1, Pool.request with the body read whole, Pool.stream, node:http Agent with keep-alive), interleaved in rotated order: small request at concurrency 1, then requests/s at concurrency 64 with the CPU share of each process; valid when the floor reaches at least 90 % of the fastest design's requests/s",
      valid: ratio >= 0.9,
      fastest,
      floor_rps_vs_fastest: round3(ratio),
      designs: Object.fromEntries(
        names.map((name) => [
          name,
          {
            added_p50_small_ms: round3(latencyF[name].p50 - latencyF.direct.p50),
            added_p99_small_ms: round3(latencyF[name].p99 - latencyF.direct.p99),
            rps: round1(rpsF[name].rps),
            rps_per_round: rpsF[name].per_round,
            cpu_us_per_request: rpsF[name].cpu_us_per_request.target,
            cpu_percent_of_one_core: rpsF[name].cpu_percent_of_one_core,
            rss_idle_mb: name === 'floor' ? round1(rssIdle.floor) : rssIdleVariants[name],
          },
        ]),
      ),
      direct: {
        p50_small_ms: round3(latencyF.direct.p50),
        rps: round1(rpsF.direct.rps),
        cpu_percent_of_one_core: rpsF.direct.cpu_percent_of_one_core,
      },
      bare_node_http_rss_idle_mb: round1(rssIdleBare),
    };
    log(
      `floor validation: fastest ${fastest}; floor at ${round3(ratio)}× its req/s; ${names.map((name) => `${name} ${round1(rpsF[name].rps)} req/s`).join(', ')}`,
    );
  }

  log(
    `latency, small request, concurrency 1: ${PLAN.small.rounds} rounds × ${PLAN.small.batch} (+${PLAN.small.warmup} dropped) per target`,
  );
  const cpuTargets = {
    floor: () => cpuMs(floor.pid),
    proxy: () => cpuMs(proxy.pid),
    proxy_no_access_log: () => cpuMs(proxyQuiet.pid),
    proxy_lean: () => cpuMs(proxyLean.pid),
    proxy_workers_2: () => cpuMs(proxyW2.pid, true),
    ...(hasRef ? { reference: () => cpuMs(reference.child.pid) } : {}),
  };
  const cpuSnapshot = () => Object.fromEntries(Object.entries(cpuTargets).map(([name, read]) => [name, read()]));
  /** CPU µs per request per target over one phase; `requests` maps target → requests it served in the phase. */
  const cpuPerRequest = (before, after, requests) =>
    Object.fromEntries(
      Object.keys(requests)
        .filter((name) => name in before)
        .map((name) => [name, round1(((after[name] - before[name]) * 1000) / requests[name])]),
    );
  const cpuUs = {};
  const skip = (name) =>
    Object.fromEntries(
      name.map((target) => [
        target,
        { n: 0, p50: NaN, p99: NaN, errors: 0, ttfc: { p50: NaN, p99: NaN }, per_chunk: { p50: NaN }, rps: NaN },
      ]),
    );
  const allNames = withRef(['direct', 'floor', 'proxy', 'proxy_no_access_log', 'proxy_lean', 'proxy_workers_2']);
  let before = cpuSnapshot();
  const small = !phases.has('small')
    ? skip(allNames)
    : await call('latency', {
        names: withRef(['direct', 'floor', 'proxy', 'proxy_no_access_log', 'proxy_lean']),
        kind: 'small',
        ...PLAN.small,
      });
  const latencyRequests = (plan, names) =>
    Object.fromEntries(names.map((name) => [name, plan.rounds * (plan.batch + plan.warmup)]));
  if (phases.has('small'))
    cpuUs.small = cpuPerRequest(
      before,
      cpuSnapshot(),
      latencyRequests(PLAN.small, withRef(['floor', 'proxy', 'proxy_no_access_log', 'proxy_lean'])),
    );
  before = cpuSnapshot();
  log(`latency, CLI-sized request (${setup.request_bytes.cli} bytes), concurrency 1`);
  const cliSized = !phases.has('cli')
    ? skip(allNames)
    : await call('latency', { names: withRef(['direct', 'floor', 'proxy']), kind: 'cli', ...PLAN.cli });
  if (phases.has('cli'))
    cpuUs.cli = cpuPerRequest(before, cpuSnapshot(), latencyRequests(PLAN.cli, withRef(['floor', 'proxy'])));
  before = cpuSnapshot();
  log(
    `stream, ${CHUNKS} chunks every ${pacingMs} ms, concurrency 1: ${PLAN.stream.rounds} rounds × ${PLAN.stream.batch}`,
  );
  const streams = !phases.has('stream')
    ? skip(allNames)
    : await call('stream', { names: withRef(['direct', 'floor', 'proxy']), chunks: CHUNKS, ...PLAN.stream });
  if (phases.has('stream'))
    cpuUs.stream = cpuPerRequest(before, cpuSnapshot(), latencyRequests(PLAN.stream, withRef(['floor', 'proxy'])));
  before = cpuSnapshot();
  log(`throughput, concurrency ${PLAN.rps.concurrency}: ${PLAN.rps.rounds} rounds × ${PLAN.rps.seconds} s per target`);
  const throughput = !phases.has('rps')
    ? skip(allNames)
    : await call('rps', {
        names: withRef(['direct', 'floor', 'proxy', 'proxy_no_access_log', 'proxy_lean', 'proxy_workers_2']),
        ...PLAN.rps,
        watch: { upstream: [upstream.pid] },
      });
  if (phases.has('rps')) {
    cpuUs.rps = cpuPerRequest(
      before,
      cpuSnapshot(),
      Object.fromEntries(Object.entries(throughput).map(([name, value]) => [name, value.requests])),
    );
  }

  // Workers on a 2-vCPU machine: two workers cannot scale when the load generator and the upstream need a core too, so
  // this measures what scaling depends on instead. (1) CPU time per request of --workers 2 (primary and workers)
  // against one process, from the throughput phase: equal means nothing is shared between workers, and N workers on N
  // free cores serve N times one process's per-core rate. (2) With taskset, the load generator and the upstream on
  // CPU 0 and the server alone on CPU 1: one process's throughput on one dedicated core, then --workers 2 squeezed onto
  // that same core (its overhead shows as lost throughput).
  let workers = { skipped: 'phase workers not run' };
  if (phases.has('workers') && phases.has('rps')) {
    const one = throughput.proxy.cpu_us_per_request?.target;
    const two = throughput.proxy_workers_2.cpu_us_per_request?.target;
    const split = Object.entries(throughput.proxy_workers_2.cpu_percent_of_one_core ?? {}).filter(([label]) =>
      label.startsWith('pid_'),
    );
    workers = {
      cpu_us_per_request_one_process: one,
      cpu_us_per_request_two_workers: two,
      cpu_percent_by_process_two_workers: Object.fromEntries(
        split.map(([label, share]) => [label === `pid_${proxyW2.pid}` ? 'primary' : label, share]),
      ),
      projected_scaling_two_workers_on_free_cores: one && two ? round3((2 * one) / two) : null,
      projected_rps_per_free_core: two ? round1(1e6 / two) : null,
    };
    let pinned = false;
    const pin = (pid, list, withChildren = false) => {
      for (const one of withChildren ? [pid, ...childPids(pid)] : [pid])
        execFileSync('taskset', ['-a', '-p', '-c', list, String(one)], { stdio: 'ignore' });
    };
    try {
      if (cpus().length < 2) throw new Error('fewer than 2 CPUs');
      pin(loadgen.pid, '0');
      pin(upstream.pid, '0');
      pin(proxy.pid, '1');
      pin(proxyW2.pid, '1', true);
      pinned = true;
      log('workers: load generator and upstream pinned to CPU 0, the server to CPU 1');
      const pinnedRps = await call('rps', {
        names: ['proxy', 'proxy_workers_2'],
        ...PLAN.rps,
        rounds: Math.min(2, PLAN.rps.rounds),
        watch: { upstream: [upstream.pid] },
      });
      workers.pinned = {
        method: 'taskset: load generator and upstream on CPU 0, the server (all its processes) on CPU 1',
        one_process: {
          rps: round1(pinnedRps.proxy.rps),
          cpu_percent_of_one_core: pinnedRps.proxy.cpu_percent_of_one_core,
          cpu_us_per_request: pinnedRps.proxy.cpu_us_per_request.target,
        },
        two_workers_on_the_same_core: {
          rps: round1(pinnedRps.proxy_workers_2.rps),
          cpu_percent_of_one_core: pinnedRps.proxy_workers_2.cpu_percent_of_one_core,
          cpu_us_per_request: pinnedRps.proxy_workers_2.cpu_us_per_request.target,
        },
      };
    } catch (error) {
      workers.pinned = { error: `no pinned measurement: ${error instanceof Error ? error.message : String(error)}` };
    } finally {
      if (pinned) {
        const all = cpus()
          .map((_, index) => index)
          .join(',');
        for (const [pid, withChildren] of [
          [loadgen.pid, false],
          [upstream.pid, false],
          [proxy.pid, false],
          [proxyW2.pid, true],
        ]) {
          try {
            pin(pid, all, withChildren);
          } catch {
            // process gone
          }
        }
      }
    }
    log(
      `workers: CPU per request ${one} µs one process, ${two} µs --workers 2; projected ${workers.projected_scaling_two_workers_on_free_cores}× on two free cores`,
    );
  }

  // RSS with open streams: one target at a time.
  const rssStreams = {};
  const streamsOpened = {};
  for (const [name, child] of !phases.has('rss')
    ? []
    : [
        ['floor', floor],
        ['proxy', proxy],
        ['proxy_semi_space_2', proxySemi],
        ...(hasRef ? [['reference', reference.child]] : []),
      ]) {
    log(`${PLAN.openStreams} open streams through ${name}`);
    const opened = await call('open', { name, count: PLAN.openStreams, timeoutSeconds: 60 });
    await new Promise((done) => setTimeout(done, PLAN.settleMs));
    rssStreams[name] = Math.max(rssMb(child.pid) ?? 0, rssMb(child.pid) ?? 0);
    streamsOpened[name] = opened;
    await call('close', {});
    await new Promise((done) => setTimeout(done, PLAN.settleMs * 1.5));
    if (opened.failed > 0) log(`  ${name}: ${opened.opened} opened, ${opened.failed} failed (${opened.error})`);
  }
  const rssAfter = {
    floor: rssMb(floor.pid),
    proxy: rssMb(proxy.pid),
    reference: hasRef ? rssMb(reference.child.pid) : null,
  };

  loadgen.disconnect();
  await shutdown();

  // ---------------------------------------------------------------------------------------------------------------
  const direct = {
    p50_small_ms: round3(small.direct.p50),
    p99_small_ms: round3(small.direct.p99),
    p50_cli_ms: round3(cliSized.direct.p50),
    p99_cli_ms: round3(cliSized.direct.p99),
    ttfc_ms: round3(streams.direct.ttfc.p50),
    per_chunk_ms: round3(streams.direct.per_chunk.p50),
    rps: round1(throughput.direct.rps),
  };
  const figures = (name, extra = {}) => ({
    added_p50_small_ms: round3(small[name].p50 - small.direct.p50),
    added_p99_small_ms: round3(small[name].p99 - small.direct.p99),
    added_p50_cli_ms: round3(cliSized[name].p50 - cliSized.direct.p50),
    added_p99_cli_ms: round3(cliSized[name].p99 - cliSized.direct.p99),
    added_ttfc_ms: round3(streams[name].ttfc.p50 - streams.direct.ttfc.p50),
    added_ttfc_p99_ms: round3(streams[name].ttfc.p99 - streams.direct.ttfc.p99),
    added_per_chunk_ms: round3(streams[name].per_chunk.p50 - streams.direct.per_chunk.p50),
    rps_one_worker: round1(throughput[name].rps),
    ...extra,
    rss_start_mb: round1(rssStart[name]),
    rss_idle_mb: round1(rssIdle[name]),
    rss_1000_streams_mb: round1(rssStreams[name]),
    rss_after_load_mb: round1(rssAfter[name]),
    open_streams: streamsOpened[name],
    errors: {
      small: small[name].errors,
      cli: cliSized[name].errors,
      stream: streams[name].errors,
      rps: throughput[name].errors,
    },
  });
  const proxyFigures = figures('proxy', { rps_two_workers: round1(throughput.proxy_workers_2.rps) });
  const floorFigures = figures('floor', { rps_two_workers: null });
  const referenceFigures = hasRef
    ? { gateway: reference.name, ...figures('reference', { rps_two_workers: null }) }
    : { error: reference.error };
  const noAccessLog = {
    added_p50_small_ms: round3(small.proxy_no_access_log.p50 - small.direct.p50),
    added_p99_small_ms: round3(small.proxy_no_access_log.p99 - small.direct.p99),
    rps_one_worker: round1(throughput.proxy_no_access_log.rps),
    rss_idle_mb: round1(rssIdleQuiet),
  };
  const smallYoungGeneration = {
    node_args: SEMI_SPACE_ARGS,
    rss_idle_mb: round1(rssIdleSemi),
    rss_1000_streams_mb: round1(rssStreams.proxy_semi_space_2),
    open_streams: streamsOpened.proxy_semi_space_2,
  };
  const lean = {
    added_p50_small_ms: round3(small.proxy_lean.p50 - small.direct.p50),
    added_p99_small_ms: round3(small.proxy_lean.p99 - small.direct.p99),
    rps_one_worker: round1(throughput.proxy_lean.rps),
    rss_idle_mb: round1(rssIdleLean),
  };
  const loadgenCpu = !phases.has('rps')
    ? null
    : Object.fromEntries(Object.entries(throughput).map(([name, value]) => [name, value.cpu_percent_of_one_core]));
  /** a − b, or null when either was not measured (a skipped phase). */
  const minus = (a, b) => (a === null || b === null ? null : round3(a - b));
  const overFloor = {
    p50_small_ms: minus(proxyFigures.added_p50_small_ms, floorFigures.added_p50_small_ms),
    p99_small_ms: minus(proxyFigures.added_p99_small_ms, floorFigures.added_p99_small_ms),
    p50_cli_ms: minus(proxyFigures.added_p50_cli_ms, floorFigures.added_p50_cli_ms),
    ttfc_ms: minus(proxyFigures.added_ttfc_ms, floorFigures.added_ttfc_ms),
    per_chunk_ms: minus(proxyFigures.added_per_chunk_ms, floorFigures.added_per_chunk_ms),
    rps_ratio:
      proxyFigures.rps_one_worker === null || floorFigures.rps_one_worker === null
        ? null
        : round3(proxyFigures.rps_one_worker / floorFigures.rps_one_worker),
  };
  const goals = [
    [
      'added p50, small, within 0.1 ms of the floor',
      overFloor.p50_small_ms <= 0.1,
      `${overFloor.p50_small_ms} ms over the floor`,
    ],
    [
      'added p99, small, within 1 ms of the floor',
      overFloor.p99_small_ms <= 1,
      `${overFloor.p99_small_ms} ms over the floor`,
    ],
    ['added p50, CLI-sized request, ≤ 1 ms', proxyFigures.added_p50_cli_ms <= 1, `${proxyFigures.added_p50_cli_ms} ms`],
    ['added TTFC within 0.3 ms of the floor', overFloor.ttfc_ms <= 0.3, `${overFloor.ttfc_ms} ms over the floor`],
    [
      'added per chunk ≤ 50 µs',
      proxyFigures.added_per_chunk_ms <= 0.05,
      `${round3(proxyFigures.added_per_chunk_ms * 1000)} µs`,
    ],
    ['throughput ≥ 0.6× the floor', overFloor.rps_ratio >= 0.6, `${overFloor.rps_ratio}×`],
    [
      'throughput ≥ 5× the reference',
      hasRef ? proxyFigures.rps_one_worker / referenceFigures.rps_one_worker >= 5 : null,
      hasRef ? `${round3(proxyFigures.rps_one_worker / referenceFigures.rps_one_worker)}×` : 'no reference',
    ],
    ['RSS idle ≤ 70 MB', proxyFigures.rss_idle_mb <= 70, `${proxyFigures.rss_idle_mb} MB`],
    [
      `RSS with ${PLAN.openStreams} open streams ≤ 150 MB`,
      proxyFigures.rss_1000_streams_mb <= 150,
      `${proxyFigures.rss_1000_streams_mb} MB`,
    ],
    [
      '--workers 2 ≥ 1.8× one worker (projected from CPU time per request: 2 vCPUs leave no free core for a second worker)',
      workers.projected_scaling_two_workers_on_free_cores == null
        ? null
        : workers.projected_scaling_two_workers_on_free_cores >= 1.8,
      `${workers.projected_scaling_two_workers_on_free_cores ?? null}× projected; measured on this machine ${round3(proxyFigures.rps_two_workers / proxyFigures.rps_one_worker)}×`,
    ],
  ].map(([goal, met, actual]) => ({ goal, met: /\bnull\b|NaN/.test(actual) ? null : met, actual }));

  // Where the time over the floor goes: bench/ladder.mjs, its own servers, run after every other phase.
  let ladder = null;
  if (phases.has('ladder')) {
    log('ladder: floor → Fastify+undici stack → proxy bare → + access log → as shipped (bench/ladder.mjs)');
    const ladderOut = join(work, 'ladder.json');
    const ladderArgs = quick ? ['--n', '1000', '--rounds', '2'] : ['--n', '3000', '--rounds', '5'];
    process.stdout.write(
      execFileSync(process.execPath, [join(here, 'ladder.mjs'), ...ladderArgs, '--out', ladderOut], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    ladder = JSON.parse(readFileSync(ladderOut, 'utf8'));
  }

  const results = {
    ...proxyFigures,
    over_floor: overFloor,
    warmup_curve: warmupCurve,
    floor_validation: floorValidation,
    workers,
    access_log_off: noAccessLog,
    operator_features_off: lean,
    small_young_generation: smallYoungGeneration,
    floor: floorFigures,
    reference: referenceFigures,
    direct,
    cpu_us_per_request: cpuUs,
    ladder,
    cpu_percent_of_one_core_at_c64: loadgenCpu,
    goals,
    raw: { small, cli: cliSized, stream: streams, rps: throughput },
    meta: {
      command: `node ${relative(root, fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(' ')}`.trim(),
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? 'unknown',
      memory_gb: round1(totalmem() / 1024 ** 3),
      load_average_at_start: loadAtStart,
      load_average_at_end: loadavg().map(round1),
      duration_s: round1((Date.now() - started) / 1000),
      quick,
      proxy_node_args: proxyNodeArgs,
      plan: PLAN,
      stream: { chunks: CHUNKS, pacing_ms: pacingMs },
      request_bytes: setup.request_bytes,
      upstream_request_bytes: setup.upstream_request_bytes,
      rss_two_workers_idle_total_mb: round1(rssIdleW2Total),
      units: 'ms (milliseconds), MB (MiB of VmRSS of the process that owns the listening socket), req/s',
      notes: [
        'added_* = target minus direct-to-upstream, same run, interleaved batches in rotated order; p50/p99 of the full request at concurrency 1',
        'added_ttfc_ms = p50 time to the first response body byte of the streamed request, minus direct',
        `added_per_chunk_ms = p50 over streams of (last byte - first byte) / ${CHUNKS}, minus direct; the upstream paces chunks ${pacingMs} ms apart`,
        'rps_* = completed small unary requests per second at concurrency 64 from one load-generator process',
        'gemini-proxy (the headline) runs as shipped: access log written to a file, usage database, metrics and dashboard on, detailed logs off (their default); access_log_off repeats the small-request figures with the access log off; operator_features_off with the access log, usage database, metrics and dashboard all off',
        "cpu_percent_of_one_core_at_c64 = during each target's counting windows at concurrency 64: CPU time of the target (all its processes), of the upstream and of the load generator, in % of one core; the load generator is not the bottleneck while its share stays well below 100 %",
        'cpu_us_per_request = CPU time of the serving process (all threads, /proc/<pid>/task/*/schedstat) during a phase divided by the requests it served in that phase (warm-up batches included)',
        'all processes (load generator, upstream, targets) share the same machine',
        'ladder = bench/ladder.mjs, run after the other phases with its own servers: CPU µs per small request at c=8 and p50 at c=1 of floor → stack (Fastify + undici dispatch, bench/stack-floor.mjs) → proxy with every optional feature off → + access log → as shipped; each difference between neighbouring rungs is what one layer costs',
      ],
    },
  };
  writeFileSync(outPath, `${JSON.stringify(results, null, 2)}\n`);
  printTable(results, hasRef);
  log(`wrote ${relative(process.cwd(), outPath)} in ${round1((Date.now() - started) / 1000)} s`);
  if (profileDir !== undefined)
    log(
      `CPU profile(s) of the proxy in ${profileDir}: summarise with node bench/profile-summary.mjs ${profileDir}/*.cpuprofile`,
    );
  if (flags['keep-logs']) log(`server logs kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

function printTable(results, hasRef) {
  const floor = results.floor;
  const ref = results.reference;
  const fmt = (value, digits = 3) =>
    value === null || value === undefined ? '—' : typeof value === 'number' ? value.toFixed(digits) : String(value);
  const rows = [
    [
      'added p50, small (ms)',
      results.direct.p50_small_ms,
      floor.added_p50_small_ms,
      results.added_p50_small_ms,
      results.over_floor.p50_small_ms,
      ref.added_p50_small_ms,
    ],
    [
      'added p99, small (ms)',
      results.direct.p99_small_ms,
      floor.added_p99_small_ms,
      results.added_p99_small_ms,
      results.over_floor.p99_small_ms,
      ref.added_p99_small_ms,
    ],
    [
      'added p50, CLI-sized (ms)',
      results.direct.p50_cli_ms,
      floor.added_p50_cli_ms,
      results.added_p50_cli_ms,
      results.over_floor.p50_cli_ms,
      ref.added_p50_cli_ms,
    ],
    [
      'added TTFC p50 (ms)',
      results.direct.ttfc_ms,
      floor.added_ttfc_ms,
      results.added_ttfc_ms,
      results.over_floor.ttfc_ms,
      ref.added_ttfc_ms,
    ],
    [
      'added per chunk (ms)',
      results.direct.per_chunk_ms,
      floor.added_per_chunk_ms,
      results.added_per_chunk_ms,
      results.over_floor.per_chunk_ms,
      ref.added_per_chunk_ms,
    ],
    [
      'req/s, c=64, 1 process',
      results.direct.rps,
      floor.rps_one_worker,
      results.rps_one_worker,
      `${fmt(results.over_floor.rps_ratio, 2)}×`,
      ref.rps_one_worker,
    ],
    ['req/s, c=64, --workers 2', null, null, results.rps_two_workers, null, null],
    ['RSS idle (MB)', null, floor.rss_idle_mb, results.rss_idle_mb, null, ref.rss_idle_mb],
    [
      `RSS, ${results.meta.plan.openStreams} open streams (MB)`,
      null,
      floor.rss_1000_streams_mb,
      results.rss_1000_streams_mb,
      null,
      ref.rss_1000_streams_mb,
    ],
  ];
  const header = ['figure', 'direct', 'floor', 'gemini-proxy', 'proxy − floor', hasRef ? 'Portkey' : 'reference'];
  const table = [
    header,
    ...rows.map(([label, ...cells]) => [
      label,
      ...cells.map((cell) => (typeof cell === 'string' ? cell : fmt(cell, Math.abs(cell ?? 0) >= 100 ? 1 : 3))),
    ]),
  ];
  const widths = header.map((_, column) => Math.max(...table.map((row) => String(row[column]).length)));
  const line = (row) => `| ${row.map((cell, column) => String(cell).padEnd(widths[column])).join(' | ')} |`;
  process.stdout.write(
    `\n${line(table[0])}\n| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |\n${table.slice(1).map(line).join('\n')}\n`,
  );
  process.stdout.write(
    `\naccess log off: added p50 ${fmt(results.access_log_off.added_p50_small_ms)} ms, p99 ${fmt(results.access_log_off.added_p99_small_ms)} ms, ${fmt(results.access_log_off.rps_one_worker, 1)} req/s, idle RSS ${fmt(results.access_log_off.rss_idle_mb, 1)} MB\n`,
  );
  const semi = results.small_young_generation;
  process.stdout.write(
    `as shipped with ${semi.node_args.join(' ')}: idle RSS ${fmt(semi.rss_idle_mb, 1)} MB, with open streams ${fmt(semi.rss_1000_streams_mb, 1)} MB\n`,
  );
  const leanFigures = results.operator_features_off;
  process.stdout.write(
    `access log, usage database, metrics and dashboard off: added p50 ${fmt(leanFigures.added_p50_small_ms)} ms, p99 ${fmt(leanFigures.added_p99_small_ms)} ms, ${fmt(leanFigures.rps_one_worker, 1)} req/s, idle RSS ${fmt(leanFigures.rss_idle_mb, 1)} MB\n`,
  );
  if (!hasRef) process.stdout.write(`reference: ${ref.error}\n`);
  const curve = results.warmup_curve ?? [];
  if (curve.length > 0)
    process.stdout.write(
      `warm-up, p50 ms of each 1,000 small requests after start (direct / floor / proxy): ${curve
        .map((entry) => `${fmt(entry.p50_ms.direct)} / ${fmt(entry.p50_ms.floor)} / ${fmt(entry.p50_ms.proxy)}`)
        .join(', ')}\n`,
    );
  const validation = results.floor_validation;
  if (validation.designs !== undefined) {
    process.stdout.write(
      `floor validation: ${validation.valid ? 'valid' : 'NOT VALID'}, floor at ${fmt(validation.floor_rps_vs_fastest, 2)}× the fastest design's req/s (${validation.fastest}); ${Object.entries(
        validation.designs,
      )
        .map(
          ([name, design]) =>
            `${name} ${fmt(design.rps, 0)} req/s, +${fmt(design.added_p50_small_ms)} ms p50, ${design.cpu_us_per_request} µs CPU, ${fmt(design.rss_idle_mb, 1)} MB`,
        )
        .join('; ')}; bare node:http RSS ${fmt(validation.bare_node_http_rss_idle_mb, 1)} MB\n`,
    );
  }
  if (results.cpu_percent_of_one_core_at_c64 !== null) {
    process.stdout.write(
      `CPU % of one core at c=64 (target / upstream / load generator): ${Object.entries(
        results.cpu_percent_of_one_core_at_c64,
      )
        .map(([name, share]) => `${name} ${share.target}/${share.upstream}/${share.loadgen}`)
        .join(', ')}\n`,
    );
  }
  const workers = results.workers;
  if (workers.cpu_us_per_request_one_process !== undefined) {
    process.stdout.write(
      `--workers 2: ${workers.cpu_us_per_request_two_workers} µs CPU per request (primary and workers) against ${workers.cpu_us_per_request_one_process} µs for one process: projected ${fmt(workers.projected_scaling_two_workers_on_free_cores, 2)}× on two free cores; ${
        workers.pinned?.one_process === undefined
          ? workers.pinned?.error
          : `pinned to one core: one process ${fmt(workers.pinned.one_process.rps, 0)} req/s at ${workers.pinned.one_process.cpu_percent_of_one_core.target} % CPU, two workers ${fmt(workers.pinned.two_workers_on_the_same_core.rps, 0)} req/s`
      }\n`,
    );
  }
  process.stdout.write('CPU µs per request (all threads of the serving process):\n');
  for (const [phase, perTarget] of Object.entries(results.cpu_us_per_request)) {
    process.stdout.write(
      `  ${phase.padEnd(7)} ${Object.entries(perTarget)
        .map(([name, us]) => `${name} ${us}`)
        .join(', ')}\n`,
    );
  }
  process.stdout.write(
    `\nGoals:\n${results.goals.map((goal) => `  [${goal.met === null ? '?' : goal.met ? 'met' : 'MISSED'}] ${goal.goal}: ${goal.actual}`).join('\n')}\n`,
  );
  process.stdout.write(
    `\n${results.meta.cpus} × ${results.meta.cpu_model}, Node ${results.meta.node}, load average ${results.meta.load_average_at_start.join(' ')} at start, ${results.meta.load_average_at_end.join(' ')} at end\n`,
  );
}

main().catch(async (error) => {
  log(`failed: ${error.stack ?? error}`);
  log(`logs kept in ${work}`);
  await shutdown();
  process.exit(1);
});
