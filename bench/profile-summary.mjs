// Summarises V8 CPU profiles (`node --cpu-prof`, e.g. from `node bench/run.mjs --profile <dir>`): where the proxy's
// time goes, by self time per function, by module, the inclusive time of gemini-proxy's own functions, and a
// breakdown by request phase.
//
// The phase breakdown counts samples, not their time deltas: on a busy shared VM the thread is often descheduled
// inside a syscall that woke another process (a socket write, a thread-pool hand-off), and the next sample then
// carries the whole wait, which inflates those functions' time many times over. Sample counts stay close to the
// thread's CPU time.
//   node bench/profile-summary.mjs <file.cpuprofile>… [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { phaseSamples } from './phases.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
const top = Number(values.top);
if (positionals.length === 0) {
  process.stderr.write('usage: node bench/profile-summary.mjs <file.cpuprofile>… [--top N]\n');
  process.exit(2);
}

const selfByFunction = new Map();
const selfByModule = new Map();
const inclusiveOurs = new Map();
let total = 0;
let idle = 0;

const samplesByPhase = new Map();
let busySamples = 0;

function moduleOf(url) {
  if (url === '') return '(native / V8)';
  if (url.startsWith('node:'))
    return url
      .replace(/^node:internal\//, 'node:')
      .split('/')
      .slice(0, 2)
      .join('/');
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 14).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const ours = url.indexOf('/dist/src/');
  if (ours !== -1) return `gemini-proxy ${url.slice(ours + 6)}`;
  return url;
}

function label(frame) {
  const ours = frame.url.indexOf('/dist/src/');
  const where = ours !== -1 ? frame.url.slice(ours + 6) : moduleOf(frame.url);
  return `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const phases = phaseSamples(profile);
  busySamples += phases.busy;
  for (const [key, count] of phases.counts) samplesByPhase.set(key, (samplesByPhase.get(key) ?? 0) + count);
  profile.samples.forEach((id, index) => {
    const delta = (profile.timeDeltas[index] ?? 0) / 1000;
    const node = nodes.get(id);
    const frame = node.callFrame;
    total += delta;
    if (
      frame.functionName === '(idle)' ||
      frame.functionName === '(program)' ||
      frame.functionName === '(garbage collector)'
    ) {
      if (frame.functionName === '(idle)') idle += delta;
      const key = frame.functionName;
      selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + delta);
      selfByModule.set(key, (selfByModule.get(key) ?? 0) + delta);
      return;
    }
    const key = label(frame);
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + delta);
    const module = moduleOf(frame.url);
    selfByModule.set(module, (selfByModule.get(module) ?? 0) + delta);
    // Inclusive time of our own functions: each function once per sample, however deep the recursion.
    const seen = new Set();
    for (let current = id; current !== undefined; current = parent.get(current)) {
      const callFrame = nodes.get(current).callFrame;
      if (!callFrame.url.includes('/dist/src/')) continue;
      const ours = label(callFrame);
      if (seen.has(ours)) continue;
      seen.add(ours);
      inclusiveOurs.set(ours, (inclusiveOurs.get(ours) ?? 0) + delta);
    }
  });
}

const busy = total - idle;
const table = (title, map, limit) => {
  process.stdout.write(`\n${title}\n`);
  for (const [key, ms] of [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    process.stdout.write(`${ms.toFixed(1).padStart(10)} ms ${((100 * ms) / busy).toFixed(1).padStart(5)} %  ${key}\n`);
  }
};
process.stdout.write(
  `profiled ${total.toFixed(0)} ms, idle ${idle.toFixed(0)} ms, busy ${busy.toFixed(0)} ms (percentages are of busy time)\n`,
);
table('Self time by module', selfByModule, top);
table('Self time by function', selfByFunction, top);
table("Inclusive time of gemini-proxy's own functions", inclusiveOurs, top);
process.stdout.write(
  '\nBusy samples by request phase (innermost matching frame; syscalls count in the phase that made them)\n',
);
for (const [key, count] of [...samplesByPhase.entries()].sort((a, b) => b[1] - a[1])) {
  process.stdout.write(
    `${String(count).padStart(10)}    ${((100 * count) / busySamples).toFixed(1).padStart(5)} %  ${key}\n`,
  );
}
