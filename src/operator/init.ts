/**
 * `gemini-proxy init`: writes a config file for one provider preset and sets up Gemini CLI. Interactive by default
 * (node:readline; the key is not echoed on a terminal); `--yes` takes everything from flags and defaults, for scripts.
 * Never overwrites: an existing config file needs a yes (or --force), and in Gemini CLI's settings.json only the three
 * keys it needs are touched, each changed only after a yes (or --force) when it already holds another value.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { ensureDirectorySync, fileModes } from '../shared/private-files.js';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { applyEdits, modify, parse, type ParseError } from 'jsonc-parser';
import { ConfigError, resolveConfig } from '../config/load.js';
import { PROVIDERS, PROVIDER_NAMES, isProviderName } from '../providers/index.js';
import { presetModelLimits } from '../providers/context-windows.js';
import { needsApiKey } from '../providers/keys.js';
import type { ProviderName } from '../providers/profile.js';
import { ASSUMED_WINDOW, RECOMMENDED_CLI_MODEL, compressionThreshold } from '../quick-start.js';
import { ignoreInWorkTree, userConfigPath } from './user-config.js';

export { compressionThreshold };

export const INIT_USAGE = `Usage: gemini-proxy init [options]

Writes a gemini-proxy config for a provider preset, then prints (or merges) the Gemini CLI settings.
Asks questions unless --yes is given.

Options:
  -y, --yes                 no questions: flags and defaults only
      --provider <name>     ${PROVIDER_NAMES.join(', ')}
      --base-url <url>      upstream base URL (default: the preset's)
      --api-key <key>       upstream API key (env: OPENAI_API_KEY); required for hosted providers
      --no-key              write a config without a key for a provider that needs one (you add it later)
      --model <name>        upstream model for gemini-* (default: the preset's)
      --fast-model <name>   upstream model for gemini-*-flash-lite* utility calls (default: the preset's, else --model)
      --port <n>            proxy port (default 8000)
      --client-key <key>    require this client key (at least 8 characters)
      --generate-client-key generate a client key
      --context-window <n>  the upstream model's context window in tokens, for Gemini CLI's compression threshold
                            (default: the preset's figure for the model, else ${ASSUMED_WINDOW})
      --cli-model <name>    model name Gemini CLI asks for (default gemini-3.8-flash)
  -o, --output <file>       config file to write (default: the per-user config, which gemini-proxy reads when
                            started without --config: $XDG_CONFIG_HOME/gemini-proxy/config.json or
                            ~/.config/gemini-proxy/config.json); inside a git work tree it is added to .gitignore
      --gemini-settings     also merge the Gemini CLI settings into $GEMINI_CLI_HOME/.gemini/settings.json
                            (GEMINI_CLI_HOME defaults to your home directory)
      --force               overwrite an existing config file; change differing Gemini CLI settings without asking
  -h, --help                show this help`;

export interface InitAnswers {
  provider: ProviderName;
  baseUrl: string;
  apiKey: string | undefined;
  model: string;
  fastModel: string;
  port: number;
  clientKey: string | undefined;
  contextWindow: number;
  cliModel: string;
  output: string;
  /** Where logs and the usage store go: next to a per-user config, else `logs` under the working directory. */
  logDirectory: string;
}

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

