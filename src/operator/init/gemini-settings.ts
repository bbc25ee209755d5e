/**
 * What Gemini CLI needs to use the proxy: two environment variables and three keys of its settings.json, printed, and
 * merged into settings.json on request. Only those three keys are touched, each changed only after a yes (or --force)
 * when it already holds another value.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { applyEdits, modify, parse, type ParseError } from 'jsonc-parser';
import { compressionThreshold } from '../../quick-start.js';
import type { InitAnswers } from './answers.js';
import { writeNew } from './config-file.js';
import type { Flags } from './flags.js';
import { InitError, type InitIo, type Prompter } from './prompter.js';

interface Setting {
  path: string[];
  value: unknown;
}

export function geminiCliSettings(answers: InitAnswers): Setting[] {
  return [
    { path: ['security', 'auth', 'selectedType'], value: 'gemini-api-key' },
    { path: ['model', 'name'], value: answers.cliModel },
    { path: ['model', 'compressionThreshold'], value: compressionThreshold(answers.contextWindow) },
  ];
}

export function geminiCliEnv(answers: InitAnswers): Record<string, string> {
  return {
    GOOGLE_GEMINI_BASE_URL: `http://127.0.0.1:${answers.port}`,
    GEMINI_API_KEY: answers.clientKey ?? 'any-non-empty-value',
  };
}

export function geminiSettingsPath(env: NodeJS.ProcessEnv): string {
  const home =
    env['GEMINI_CLI_HOME'] !== undefined && env['GEMINI_CLI_HOME'] !== '' ? env['GEMINI_CLI_HOME'] : homedir();
  return join(home, '.gemini', 'settings.json');
}

/** The settings as the nested object a user pastes into settings.json. */
export function settingsSnippet(answers: InitAnswers): Record<string, unknown> {
  const snippet: Record<string, unknown> = {};
  for (const { path: keys, value } of geminiCliSettings(answers)) {
    let node = snippet;
    keys.forEach((key, index) => {
      if (index === keys.length - 1) node[key] = value;
      else node = (node[key] ??= {}) as Record<string, unknown>;
    });
  }
  return snippet;
}

function readSettingsText(path: string): string {
  if (!existsSync(path)) return '{}\n';
  const text = readFileSync(path, 'utf8');
  const errors: ParseError[] = [];
  const parsed: unknown = parse(text, errors, { allowTrailingComma: true });
  if (errors.length > 0 || typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InitError(`${path} is not a JSON object; left unchanged. Add the settings above by hand.`, 1);
  }
  return text;
}

function valueAt(root: unknown, keys: string[]): unknown {
  let node: unknown = root;
  for (const key of keys)
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

export async function mergeGeminiSettings(
  answers: InitAnswers,
  flags: Flags,
  io: InitIo,
  prompter: Prompter | undefined,
): Promise<void> {
  const path = geminiSettingsPath(io.env);
  let text = readSettingsText(path);
  const current: unknown = parse(text, [], { allowTrailingComma: true });
  const changed: string[] = [];
  const kept: string[] = [];
  for (const { path: keys, value } of geminiCliSettings(answers)) {
    const existing = valueAt(current, keys);
    const name = keys.join('.');
    if (JSON.stringify(existing) === JSON.stringify(value)) continue;
    if (existing !== undefined && !flags.force) {
      const change =
        prompter !== undefined &&
        (await prompter.confirm(
          `${path}: ${name} is ${JSON.stringify(existing)}; change it to ${JSON.stringify(value)}?`,
          false,
        ));
      if (!change) {
        kept.push(`${name} (kept ${JSON.stringify(existing)})`);
        continue;
      }
    }
    text = applyEdits(
      text,
      modify(text, keys, value, { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } }),
    );
    changed.push(name);
  }
  if (changed.length > 0) writeNew(path, text.endsWith('\n') ? text : `${text}\n`, true, 0o600);
  io.stdout.write(
    changed.length > 0
      ? `Updated ${path}: ${changed.join(', ')} (other settings untouched).\n`
      : `${path} already has these settings; unchanged.\n`,
  );
  if (kept.length > 0)
    io.stdout.write(`Not changed: ${kept.join(', ')}.${flags.yes ? ' Use --force to change them.' : ''}\n`);
}
