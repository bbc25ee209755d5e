/**
 * `gemini-proxy [proxy options] gemini [gemini args…]`: one command from zero to a Gemini CLI session on any upstream.
 * Starts the proxy in this process on a free loopback port with a random per-run client key, then runs Gemini CLI
 * with the environment and settings it needs, and stops the proxy when the CLI exits, with the CLI's exit code.
 *
 * The user's own ~/.gemini/settings.json is never written. Gemini CLI 0.61 takes its auth type only from settings
 * (with GOOGLE_GEMINI_BASE_URL set and no `security.auth.selectedType`, it picks the "gateway" type, which headless
 * runs refuse), and it skips a system settings file (GEMINI_CLI_SYSTEM_SETTINGS_PATH) unless root owns it and every
 * directory above it: no use for a per-run file. So the launcher gives the CLI a per-run home instead
 * (GEMINI_CLI_HOME, which the CLI reads for its ~/.gemini): there `.gemini/settings.json` is the user's settings with
 * the proxy's few keys merged over them, and every other entry of the real ~/.gemini (credentials, history, memory,
 * commands, extensions, trusted folders) is a symbolic link to the original, so the session reads and writes them as
 * usual. Entries the CLI creates during the run are moved into the real ~/.gemini afterwards; a change to settings
 * made inside the session (/theme, /auth) applies to that session only.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir, platform, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { parse, type ParseError } from 'jsonc-parser';
import { pino } from 'pino';
import { buildApp } from './app.js';
import type { ResolvedConfig } from './config/load.js';
import { describeConfigWarning } from './config/warnings.js';
import { ASSUMED_WINDOW, cliSettings, compressionThreshold, mainModel } from './quick-start.js';
import { userConfigDirectory } from './operator/user-config.js';

/** The proxy's command-line options (src/cli.ts parses them; the launcher needs to know which take a value). */
export const PROXY_OPTIONS = {
  config: { type: 'string', short: 'c' },
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  provider: { type: 'string' },
  'api-key': { type: 'string' },
  'base-url': { type: 'string' },
  model: { type: 'string' },
  workers: { type: 'string' },
  'log-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Options before the word `gemini`, and everything after it (for Gemini CLI, untouched), when the word is there. */
export function splitAtGemini(argv: readonly string[]): { proxy: string[]; gemini: string[] | undefined } {
  const takesValue = new Set<string>();
  for (const [name, option] of Object.entries(PROXY_OPTIONS)) {
    if (option.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if ('short' in option) takesValue.add(`-${option.short}`);
  }
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index] ?? '';
    if (argument === 'gemini') return { proxy: argv.slice(0, index), gemini: argv.slice(index + 1) };
    if (argument === '--') break;
    if (takesValue.has(argument)) index += 1;
  }
  return { proxy: [...argv], gemini: undefined };
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `over` merged into `base` key by key (objects recursively), as Gemini CLI merges its settings scopes. */
export function mergeSettings(base: JsonObject, over: JsonObject): JsonObject {
  const merged: JsonObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const existing = merged[key];
    merged[key] = isObject(existing) && isObject(value) ? mergeSettings(existing, value) : value;
  }
  return merged;
}

/** The directory Gemini CLI treats as home (its ~/.gemini lives there): GEMINI_CLI_HOME, else the user's home. */
export function geminiHome(env: NodeJS.ProcessEnv): string {
  const configured = env['GEMINI_CLI_HOME'];
  return configured !== undefined && configured !== '' ? configured : homedir();
}

/** The user's settings.json as an object ({} when absent or unreadable: the CLI itself would then use defaults). */
function userSettings(path: string): JsonObject {
  if (!existsSync(path)) return {};
  try {
    const errors: ParseError[] = [];
    const value: unknown = parse(readFileSync(path, 'utf8'), errors, { allowTrailingComma: true });
    return errors.length === 0 && isObject(value) ? value : {};
  } catch {
    return {};
  }
}

/**
 * The per-run home: `<overlay>/.gemini/settings.json` (the user's settings with `settings` merged over them) and a
 * link to every other entry of the real `.gemini`.
 */
