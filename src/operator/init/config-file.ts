/**
 * The config file `init` writes: its contents, and writing it without ever replacing a file unasked, after the
 * proxy's own loader has accepted it.
 */
import { existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, resolveConfig } from '../../config/load.js';
import { ensureDirectorySync, fileModes } from '../../shared/private-files.js';
import type { InitAnswers } from './answers.js';
import { InitError, type Prompter } from './prompter.js';

export function buildConfig(answers: InitAnswers): Record<string, unknown> {
  const config: Record<string, unknown> = {
    provider: answers.provider,
    openai_base_url: answers.baseUrl,
  };
  if (answers.apiKey !== undefined && answers.apiKey !== '') config['openai_api_key'] = answers.apiKey;
  config['model_mapping'] =
    answers.fastModel === answers.model
      ? { 'gemini-*': answers.model }
      : { 'gemini-*-flash-lite*': answers.fastModel, 'gemini-*': answers.model };
  config['default_openai_model'] = answers.model;
  if (answers.clientKey !== undefined) config['client_api_keys'] = [answers.clientKey];
  config['server'] = { host: '127.0.0.1', port: answers.port };
  config['logging'] = { enable_detailed_logs: false, enable_access_logs: true, log_directory: answers.logDirectory };
  return config;
}

/** Writes `text` to `path` without ever replacing a file unless `overwrite`; atomically when replacing. */
export function writeNew(path: string, text: string, overwrite: boolean, mode: number): void {
  // A folder created for a file holding keys is owner-only too (folders that exist are left alone).
  ensureDirectorySync(dirname(path), fileModes(false));
  if (!overwrite) {
    writeFileSync(path, text, { flag: 'wx', mode });
    return;
  }
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode });
  renameSync(temporary, path);
}

/**
 * Writes the config for `answers` to `output` (an absolute path). An existing file is replaced only with `force` or
 * a yes; the text is first checked by the loader the proxy uses, so a config `init` writes always starts.
 */
export async function writeConfigFile(
  answers: InitAnswers,
  output: string,
  force: boolean,
  prompter: Prompter | undefined,
): Promise<void> {
  const text = `${JSON.stringify(buildConfig(answers), null, 2)}\n`;
  let overwrite = force;
  if (existsSync(output) && !overwrite) {
    if (prompter === undefined) throw new InitError(`${output} exists; not overwritten (use --force to replace it)`, 1);
    overwrite = await prompter.confirm(`${output} exists. Overwrite it?`, false);
    if (!overwrite) throw new InitError(`${output} exists; nothing written`, 1);
  }
  checkWithLoader(output, text);
  writeNew(output, text, overwrite, 0o600);
}

function checkWithLoader(output: string, text: string): void {
  const check = `${output}.${process.pid}.check.tmp`;
  writeNew(check, text, true, 0o600);
  try {
    resolveConfig({ configPath: check }, {});
  } catch (error) {
    throw new InitError(error instanceof ConfigError ? error.message.replaceAll(check, output) : String(error), 1);
  } finally {
    try {
      unlinkSync(check);
    } catch {
      // already gone
    }
  }
}
