// Runs the compiled node:test suites: `node scripts/run-tests.mjs [group…]`, groups being folders under test/
// (translate, upstream, gateway, server, config, e2e, cli… — docs/architecture.md#tests). With no group, all of them. Prints node's own summary (tests/pass/fail).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = 'dist/test';
if (!existsSync(root)) {
  process.stderr.write('dist/test is missing: run `npm run build` first (npm test does).\n');
  process.exit(1);
}

function collect(directory) {
  const files = [];
  for (const entry of readdirSync(directory).sort()) {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) files.push(...collect(path));
    // A compiled test whose source was moved or deleted stays in dist/ (tsc never removes outputs): skip it, or an
    // old copy of a test would run against today's code.
    else if (entry.endsWith('.test.js') && existsSync(path.replace(/^dist[/\\]/, '').replace(/\.js$/, '.ts')))
      files.push(path);
  }
  return files;
}

const groups = process.argv.slice(2);
const directories = groups.length === 0 ? [root] : groups.map((group) => join(root, group));
const files = directories.flatMap((directory) => (existsSync(directory) ? collect(directory) : []));
if (files.length === 0) {
  process.stderr.write(`no test files found under ${directories.join(', ')}\n`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
