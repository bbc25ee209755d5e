/**
 * The full fuzz run: `npm run fuzz` (100,000 requests), or
 *   node dist/test/fuzz/run.js [--requests N] [--seed S] [--case I] [--concurrency C] [--no-detailed-logs] [--keyless]
 * `--keyless` fuzzes a proxy without client keys, where a foreign Host or Origin must be refused.
 * `--case I` replays one case of seed S (printed with every failure). Prints the figures; exits 1 on any violation.
 */
import { parseArgs } from 'node:util';
import { describeCase, generateCase } from './generator.js';
import {
  CLIENT_KEYS,
  FUZZ_BODY_LIMIT_MB,
  LIMITED_CLIENT_KEY,
  formatFailures,
  formatStats,
  runFuzz,
} from './harness.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    seed: { type: 'string' },
    case: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    'no-detailed-logs': { type: 'boolean', default: false },
    keyless: { type: 'boolean', default: false },
    'bound-ms': { type: 'string', default: '20000' },
  },
});

// Ctrl-C: exit normally, so that the harness stops the proxy process it started.
process.once('SIGINT', () => process.exit(130));

const seed = values.seed === undefined ? (Date.now() ^ (process.pid << 16)) >>> 0 : Number(values.seed);
const single = values.case === undefined ? undefined : Number(values.case);
const count = single === undefined ? Number(values.requests) : 1;
const concurrency = single === undefined ? Number(values.concurrency) : 1;
if (
  !Number.isInteger(seed) ||
  !Number.isInteger(count) ||
  count < 1 ||
  !Number.isInteger(concurrency) ||
  concurrency < 1
) {
  process.stderr.write(
    'usage: run.js [--requests N] [--seed S] [--case I] [--concurrency C] [--no-detailed-logs] [--keyless]\n',
  );
  process.exit(2);
}
if (single !== undefined) {
  process.stdout.write(
    `${describeCase(generateCase(seed, single, { clientKeys: CLIENT_KEYS, limitedKey: LIMITED_CLIENT_KEY, bodyLimitBytes: FUZZ_BODY_LIMIT_MB * 1048576, faultRate: 0.12, keyless: values.keyless }))}\n\n`,
  );
}
process.stdout.write(
  `fuzzing: seed ${seed}, ${count} request(s), concurrency ${concurrency}, detailed logs ${values['no-detailed-logs'] ? 'off' : 'on'}\n`,
);
const started = Date.now();
const stats = await runFuzz({
  seed,
  count,
  ...(single === undefined ? {} : { start: single }),
  concurrency,
  boundMs: Number(values['bound-ms']),
  detailedLogs: !values['no-detailed-logs'],
  keyless: values.keyless,
  progressEvery: 5000,
  onFailure: (failure) => {
    process.stdout.write(
      `--- failure: ${failure.violations.map((violation) => `[${violation.kind}] ${violation.detail.slice(0, 1000)}`).join('\n    ')}\n${failure.description}\n`,
    );
  },
  onProgress: (done, current) => {
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(
      `  ${done} requests, ${seconds.toFixed(0)} s, ${Math.round(done / seconds)} req/s, failures so far ${current.failures.length}\n`,
    );
  },
});
process.stdout.write(`\n${formatStats(stats)}\n`);
if (stats.failures.length > 0) {
  process.stdout.write(`\n${formatFailures(stats)}\n`);
  process.exit(1);
}
process.stdout.write('no violations\n');
