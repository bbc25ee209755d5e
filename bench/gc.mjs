// Young-generation survival per request: how many bytes of each request outlive a scavenge and get promoted to the
// old generation (to be freed only by a full mark-compact), and what the scavenges cost. Requests that leave nothing
// behind make short scavenges and rare full GCs; a request graph kept alive through a scavenge (an AbortSignal in
// Node 20, a per-request closure stored on a long-lived call path, undici's timers) is copied, then promoted.
//   node bench/gc.mjs [--build dist/src/cli.js[#lean]]... [--n 10000] [--warmup 3000]
// Each build runs alone with --trace-gc --trace-gc-nvp behind bench/upstream.mjs, one small Gemini request at a time;
// the figures count only the scavenges after the warm-up. bench/floor.mjs runs first as the reference.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { benchWorkspace, postJson, waitForHttp } from './proc.mjs';
import { SMALL_REQUEST } from './requests.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    build: { type: 'string', multiple: true, default: [join(here, '..', 'dist', 'src', 'cli.js')] },
    n: { type: 'string', default: '10000' },
    warmup: { type: 'string', default: '3000' },
  },
});
const N = Number(flags.n);
const WARMUP = Number(flags.warmup);
const { work, children } = benchWorkspace('gemini-proxy-gc-');

function spawnNode(args, withIpc) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit', ...(withIpc ? ['ipc'] : [])] });
  children.push(child);
  child.trace = '';
  child.stdout.on('data', (data) => (child.trace += data));
  return child;
}

const upstream = spawnNode([join(here, 'upstream.mjs'), '--port', '0', '--pacing-ms', '0'], true);
const upstreamPort = await new Promise((done) => upstream.once('message', (message) => done(message.port)));
const openAiBody = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'Say hello.' }] });

/** Scavenges and mark-compacts in a --trace-gc-nvp text. */
function summarise(trace) {
  const scavenges = [...trace.matchAll(/pause=([\d.]+) mutator=[\d.]+ gc=s .*?promoted=(\d+)/g)];
  const pauses = scavenges.map((match) => Number(match[1])).sort((a, b) => a - b);
  const fullPauses = [...trace.matchAll(/pause=([\d.]+) mutator=[\d.]+ gc=(?:mc|mmc)\b/g)].map((m) => Number(m[1]));
  return {
    scavenges: scavenges.length,
    promoted_bytes_per_request: Math.round(scavenges.reduce((sum, match) => sum + Number(match[2]), 0) / N),
    scavenge_pause_ms_p50: pauses[Math.floor(pauses.length / 2)] ?? null,
    scavenge_pause_ms_max: pauses.at(-1) ?? null,
    mark_compacts: fullPauses.length,
    mark_compact_pauses_ms: fullPauses,
  };
}

async function measure(name, child, port, path, body) {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 });
  for (let index = 0; index < WARMUP; index += 1) await postJson(pool, path, body);
  await new Promise((done) => setTimeout(done, 100));
  const mark = child.trace.length;
  for (let index = 0; index < N; index += 1) await postJson(pool, path, body);
  await new Promise((done) => setTimeout(done, 200));
  await pool.close();
  const result = { name, ...summarise(child.trace.slice(mark)) };
  child.kill('SIGKILL');
  process.stdout.write(
    `${name}: promoted ${result.promoted_bytes_per_request} B/request; ${result.scavenges} scavenges, pause p50 ${result.scavenge_pause_ms_p50} ms (max ${result.scavenge_pause_ms_max}); ${result.mark_compacts} mark-compacts${result.mark_compacts > 0 ? ` (${result.mark_compact_pauses_ms.join(', ')} ms)` : ''}\n`,
  );
  return result;
}

const traceFlags = ['--trace-gc', '--trace-gc-nvp'];
const floor = spawnNode(
  [...traceFlags, join(here, 'floor.mjs'), '--port', '0', '--upstream', `http://127.0.0.1:${upstreamPort}`],
  true,
);
const floorPort = await new Promise((done) => floor.once('message', (message) => done(message.port)));
const results = [await measure('floor', floor, floorPort, '/v1/chat/completions', openAiBody)];

for (const [index, entry] of flags.build.entries()) {
  const [cli, variant] = entry.split('#');
  const lean = variant === 'lean';
  const port = 21000 + index + Math.floor(Math.random() * 1200) * 8;
  const config = join(work, `config-${index}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      ...(lean ? { usage: { enabled: false }, metrics: { enabled: false }, dashboard: { enabled: false } } : {}),
      openai_base_url: `http://127.0.0.1:${upstreamPort}/v1`,
      openai_api_key: 'sk-bench-upstream',
      default_openai_model: 'bench-model',
      server: { host: '127.0.0.1', port, log_level: 'warn' },
      // The access log would go to stdout with the GC trace: off here, whatever the variant.
      logging: { enable_detailed_logs: false, enable_access_logs: false, log_directory: join(work, `logs-${index}`) },
    }),
  );
  const child = spawnNode([...traceFlags, resolve(cli), '--config', config], false);
  await waitForHttp(port, '/health');
  results.push(
    await measure(
      `${index}:${entry}`,
      child,
      port,
      '/v1beta/models/bench:generateContent',
      JSON.stringify(SMALL_REQUEST),
    ),
  );
}
process.stdout.write(
  `load average ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}\n`,
);
process.exit(0);
