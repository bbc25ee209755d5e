/**
 * docs/architecture.md's folder table is the dependency rule as a newcomer reads it; this test holds the code to it:
 * every import between two folders of src/ must be one the table allows, and every folder of src/ has a row.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

/** dist/test/docs/ → the repository root. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SRC = join(ROOT, 'src');
const ROOT_MODULES = 'the root modules';

interface Row {
  units: string[];
  mayImport: Set<string> | 'everything';
}

/** A module's unit: its first folder under src/, or the root-modules group, or the file itself (cli.ts, app.ts). */
function unitOf(file: string, rootModules: ReadonlySet<string>): string {
  const path = relative(SRC, file).split(/[\\/]/);
  if (path.length > 1) return `${path[0] ?? ''}/`;
  const name = path[0] ?? '';
  return rootModules.has(name) ? ROOT_MODULES : name;
}

function parseTable(markdown: string): { rows: Row[]; rootModules: Set<string> } {
  const section = markdown.split(/^## /m).find((part) => part.startsWith('Folders and the rules between them'));
  assert.ok(section !== undefined, 'docs/architecture.md has no "Folders and the rules between them" section');
  const rows: Row[] = [];
  const rootModules = new Set<string>();
  const seen: string[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length < 4 || cells[1] === 'Folder' || /^-+$/.test(cells[1] ?? '')) continue;
    const [, folderCell = '', , importCell = ''] = cells;
    const names = [...folderCell.matchAll(/`([^`]+)`/g)].map((match) => (match[1] ?? '').replace(/^src\//, ''));
    let units: string[];
    if (folderCell.includes(ROOT_MODULES)) {
      for (const name of names) rootModules.add(name);
      units = [ROOT_MODULES];
    } else units = names;
    let mayImport: Row['mayImport'];
    if (/^everything\b(?! above)/.test(importCell)) mayImport = 'everything';
    else {
      mayImport = new Set([...importCell.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? ''));
      if (importCell.includes(ROOT_MODULES)) mayImport.add(ROOT_MODULES);
      if (importCell.includes('everything above')) for (const unit of seen) mayImport.add(unit);
    }
    rows.push({ units, mayImport });
    seen.push(...units);
  }
  // "Known upward imports" listed under the table as "- `from/` → `to/`: why".
  for (const [, from = '', to = ''] of section.matchAll(/^- `([^`]+)` → `([^`]+)`:/gm)) {
    const row = rows.find((candidate) => candidate.units.includes(from));
    if (row !== undefined && row.mayImport !== 'everything') row.mayImport.add(to);
  }
  return { rows, rootModules };
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((entry) => {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return entry.endsWith('.ts') ? [path] : [];
  });
}

describe('docs/architecture.md folder rules', () => {
  const { rows, rootModules } = parseTable(readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8'));
  const files = sourceFiles(SRC);

  it('has a row for every folder and root file of src/', () => {
    assert.ok(rows.length >= 8, `only ${rows.length} rows parsed from the folder table`);
    const covered = new Set(rows.flatMap((row) => row.units));
    const missing = [...new Set(files.map((file) => unitOf(file, rootModules)))].filter((unit) => !covered.has(unit));
    assert.deepEqual(missing, []);
  });

  it('every import between folders is one the table allows', () => {
    const allowed = new Map(rows.flatMap((row) => row.units.map((unit) => [unit, row.mayImport] as const)));
    const violations = new Set<string>();
    let crossings = 0;
    for (const file of files) {
      const from = unitOf(file, rootModules);
      const text = readFileSync(file, 'utf8');
      for (const [, specifier = ''] of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)) {
        const to = unitOf(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')), rootModules);
        if (to === from) continue;
        crossings += 1;
        const rule = allowed.get(from);
        if (rule !== 'everything' && !(rule?.has(to) ?? false))
          violations.add(`${from} → ${to} (${relative(ROOT, file)})`);
      }
    }
    assert.ok(crossings > 50, `only ${crossings} imports between folders found: the import scanner is broken`);
    assert.deepEqual([...violations].sort(), []);
  });
});