export function geminiCliSettings(answers: InitAnswers): Array<{ path: string[]; value: unknown }> {
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

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Line-by-line prompts that also work with piped input (lines that arrive early are queued, not lost). */
class Prompter {
  private readonly lines: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private closed = false;
  private muted = false;
  private readonly rl: Interface;

  constructor(
    private readonly input: NodeJS.ReadableStream & { isTTY?: boolean },
    private readonly out: NodeJS.WritableStream,
  ) {
    const echo = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        if (!this.muted) this.out.write(chunk);
        callback();
      },
    });
    this.rl = createInterface({ input, output: echo, terminal: input.isTTY === true });
    this.rl.on('line', (line) => {
      if (this.waiting !== undefined) {
        const resolveLine = this.waiting;
        this.waiting = undefined;
        resolveLine(line);
      } else this.lines.push(line);
    });
    this.rl.on('close', () => {
      this.closed = true;
      const resolveLine = this.waiting;
      this.waiting = undefined;
      resolveLine?.(undefined);
    });
  }

  private nextLine(): Promise<string | undefined> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolveLine) => (this.waiting = resolveLine));
  }

  /** Asks; an empty answer (or end of input) takes the default. */
  async ask(question: string, fallback?: string, secret = false): Promise<string> {
    const shown = fallback === undefined || fallback === '' ? '' : secret ? ' [keep]' : ` [${fallback}]`;
    this.out.write(`${question}${shown}: `);
    this.muted = secret && this.input.isTTY === true;
    const line = await this.nextLine();
    if (this.muted) this.out.write('\n');
    this.muted = false;
    if (line === undefined) this.out.write('\n');
    const answer = (line ?? '').trim();
    return answer === '' ? (fallback ?? '') : answer;
  }

  async confirm(question: string, fallback: boolean): Promise<boolean> {
    for (;;) {
      const answer = (await this.ask(`${question} (${fallback ? 'Y/n' : 'y/N'})`)).toLowerCase();
      if (answer === '') return fallback;
      if (answer === 'y' || answer === 'yes') return true;
      if (answer === 'n' || answer === 'no') return false;
      if (this.closed && this.lines.length === 0) return fallback;
      this.out.write('Please answer y or n.\n');
    }
  }

  /** True once the input has ended and every line it held was read. */
  ended(): boolean {
    return this.closed && this.lines.length === 0;
  }

  close(): void {
    this.rl.close();
  }
}

export interface InitIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

class InitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

interface Flags {
  yes: boolean;
  force: boolean;
  noKey: boolean;
  geminiSettings: boolean;
  provider?: string;
  baseUrl?: string;
  apiKey?: string;
  model?: string;
  fastModel?: string;
  port?: number;
  clientKey?: string;
  generateClientKey: boolean;
  contextWindow?: number;
  cliModel?: string;
  output?: string;
}

function parseFlags(argv: string[]): Flags | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      yes: { type: 'boolean', short: 'y' },
      force: { type: 'boolean' },
      'no-key': { type: 'boolean' },
      'gemini-settings': { type: 'boolean' },
      provider: { type: 'string' },
      'base-url': { type: 'string' },
      'api-key': { type: 'string' },
      model: { type: 'string' },
      'fast-model': { type: 'string' },
      port: { type: 'string' },
      'client-key': { type: 'string' },
      'generate-client-key': { type: 'boolean' },
      'context-window': { type: 'string' },
      'cli-model': { type: 'string' },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) return 'help';
  const flags: Flags = {
    yes: values.yes === true,
    force: values.force === true,
    noKey: values['no-key'] === true,
    geminiSettings: values['gemini-settings'] === true,
    generateClientKey: values['generate-client-key'] === true,
  };
  if (values.provider !== undefined) {
    if (!isProviderName(values.provider))
      throw new InitError(`--provider: unknown provider "${values.provider}"; known: ${PROVIDER_NAMES.join(', ')}`, 2);
    flags.provider = values.provider;
  }
  if (values['base-url'] !== undefined) flags.baseUrl = values['base-url'];
  if (values['api-key'] !== undefined) flags.apiKey = values['api-key'];
  if (values.model !== undefined) flags.model = values.model;
  if (values['fast-model'] !== undefined) flags.fastModel = values['fast-model'];
  if (values.port !== undefined) flags.port = parsePort(values.port, '--port');
  if (values['client-key'] !== undefined) flags.clientKey = parseClientKey(values['client-key'], '--client-key');
  if (values['context-window'] !== undefined)
    flags.contextWindow = parseWindow(values['context-window'], '--context-window');
  if (values['cli-model'] !== undefined) flags.cliModel = values['cli-model'];
  if (values.output !== undefined) flags.output = values.output;
  return flags;
}