export function createOverlayHome(realGeminiDirectory: string, settings: JsonObject): string {
  const home = mkdtempSync(join(tmpdir(), 'gemini-proxy-home-'));
  const overlay = join(home, '.gemini');
  mkdirSync(overlay, { mode: 0o700 });
  const settingsPath = join(realGeminiDirectory, 'settings.json');
  writeFileSync(
    join(overlay, 'settings.json'),
    `${JSON.stringify(mergeSettings(userSettings(settingsPath), settings), null, 2)}\n`,
    { mode: 0o600 },
  );
  if (existsSync(realGeminiDirectory)) {
    for (const name of readdirSync(realGeminiDirectory)) {
      if (name === 'settings.json') continue;
      symlinkSync(join(realGeminiDirectory, name), join(overlay, name));
    }
  }
  return home;
}

/** Moves what the CLI created in the per-run `.gemini` (not links, not settings.json) into the real one, then removes the per-run home. */
export function dissolveOverlayHome(home: string, realGeminiDirectory: string): void {
  const overlay = join(home, '.gemini');
  try {
    for (const name of readdirSync(overlay)) {
      const path = join(overlay, name);
      if (name === 'settings.json' || lstatSync(path).isSymbolicLink()) continue;
      const target = join(realGeminiDirectory, name);
      if (existsSync(target)) continue;
      mkdirSync(realGeminiDirectory, { recursive: true });
      cpSync(path, target, { recursive: true });
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** GEMINI_CLI_PATH, else the first executable `gemini` on PATH; undefined when there is none. */
export function findGeminiCli(env: NodeJS.ProcessEnv): string | undefined {
  const explicit = env['GEMINI_CLI_PATH'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const names = platform() === 'win32' ? ['gemini.cmd', 'gemini.exe', 'gemini'] : ['gemini'];
  for (const directory of (env['PATH'] ?? '').split(delimiter)) {
    if (directory === '') continue;
    for (const name of names) {
      const candidate = join(directory, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export interface LaunchIo {
  env: NodeJS.ProcessEnv;
  stderr: NodeJS.WritableStream;
}

/**
 * What the launched proxy changes in the resolved config: loopback, a free port, the per-run key as the only client
 * key, and (without a config file) logs and the usage store in the per-user directory rather than wherever the user
 * happens to start Gemini CLI.
 */
export function launcherConfig(config: ResolvedConfig, clientKey: string, env: NodeJS.ProcessEnv): ResolvedConfig {
  const adjusted: ResolvedConfig = {
    ...config,
    host: '127.0.0.1',
    port: 0,
    clientApiKeys: [clientKey],
    clients: [{ key: clientKey, name: 'gemini-cli (launcher)', limits: config.limits }],
  };
  if (config.quickStart) {
    const directory = join(userConfigDirectory(env), 'logs');
    adjusted.logging = { ...config.logging, directory };
    adjusted.operator = {
      ...config.operator,
      usage: { ...config.operator.usage, database: join(directory, 'usage.sqlite3') },
    };
  }
  return adjusted;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGTERM: 15,
};

/**
 * Runs Gemini CLI in this terminal and resolves with its exit code (128 + the signal number when a signal ended it).
 * Ctrl-C reaches the CLI directly (same terminal process group) and the CLI decides what it means (cancel, or exit on
 * the second press): the launcher ignores it rather than stopping the proxy under a running session.
 */
async function runGeminiCli(
  cli: string,
  cliArgs: string[],
  env: NodeJS.ProcessEnv,
  stderr: NodeJS.WritableStream,
): Promise<number> {
  const script = /\.[cm]?js$/.test(cli);
  const child = spawn(script ? process.execPath : cli, script ? [cli, ...cliArgs] : cliArgs, {
    stdio: 'inherit',
    env,
    shell: platform() === 'win32' && /\.cmd$/i.test(cli),
  });

  const ignore = (): void => undefined;
  const forward = (signal: NodeJS.Signals) => (): void => {
    child.kill(signal);
  };
  const onTerm = forward('SIGTERM');
  const onHup = forward('SIGHUP');
  process.on('SIGINT', ignore);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onHup);

  const code = await new Promise<number>((resolve) => {
    child.once('error', (error) => {
      stderr.write(`gemini-proxy: cannot run ${cli}: ${error.message}\n`);
      resolve(126);
    });
    child.once('exit', (exitCode, signal) =>
      resolve(exitCode ?? (signal === null ? 1 : 128 + (SIGNAL_NUMBERS[signal] ?? 0))),
    );
  });
  process.off('SIGINT', ignore);
  process.off('SIGTERM', onTerm);
  process.off('SIGHUP', onHup);
  return code;
}

/** Runs the proxy and Gemini CLI; resolves with the exit code for this process. */
export async function launch(resolved: ResolvedConfig, cliArgs: string[], io: LaunchIo): Promise<number> {
  const cli = findGeminiCli(io.env);
  if (cli === undefined) {
    io.stderr.write(
      'gemini-proxy: Gemini CLI not found: install it (npm install -g @google/gemini-cli) or set GEMINI_CLI_PATH to its executable.\n',
    );
    return 127;
  }
  const clientKey = `gp-run-${randomBytes(24).toString('base64url')}`;
  const config = launcherConfig(resolved, clientKey, io.env);
  // Gemini CLI owns the terminal: the proxy logs to a file (JSON lines), never to the screen the CLI draws on.
  const logFile = launcherLogFile(io.env);
  mkdirSync(dirname(logFile), { recursive: true });
  // Synchronous: a launcher's traffic is one person's session, and nothing may be lost when the process exits.
  const destination = pino.destination({ dest: logFile, append: true, sync: true, mkdir: true });
  // The same redaction as the proxy's stdout log: no configured secret reaches the file.
  let redactLine: (line: string) => string = (line) => line;
  const log = pino(
    { level: config.logLevel, base: { service: 'gemini-proxy' }, hooks: { streamWrite: (line) => redactLine(line) } },
    destination,
  );
  for (const warning of config.warnings.map(describeConfigWarning)) {
    log.warn(warning);
    io.stderr.write(`gemini-proxy: ${warning}\n`);
  }
  const { app, context } = buildApp(config, log);
  redactLine = (line) => context.redact(line);
  const address = await app.listen({ host: config.host, port: 0 });
  const realGeminiDirectory = join(geminiHome(io.env), '.gemini');
  const overlayHome = createOverlayHome(realGeminiDirectory, cliSettings(config));

  const main = mainModel(config);
  const window = main?.limits?.contextWindow;
  const threshold = compressionThreshold(window ?? ASSUMED_WINDOW);
  io.stderr.write(
    `gemini-proxy: ${address} → ${config.upstream.provider}${main === undefined ? '' : ` ${main.model}`} (${window === undefined ? `window unknown, ${ASSUMED_WINDOW} assumed` : `${window}-token window`}, compressionThreshold ${threshold}); log: ${logFile}\n`,
  );
  log.info(`launcher: proxy on ${address} for Gemini CLI (${cli})`);

  const env: NodeJS.ProcessEnv = {
    ...io.env,
    GOOGLE_GEMINI_BASE_URL: `${address}${config.basePath}`,
    GEMINI_API_KEY: clientKey,
    GEMINI_CLI_HOME: overlayHome,
  };
  // These would send the CLI to Vertex AI or Code Assist instead of the API-key path the proxy serves.
  delete env['GOOGLE_GENAI_USE_VERTEXAI'];
  delete env['GOOGLE_GENAI_USE_GCA'];
  const code = await runGeminiCli(cli, cliArgs, env, io.stderr);
  try {
    dissolveOverlayHome(overlayHome, realGeminiDirectory);
  } catch (error) {
    io.stderr.write(
      `gemini-proxy: could not tidy the per-run home ${overlayHome}: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
  await closeWithin(app.close(), 2_000);
  log.info(`launcher: Gemini CLI exited with ${code}; proxy stopped`);
  log.flush();
  return code;
}

/** The CLI is gone, so its connections are too; a stuck close must not keep the terminal. */
async function closeWithin(closing: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closing.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Where the launched proxy logs (JSON lines): beside the per-user config. */
export function launcherLogFile(env: NodeJS.ProcessEnv): string {
  return join(userConfigDirectory(env), 'logs', 'launcher.log');
}
