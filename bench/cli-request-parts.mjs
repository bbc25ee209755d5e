// The fixed work on the bench's 49.5 KB Gemini CLI request, piece by piece, in this process (no HTTP): UTF-8 decoding,
// JSON.parse, normalisation, translation, JSON.stringify of the upstream body, and its UTF-8 encoding both ways
// (Buffer.from, as undici does for a string body, and utf8Body, gemini-proxy's). Each figure is the median of 9
// timed loops of 2,000 after a warm-up; run after `npm run build`.
//   node bench/cli-request-parts.mjs
import { buildCliRequest } from './requests.mjs';
import { normalizeGenerateContentRequest } from '../dist/src/translate/normalize-request.js';
import { geminiRequestToOpenAI } from '../dist/src/translate/gemini-request-to-openai.js';
import { PROVIDERS } from '../dist/src/providers/index.js';
import { utf8Body } from '../dist/src/upstream/client.js';

const text = JSON.stringify(buildCliRequest());
const bytes = Buffer.from(text);
const LOOP = 2000;

function time(label, work) {
  for (let index = 0; index < 500; index += 1) work();
  const loops = [];
  for (let round = 0; round < 9; round += 1) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < LOOP; index += 1) work();
    loops.push(Number(process.hrtime.bigint() - started) / LOOP / 1000);
  }
  loops.sort((a, b) => a - b);
  process.stdout.write(`${label.padEnd(44)} ${loops[4].toFixed(1).padStart(7)} µs\n`);
}

const parsed = JSON.parse(text);
const normalized = normalizeGenerateContentRequest(parsed);
const translated = geminiRequestToOpenAI(normalized, {
  model: 'bench-model',
  stream: false,
  profile: PROVIDERS.generic,
});
const upstreamBody = JSON.stringify(translated.body);
process.stdout.write(
  `request ${bytes.length} bytes, upstream body ${Buffer.byteLength(upstreamBody)} bytes, ` +
    `${[...text].some((character) => character.charCodeAt(0) > 0xff) ? 'two-byte' : 'one-byte'} text, Node ${process.version}\n`,
);
time('UTF-8 decode (Buffer.toString)', () => bytes.toString('utf8'));
time('JSON.parse', () => JSON.parse(text));
time('normalise', () => normalizeGenerateContentRequest(parsed));
time('translate to Chat Completions', () =>
  geminiRequestToOpenAI(normalized, { model: 'bench-model', stream: false, profile: PROVIDERS.generic }),
);
time('JSON.stringify of the upstream body', () => JSON.stringify(translated.body));
time('UTF-8 encode: Buffer.from', () => Buffer.from(upstreamBody));
time('UTF-8 encode: utf8Body (encodeInto + copy)', () => utf8Body(upstreamBody));
