/**
 * The documentation stays usable as the code moves: every relative link in README.md and docs/ reaches a file (and,
 * with a `#fragment`, a heading or anchor in it); every `[R-…]` requirement id that a comment in src/ or test/ cites
 * is defined in docs/; every `docs/<file>.md §N.N` a comment cites names a section that exists.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

/** dist/test/docs/ → the repository root. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function filesUnder(directory: string, suffixes: readonly string[]): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(directory).sort()) {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) found.push(...filesUnder(path, suffixes));
    else if (suffixes.some((suffix) => entry.endsWith(suffix))) found.push(path);
  }
  return found;
}

const markdownFiles = [join(ROOT, 'README.md'), ...filesUnder(join(ROOT, 'docs'), ['.md'])];
const sourceFiles = ['src', 'test', 'bench', 'scripts'].flatMap((folder) =>
  existsSync(join(ROOT, folder)) ? filesUnder(join(ROOT, folder), ['.ts', '.mjs', '.js']) : [],
);

/** Markdown lines outside fenced code blocks, so that `# comment` lines in shell examples are not headings. */
function proseLines(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1];
    if (marker !== undefined) {
      if (fence === null) fence = marker;
      else if (fence === marker) fence = null;
      continue;
    }
    if (fence === null) lines.push(line);
  }
  return lines;
}

/** GitHub's heading slug: lower case, punctuation dropped, spaces to hyphens, repeats numbered -1, -2… */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

const anchorCache = new Map<string, Set<string>>();

/** Every fragment a Markdown file answers to: heading slugs and explicit `<a id|name="…">` anchors. */
function anchorsOf(file: string): Set<string> {
  const cached = anchorCache.get(file);
  if (cached !== undefined) return cached;
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(readFileSync(file, 'utf8'))) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const base = slug(heading);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) {
      if (match[1] !== undefined) anchors.add(match[1]);
    }
  }
  anchorCache.set(file, anchors);
  return anchors;
}

/** `[text](target)` and `![alt](target)` outside code, with the target's optional title dropped. */
/** Section numbers (`3.2`, `10`) that a Markdown file's headings start with. */
function sectionsOf(file: string): Set<string> {
  const sections = new Set<string>();
  for (const line of proseLines(readFileSync(file, 'utf8'))) {
    const number = /^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s/.exec(line)?.[1];
    if (number !== undefined) sections.add(number);
  }
  return sections;
}