function parsePort(text: string, what: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new InitError(`${what}: "${text}" is not a port number`, 2);
  return port;
}

function parseWindow(text: string, what: string): number {
  const value = Number(text.replace(/[_,]/g, '').replace(/k$/i, '000'));
  if (!Number.isInteger(value) || value < 1024)
    throw new InitError(`${what}: "${text}" is not a token count (at least 1024)`, 2);
  return value;
}

function parseClientKey(text: string, what: string): string {
  if (text.length < 8) throw new InitError(`${what}: client keys must be at least 8 characters`, 2);
  return text;
}

function validUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

async function gatherAnswers(flags: Flags, io: InitIo, prompter: Prompter | undefined): Promise<InitAnswers> {
  const out = io.stdout;
  let provider: ProviderName;
  if (flags.provider !== undefined || prompter === undefined) {
    provider = (flags.provider as ProviderName | undefined) ?? 'openai';
  } else {
    out.write('Upstream provider:\n');
    PROVIDER_NAMES.forEach((name, index) =>
      out.write(`  ${String(index + 1).padStart(2)}) ${name.padEnd(11)} ${PROVIDERS[name].displayName}\n`),
    );
    for (;;) {
      const answer = await prompter.ask('Provider (number or name)', 'openai');
      const byNumber = PROVIDER_NAMES[Number(answer) - 1];
      const chosen = /^\d+$/.test(answer) ? byNumber : answer.toLowerCase();
      if (chosen !== undefined && isProviderName(chosen)) {
        provider = chosen;
        break;
      }
      out.write(`Unknown provider "${answer}".\n`);
    }
  }
  const profile = PROVIDERS[provider];

  let baseUrl = flags.baseUrl ?? profile.defaultBaseUrl;
  if (flags.baseUrl === undefined && prompter !== undefined) {
    for (;;) {
      const answer = await prompter.ask(`Base URL of the ${profile.displayName} API`, profile.defaultBaseUrl);
      if (validUrl(answer)) {
        baseUrl = answer;
        break;
      }
      out.write(answer === '' ? 'A base URL is required for this provider.\n' : `"${answer}" is not an http(s) URL.\n`);
    }
  }
  if (baseUrl === undefined)
    throw new InitError(`--base-url is required for provider ${provider} (it has no default)`, 2);
  if (!validUrl(baseUrl)) throw new InitError(`--base-url: "${baseUrl}" is not an http(s) URL`, 2);

  const keyed = needsApiKey(provider) && !flags.noKey;
  let apiKey = flags.apiKey ?? (prompter === undefined ? io.env['OPENAI_API_KEY'] || undefined : undefined);
  if (flags.apiKey === undefined && prompter !== undefined) {
    for (;;) {
      const answer = await prompter.ask(
        `API key for ${profile.displayName}${keyed ? '' : ' (empty for none)'}`,
        io.env['OPENAI_API_KEY'],
        true,
      );
      apiKey = answer === '' ? undefined : answer;
      if (apiKey !== undefined || !keyed) break;
      if (
        await prompter.confirm(
          `${profile.displayName} needs an API key; every request will fail without one. Write the config without a key (add it later)?`,
          false,
        )
      )
        break;
      if (prompter.ended()) throw new InitError(`${profile.displayName} needs an API key; nothing written`, 1);
    }
  }
  if (apiKey === undefined && keyed && prompter === undefined) {
    throw new InitError(
      `provider ${provider} needs an API key: pass --api-key or set OPENAI_API_KEY (or --no-key to write the config without one)`,
      2,
    );
  }

  const presetMain = profile.defaultModelMapping['gemini-*'] ?? profile.defaultModel;
  const presetFast = profile.defaultModelMapping['gemini-*-flash-lite*'];
  let model = flags.model ?? presetMain;
  if (flags.model === undefined && prompter !== undefined) {
    for (;;) {
      const answer = await prompter.ask('Upstream model for Gemini requests (gemini-*)', presetMain);
      if (answer !== '') {
        model = answer;
        break;
      }
      out.write('A model name is required.\n');
    }
  }
  if (model === undefined)
    throw new InitError(`--model is required for provider ${provider} (it has no default model)`, 2);
  let fastModel = flags.fastModel ?? (flags.model !== undefined ? model : (presetFast ?? model));
  if (flags.fastModel === undefined && prompter !== undefined) {
    fastModel = await prompter.ask('Upstream model for utility calls (gemini-*-flash-lite*)', presetFast ?? model);
  }

  let port = flags.port ?? 8000;
  if (flags.port === undefined && prompter !== undefined) {
    for (;;) {
      const answer = await prompter.ask('Proxy port', '8000');
      try {
        port = parsePort(answer, 'port');
        break;
      } catch (error) {
        out.write(`${(error as Error).message}\n`);
      }
    }
  }

  let clientKey =
    flags.clientKey ?? (flags.generateClientKey ? `gp-${randomBytes(18).toString('base64url')}` : undefined);
  if (flags.clientKey === undefined && !flags.generateClientKey && prompter !== undefined) {
    if (await prompter.confirm('Require a client key (generated) from Gemini CLI and other clients?', false))
      clientKey = `gp-${randomBytes(18).toString('base64url')}`;
  }

  const presetWindow = presetModelLimits(provider, model)?.contextWindow ?? ASSUMED_WINDOW;
  let contextWindow = flags.contextWindow ?? presetWindow;
  if (flags.contextWindow === undefined && prompter !== undefined) {
    for (;;) {
      const answer = await prompter.ask(
        `Context window of ${model} in tokens (sets Gemini CLI's compression threshold)`,
        String(presetWindow),
      );
      try {
        contextWindow = parseWindow(answer, 'context window');
        break;
      } catch (error) {
        out.write(`${(error as Error).message}\n`);
      }
    }
  }

  const perUser = userConfigPath(io.env);
  let output = flags.output ?? perUser;
  if (flags.output === undefined && prompter !== undefined) output = await prompter.ask('Write the config to', perUser);
  const logDirectory = resolve(io.cwd, output) === perUser ? join(dirname(perUser), 'logs') : 'logs';

  return {
    provider,
    baseUrl,
    apiKey,
    model,
    fastModel: fastModel === '' ? model : fastModel,
    port,
    clientKey,
    contextWindow,
    cliModel: flags.cliModel ?? RECOMMENDED_CLI_MODEL,
    output,
    logDirectory,
  };
}

