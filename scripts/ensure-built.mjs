// `npm start` (and `npm pack`) compile src/ first when dist/src is missing or older than the sources. This is a
// transpile only (typescript's transpileModule, file by file: ~10 s on a busy machine where a type-checking `tsc` of
// src/ took 40 s), with the TypeScript compiler that is a runtime dependency, so `npm ci --omit=dev && npm start`
// needs none of the test tools. Type errors are caught by `npm run build`, which `npm test` runs; the emitted
// JavaScript is the same as tsc's (ES modules, ES2022), without source maps.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';

function sources(directory) {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    return entry.isDirectory() ? sources(path) : [path];
  });
}

// `--fresh` (npm pack): start from an empty dist/src, so that no output of a since-deleted source is packed.
if (process.argv.includes('--fresh')) rmSync('dist/src', { recursive: true, force: true });
const files = sources('src');
const output = 'dist/src/cli.js';
const newest = Math.max(...files.map((path) => statSync(path).mtimeMs));
if (!existsSync(output) || statSync(output).mtimeMs < newest) {
  process.stderr.write('gemini-proxy: compiling src/ (first start only)…\n');
  const started = Date.now();
  const compilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, esModuleInterop: true };
  for (const path of files.filter((file) => file.endsWith('.ts'))) {
    const { outputText } = ts.transpileModule(readFileSync(path, 'utf8'), { compilerOptions, fileName: path });
    const target = join('dist', path.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  process.stderr.write(`gemini-proxy: compiled in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
