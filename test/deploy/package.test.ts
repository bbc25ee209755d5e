/**
 * `npm pack` makes a clean package (compiled JavaScript, the dashboard's files, no tests, no TypeScript sources) and
 * its `gemini-proxy` bin works after `npm install -g` of the tarball into an empty prefix: it prints its help and
 * serves /health. Packed from a copy of the sources, so the working tree's dist/ is never touched.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { removeTemporaryDirectories, temporaryDirectory } from '../support/gemini-cli.js';

const ROOT = resolve('.');

interface PackResult {
  filename: string;
  files: Array<{ path: string }>;
}

describe('npm pack and a global install of the tarball', () => {
  after(() => removeTemporaryDirectories());

  it('packs only runtime files, installs into a temp prefix, and its bin runs', async () => {
    const copy = temporaryDirectory('gp-pack-');
    for (const path of [
      'package.json',
      'package-lock.json',
      'README.md',
      'src',
      'scripts',
      'deploy/config.example.json',
    ]) {
      cpSync(join(ROOT, path), join(copy, path), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json'], { cwd: copy, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    ) as PackResult[];
    const result = packed[0];
    assert.ok(result !== undefined);
    const files = result.files.map((file) => file.path);
    assert.ok(files.includes('dist/src/cli.js'));
    assert.ok(files.includes('src/operator/ui/index.html'), 'the dashboard reads its files from src/operator/ui');
    assert.deepEqual(
      files.filter((file) => /(^|\/)test\/|\.ts$|\.map$|tsconfig/.test(file)),
      [],
      'no tests, sources or maps',
    );
    assert.ok(files.length < 150, `${files.length} files`);

    const prefix = temporaryDirectory('gp-prefix-');
    mkdirSync(join(prefix, 'lib'), { recursive: true });
    execFileSync(
      'npm',
      ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(copy, result.filename)],
      {
        cwd: prefix,
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 240_000,
      },
    );
    const bin = join(prefix, 'bin', 'gemini-proxy');
    assert.match(
      execFileSync(bin, ['--help'], { encoding: 'utf8' }),
      /gemini-proxy \[options\] gemini \[gemini args…\]/,
    );
    const child = spawn(bin, ['--port', '0', '--log-format', 'json'], {
      env: { PATH: process.env['PATH'] ?? '', XDG_CONFIG_HOME: temporaryDirectory('gp-xdg-') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match?.[1] !== undefined) resolveUrl(match[1]);
        });
        child.once('exit', () => reject(new Error(`exited before listening: ${output}`)));
      });
      const health = (await (await fetch(`${url}/health`)).json()) as { status: string };
      assert.equal(health.status, 'healthy');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
