/**
 * Reading a config file: JSON with comments and trailing commas, checked against the schema. A syntax or schema error
 * is a ConfigError naming the line or key; unknown keys are warnings, not failures.
 */
import { readFileSync } from 'node:fs';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { ConfigError } from './resolved.js';
import { KNOWN_KEYS, configSchema, type FileConfig } from './schema.js';
import type { ConfigWarning } from './warnings.js';

function parseJsonWithComments(text: string, source: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first !== undefined) {
    const before = text.slice(0, first.offset);
    const line = before.split('\n').length;
    const column = first.offset - before.lastIndexOf('\n');
    throw new ConfigError(
      `${source}: invalid JSON at line ${line}, column ${column}: ${printParseErrorCode(first.error)}`,
    );
  }
  return value;
}

function unknownKeys(raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return [];
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const known = KNOWN_KEYS[''];
    if (known !== undefined && !known.has(key)) {
      unknown.push(key);
      continue;
    }
    const nested = KNOWN_KEYS[key];
    if (nested !== undefined && typeof value === 'object' && value !== null) {
      for (const child of Object.keys(value)) if (!nested.has(child)) unknown.push(`${key}.${child}`);
    }
  }
  return unknown;
}

function describeIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.length === 0 ? '(root)' : issue.path.join('.');
    return `  - ${path}: ${issue.message}`;
  });
  return `${source}: invalid configuration\n${lines.join('\n')}`;
}

export function parseConfigText(text: string, source: string): { config: FileConfig; warnings: ConfigWarning[] } {
  const raw = parseJsonWithComments(text, source);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(`${source}: the top level must be a JSON object`);
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssues(result.error, source));
  const warnings = unknownKeys(raw).map((key): ConfigWarning => ({
    kind: 'unknown-key',
    field: key,
    detail: `${source}: unknown key "${key}" ignored`,
  }));
  return { config: result.data, warnings };
}

/** The file at `path` (none when undefined or empty: the schema's defaults), where it came from, and its warnings. */
export function readConfigFile(path: string | undefined): {
  file: FileConfig;
  source: string;
  warnings: ConfigWarning[];
} {
  if (path === undefined || path === '')
    return { file: configSchema.parse({}), source: 'embedded defaults', warnings: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = parseConfigText(text, path);
  return { file: parsed.config, source: path, warnings: parsed.warnings };
}