function linkTargets(markdown: string): string[] {
  const targets: string[] = [];
  const prose = proseLines(markdown)
    .join('\n')
    .replace(/`[^`\n]*`/g, '');
  for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    if (match[1] !== undefined) targets.push(match[1]);
  }
  return targets;
}

/** The requirement ids a text cites, with shorthands such as `R-THK-1/2` and `R-FC-1…3` expanded. */
export function citedRequirementIds(text: string): string[] {
  const ids: string[] = [];
  for (const match of text.matchAll(/\bR-((?:[A-Z][A-Z0-9]*-)+)(\d+)((?:\/\d+)*)(?:(?:…|\.\.)(\d+))?/g)) {
    const [, prefix = '', first = '', alternatives = '', last] = match;
    const numbers = [Number(first), ...alternatives.split('/').filter(Boolean).map(Number)];
    if (last !== undefined) for (let n = Number(first) + 1; n <= Number(last); n += 1) numbers.push(n);
    for (const n of numbers) ids.push(`R-${prefix}${n}`);
  }
  return ids;
}

describe('docs', () => {
  it('expands requirement-id shorthands', () => {
    assert.deepEqual(citedRequirementIds('see [R-THK-1/2], [R-JSON-MODE-3] and R-FC-1…3'), [
      'R-THK-1',
      'R-THK-2',
      'R-JSON-MODE-3',
      'R-FC-1',
      'R-FC-2',
      'R-FC-3',
    ]);
  });

  it('computes GitHub heading slugs', () => {
    assert.equal(
      slug('Gateway: several upstreams, fallback, keys and limits'),
      'gateway-several-upstreams-fallback-keys-and-limits',
    );
    assert.equal(slug('Setup wizard (init)'), 'setup-wizard-init');
    assert.equal(slug('Fuzzer: `npm run fuzz`'), 'fuzzer-npm-run-fuzz');
    assert.equal(slug('10.4 Moonshot Kimi'), '104-moonshot-kimi');
  });

  it('every relative link in README.md and docs/ resolves to a file and, with a fragment, to an anchor in it', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of markdownFiles) {
      for (const target of linkTargets(readFileSync(file, 'utf8'))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        checked += 1;
        const [path = '', fragment] = target.split('#', 2);
        const destination = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
        const where = `${relative(ROOT, file)} → ${target}`;
        if (!existsSync(destination)) broken.push(`${where}: no such file`);
        else if (fragment !== undefined && fragment !== '') {
          if (!destination.endsWith('.md')) broken.push(`${where}: fragment on a file that is not Markdown`);
          else if (!anchorsOf(destination).has(fragment)) broken.push(`${where}: no heading or anchor "${fragment}"`);
        }
      }
    }
    assert.ok(checked > 20, `only ${checked} relative links found: the link scanner is broken`);
    assert.deepEqual(broken, []);
  });

  it('no requirement id is defined twice', () => {
    const definitions = markdownFiles.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/<a\s+id="(R-[^"]+)"/g)].map((match) => match[1] ?? ''),
    );
    const repeated = definitions.filter((id, index) => definitions.indexOf(id) !== index);
    assert.deepEqual(repeated, []);
  });

  it('every requirement id cited in src/, test/, bench/ and scripts/ is defined by an anchor in docs/', () => {
    const defined = new Set<string>();
    for (const file of markdownFiles) {
      for (const anchor of anchorsOf(file)) if (anchor.startsWith('R-')) defined.add(anchor);
    }
    assert.ok(defined.size > 100, `only ${defined.size} requirement anchors found in docs/`);
    const missing = new Map<string, string>();
    for (const file of sourceFiles) {
      if (file.endsWith('docs.test.ts')) continue;
      for (const id of citedRequirementIds(readFileSync(file, 'utf8'))) {
        if (!defined.has(id) && !missing.has(id)) missing.set(id, relative(ROOT, file));
      }
    }
    assert.deepEqual(
      [...missing].map(([id, file]) => `${id} (cited in ${file})`),
      [],
      'define each id in docs/gemini-contract.md (or docs/providers.md) as <a id="R-…"></a>**R-…** with the rule in our words',
    );
  });

  it('every "docs/<file>.md §N" a comment cites names an existing document and section', () => {
    const broken: string[] = [];
    let checked = 0;
    const citation = /docs\/([\w-]+\.md)((?:,?\s*§\s*\d+(?:\.\d+)*(?:\s*[–-]\s*§?\d+(?:\.\d+)*)?)+)/g;
    for (const file of sourceFiles) {
      if (file.endsWith('docs.test.ts')) continue;
      for (const [, document = '', sections = ''] of readFileSync(file, 'utf8').matchAll(citation)) {
        const target = join(ROOT, 'docs', document);
        const where = relative(ROOT, file);
        if (!existsSync(target)) {
          broken.push(`${where}: docs/${document} does not exist`);
          continue;
        }
        for (const [section = ''] of sections.matchAll(/\d+(?:\.\d+)*/g)) {
          checked += 1;
          if (!sectionsOf(target).has(section)) broken.push(`${where}: docs/${document} has no §${section}`);
        }
      }
    }
    assert.ok(checked > 50, `only ${checked} section citations found: the citation scanner is broken`);
    assert.deepEqual(broken, []);
  });

  it('no source file cites the contracts as files outside the repository (a bare providers.md)', () => {
    const bare: string[] = [];
    const outside = /(?<![\w/.-])(providers|gemini-contract|landscape|style)\.md/;
    for (const file of sourceFiles) {
      if (file.endsWith('docs.test.ts')) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, index) => {
          if (outside.test(line)) bare.push(`${relative(ROOT, file)}:${index + 1}`);
        });
    }
    assert.deepEqual(bare, [], "cite the repository's own copies: docs/gemini-contract.md §N, docs/providers.md §N");
  });

  it('every repository path named in code spans of README.md and docs/ exists', () => {
    const srcFolders = new Set(
      readdirSync(join(ROOT, 'src')).filter((entry) => statSync(join(ROOT, 'src', entry)).isDirectory()),
    );
    const missing: string[] = [];
    for (const file of markdownFiles) {
      const prose = proseLines(readFileSync(file, 'utf8')).join('\n');
      for (const [, span = ''] of prose.matchAll(/`([\w./-]+\/[\w./-]*)`/g)) {
        // Illustrations (the walk-through's imaginary provider) and generated output are not in the repository.
        if (span.includes('nimbus') || /^bench\/results[\w.]*\.json$/.test(span)) continue;
        const first = span.split('/')[0] ?? '';
        let path: string | undefined;
        if (/^(src|test|bench|scripts|deploy|docs)$/.test(first)) path = span;
        else if (srcFolders.has(first)) path = `src/${span}`;
        if (path !== undefined && !existsSync(join(ROOT, path))) missing.push(`${relative(ROOT, file)}: ${span}`);
      }
    }
    assert.deepEqual(missing, [], 'a path in a code span names a file that moved or was removed');
  });
});
