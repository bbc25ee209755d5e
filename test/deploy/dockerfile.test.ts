/**
 * deploy/Dockerfile checked by structure, on every machine (test/deploy/image-build.test.ts builds it where a builder
 * and the base image are available):
 * multi-stage, a slim runtime stage that runs as a non-root user, production dependencies only, no compiler toolchain
 * in the runtime stage, and every path it copies from the build context exists.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';

interface Instruction {
  keyword: string;
  argument: string;
}

/** Instructions with line continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const space = line.search(/\s/);
      return { keyword: line.slice(0, space).toUpperCase(), argument: line.slice(space + 1).trim() };
    });
}

describe('deploy/Dockerfile', () => {
  const all = instructions(readFileSync(resolve('deploy/Dockerfile'), 'utf8'));
  const stages: Instruction[][] = [];
  for (const instruction of all) {
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }

  it('has a build stage and a slim runtime stage', () => {
    assert.equal(stages.length, 2);
    assert.match(stages[0]?.[0]?.argument ?? '', /^node:20[\w.-]* AS build$/);
    assert.match(stages[1]?.[0]?.argument ?? '', /^node:20-[\w.-]*slim$/);
  });

  it('installs production dependencies only, without install scripts, and never compiles native code', () => {
    const runs = (stages[0] ?? [])
      .filter((instruction) => instruction.keyword === 'RUN')
      .map((instruction) => instruction.argument);
    assert.ok(
      runs.some((run) => /npm ci --omit=dev --ignore-scripts/.test(run)),
      runs.join('\n'),
    );
    assert.ok(!runs.some((run) => /npm rebuild|node-gyp|apt-get install .*(g\+\+|make|python)/.test(run)));
    assert.ok(
      runs.some((run) => /scripts\/ensure-built\.mjs --fresh/.test(run)),
      'src/ is transpiled in the build stage',
    );
  });

  it('runs as the non-root node user, with a health check and the config mounted from /etc/gemini-proxy', () => {
    const runtime = stages[1] ?? [];
    const user = runtime.filter((instruction) => instruction.keyword === 'USER').at(-1);
    assert.equal(user?.argument, 'node');
    assert.ok(runtime.some((instruction) => instruction.keyword === 'HEALTHCHECK'));
    assert.match(
      runtime.find((instruction) => instruction.keyword === 'CMD')?.argument ?? '',
      /\/etc\/gemini-proxy\/config\.json/,
    );
    const copies = runtime.filter((instruction) => instruction.keyword === 'COPY');
    assert.ok(
      copies.every((instruction) => instruction.argument.startsWith('--from=build')),
      'the runtime stage takes only what the build stage made',
    );
    assert.ok(
      !copies.some((instruction) => /\btest\b|tsconfig/.test(instruction.argument)),
      'no tests or build config in the image',
    );
  });

  it('every path copied from the build context exists', () => {
    const sources = all
      .filter((instruction) => instruction.keyword === 'COPY' && !instruction.argument.startsWith('--from'))
      .flatMap((instruction) => instruction.argument.split(/\s+/).slice(0, -1));
    assert.ok(sources.length >= 3);
    for (const source of sources) assert.ok(existsSync(resolve(source)), `${source} is missing from the build context`);
  });

  it('.dockerignore keeps the build context to what the Dockerfile copies (no node_modules, dist, .git or keys)', () => {
    const lines = readFileSync(resolve('.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    assert.equal(lines[0], '*', 'everything is excluded first');
    const allowed = lines.slice(1).map((line) => line.replace(/^!/, ''));
    const copied = all
      .filter((instruction) => instruction.keyword === 'COPY' && !instruction.argument.startsWith('--from'))
      .flatMap((instruction) => instruction.argument.split(/\s+/).slice(0, -1))
      .map((source) => source.replace(/^\.\//, '').replace(/\/$/, ''));
    for (const source of copied) assert.ok(allowed.includes(source), `${source} is not let through .dockerignore`);
    for (const line of allowed)
      assert.ok(copied.includes(line), `.dockerignore lets ${line} through, which is never copied`);
  });

  it('both stages start from the same Node 20 Debian image', () => {
    const bases = stages.map((stage) => (stage[0]?.argument ?? '').replace(/\s+AS\s+\w+$/i, ''));
    assert.deepEqual(bases, ['node:20-bookworm-slim', 'node:20-bookworm-slim']);
  });
});