/** Writes `text` to `path` without ever replacing a file unless `overwrite`; atomically when replacing. */
function writeNew(path: string, text: string, overwrite: boolean, mode: number): void {
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

async function mergeGeminiSettings(
  answers: InitAnswers,
  flags: Flags,
  io: InitIo,
  prompter: Prompter | undefined,
): Promise<void> {
  const path = geminiSettingsPath(io.env);
  let text = '{}\n';
  if (existsSync(path)) {
    text = readFileSync(path, 'utf8');
    const errors: ParseError[] = [];
    const parsed: unknown = parse(text, errors, { allowTrailingComma: true });
    if (errors.length > 0 || typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InitError(`${path} is not a JSON object; left unchanged. Add the settings above by hand.`, 1);
    }
  }
  const current = parse(text, [], { allowTrailingComma: true }) as Record<string, unknown>;
  const read = (keys: string[]): unknown => {
    let node: unknown = current;
    for (const key of keys)
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
    return node;
  };
  const changed: string[] = [];
  const kept: string[] = [];
  for (const { path: keys, value } of geminiCliSettings(answers)) {
    const existing = read(keys);
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

export async function runInit(argv: string[], io: InitIo): Promise<number> {
  let prompter: Prompter | undefined;
  try {
    const flags = parseFlags(argv);
    if (flags === 'help') {
      io.stdout.write(`${INIT_USAGE}\n`);
      return 0;
    }
    prompter = flags.yes ? undefined : new Prompter(io.stdin, io.stdout);
    if (prompter !== undefined) io.stdout.write('gemini-proxy init: a few questions; Enter takes the [default].\n\n');
    const answers = await gatherAnswers(flags, io, prompter);

    const output = resolve(io.cwd, answers.output);
    const config = buildConfig(answers);
    const text = `${JSON.stringify(config, null, 2)}\n`;
    let overwrite = flags.force;
    if (existsSync(output) && !overwrite) {
      if (prompter === undefined)
        throw new InitError(`${output} exists; not overwritten (use --force to replace it)`, 1);
      overwrite = await prompter.confirm(`${output} exists. Overwrite it?`, false);
      if (!overwrite) throw new InitError(`${output} exists; nothing written`, 1);
    }
    // The loader the proxy uses checks what we are about to write.
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
    writeNew(output, text, overwrite, 0o600);
    io.stdout.write(
      `\nWrote ${output} (${answers.provider}: gemini-* → ${answers.model}${answers.fastModel !== answers.model ? `, gemini-*-flash-lite* → ${answers.fastModel}` : ''}).\n`,
    );
    const ignored = ignoreInWorkTree(output);
    if (ignored !== undefined)
      io.stdout.write(`It is inside a git work tree and holds a key: added it to ${ignored}.\n`);
    if (answers.apiKey === undefined && needsApiKey(answers.provider))
      io.stdout.write(
        `No API key written: add "openai_api_key" to ${output} (or set OPENAI_API_KEY) before starting.\n`,
      );
    // gemini-proxy is not yet published to npm: from a checkout the bin is `npm start --` (or `npm link` once).
    const configFlag = output === userConfigPath(io.env) ? '' : ` --config ${shellQuote(output)}`;
    io.stdout.write(
      `Run Gemini CLI through the proxy:  gemini-proxy${configFlag} gemini     (from a checkout: npm start --${configFlag} gemini)\n`,
    );
    io.stdout.write(
      `Or start only the proxy:           gemini-proxy${configFlag}            (from a checkout: npm start --${configFlag})\n\n`,
    );

    io.stdout.write('Gemini CLI: put these in your shell profile:\n');
    for (const [name, value] of Object.entries(geminiCliEnv(answers)))
      io.stdout.write(`  export ${name}=${shellQuote(value)}\n`);
    io.stdout.write(`\nand these in ${geminiSettingsPath(io.env)}:\n`);
    const snippet: Record<string, unknown> = {};
    for (const { path: keys, value } of geminiCliSettings(answers)) {
      let node = snippet;
      keys.forEach((key, index) => {
        if (index === keys.length - 1) node[key] = value;
        else node = (node[key] ??= {}) as Record<string, unknown>;
      });
    }
    io.stdout.write(`${JSON.stringify(snippet, null, 2).replace(/^/gm, '  ')}\n\n`);

    const merge =
      flags.geminiSettings ||
      (prompter !== undefined &&
        (await prompter.confirm(`Merge these settings into ${geminiSettingsPath(io.env)} now?`, false)));
    if (merge) await mergeGeminiSettings(answers, flags, io, prompter);
    return 0;
  } catch (error) {
    const code = error instanceof InitError ? error.exitCode : error instanceof TypeError && 'code' in error ? 2 : 1;
    io.stderr.write(`gemini-proxy init: ${error instanceof Error ? error.message : String(error)}\n`);
    if (code === 2) io.stderr.write(`\n${INIT_USAGE}\n`);
    return code;
  } finally {
    prompter?.close();
  }
}
