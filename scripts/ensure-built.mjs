// `npm start` builds first when the compiled output is missing or older than the sources.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(directory) {
  let latest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const output = 'dist/src/cli.js';
if (!existsSync(output) || statSync(output).mtimeMs < newest('src')) {
  process.stderr.write('gemini-proxy: building…\n');
  execSync('npx tsc -p tsconfig.json', { stdio: 'inherit' });
}
