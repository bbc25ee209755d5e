// Draws a flame graph (SVG, no script) from V8 CPU profiles (`node --cpu-prof`, e.g. `node bench/cost.mjs --profile
// <dir>`). Several profiles are merged. Widths count samples, not their time deltas, for the reason given in
// bench/profile-summary.mjs (on a shared VM a descheduled thread's next sample carries the whole wait). Idle samples
// are left out, so the full width is the busy time. Colours: gemini-proxy's own code green, Fastify blue, undici
// orange, other dependencies yellow, Node's own JavaScript grey, native and GC red.
//   node bench/flamegraph.mjs <file.cpuprofile>… --out <file.svg> [--title "…"] [--min 0.1]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    title: { type: 'string', default: 'CPU flame graph' },
    // Frames narrower than this share of the busy samples (in %) are not drawn.
    min: { type: 'string', default: '0.1' },
  },
});
if (positionals.length === 0 || values.out === undefined) {
  process.stderr.write('usage: node bench/flamegraph.mjs <file.cpuprofile>… --out <file.svg> [--title T] [--min %]\n');
  process.exit(2);
}

/** A merged call tree: one node per distinct frame under its parent. */
function newNode(name, url) {
  return { name, url, samples: 0, children: new Map() };
}
const root = newNode('all busy samples', '');

function frameLabel(frame) {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  const file = frame.url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|dist)\//, '$1/');
  return file === '' ? name : `${name} ${file.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const [id, count] of counts) {
    const stack = [];
    for (let at = id; at !== undefined; at = parentOf.get(at)) stack.push(byId.get(at).callFrame);
    stack.pop(); // (root)
    if (stack[0]?.functionName === '(idle)') continue;
    let node = root;
    node.samples += count;
    for (let index = stack.length - 1; index >= 0; index -= 1) {
      const label = frameLabel(stack[index]);
      let child = node.children.get(label);
      if (child === undefined) {
        child = newNode(label, stack[index].url);
        node.children.set(label, child);
      }
      child.samples += count;
      node = child;
    }
  }
}

function colour(node) {
  const url = node.url;
  if (url === '') return node.name.startsWith('(garbage') ? '#e05050' : '#e07070';
  if (/\/dist\/src\//.test(url)) return '#6fbf73';
  if (/fastify|find-my-way|avvio/.test(url)) return '#6fa8dc';
  if (/undici/.test(url)) return '#f0a040';
  if (/node_modules/.test(url)) return '#e8d060';
  return '#b8b8b8';
}

const WIDTH = 1400;
const ROW = 17;
const minSamples = (root.samples * Number(values.min)) / 100;
const rects = [];
let depthMax = 0;
function layout(node, x, depth) {
  depthMax = Math.max(depthMax, depth);
  rects.push({ node, x, depth, width: (node.samples / root.samples) * WIDTH });
  let childX = x;
  const children = [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const child of children) {
    if (child.samples >= minSamples) layout(child, childX, depth + 1);
    childX += (child.samples / root.samples) * WIDTH;
  }
}
layout(root, 0, 0);

const escape = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const top = 30;
const height = top + (depthMax + 1) * ROW + 10;
const parts = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="monospace" font-size="11">`,
  `<rect width="100%" height="100%" fill="#ffffff"/>`,
  `<text x="4" y="18" font-size="14">${escape(values.title)} (${root.samples} busy samples; hover for figures)</text>`,
];
for (const { node, x, depth, width } of rects) {
  const y = top + depth * ROW; // root on top, callees below (an icicle)
  const share = ((node.samples / root.samples) * 100).toFixed(1);
  const fits = Math.floor((width - 4) / 6.6);
  const text = fits >= 4 ? (node.name.length > fits ? `${node.name.slice(0, fits - 1)}…` : node.name) : '';
  parts.push(
    `<g><title>${escape(node.name)}: ${node.samples} samples, ${share} %</title>` +
      `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(width - 0.5, 0.5).toFixed(1)}" height="${ROW - 1}" fill="${colour(node)}"/>` +
      (text === '' ? '' : `<text x="${(x + 2).toFixed(1)}" y="${y + 12}">${escape(text)}</text>`) +
      `</g>`,
  );
}
parts.push('</svg>\n');
writeFileSync(values.out, parts.join('\n'));
process.stdout.write(`${values.out}: ${rects.length} frames from ${root.samples} busy samples\n`);
