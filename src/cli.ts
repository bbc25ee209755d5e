#!/usr/bin/env node
/**
 * Entry point: flags → config → server. `gemini-proxy --config config.json [--port N] [--host H] [--workers N]`;
 * `gemini-proxy [options] gemini [gemini args…]` runs Gemini CLI through a proxy started for it (src/launcher.ts).
 * With `--workers N` (N > 1) the process becomes a node:cluster primary that forks N workers sharing the port,
 * replaces a crashed worker (with backoff) and forwards SIGTERM/SIGINT to them for a graceful drain.
 */
import cluster, { type Worker } from 'node:cluster';
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import {
  ConfigError,
  EMBEDDED_DEFAULT,
  resolveConfig,
  type CommandLineOverrides,
  type ResolvedConfig,
} from './config/load.js';
import { describeConfigWarning } from './config/warnings.js';
import { buildApp, type BuiltApp } from './app.js';
import { PROXY_OPTIONS, launch, splitAtGemini } from './launcher.js';
import { quickStartInstructions } from './quick-start.js';
import { startHotReload } from './operator/reload.js';
import { userConfigPath } from './operator/user-config.js';
import { chooseLogFormat, humanStdout } from './server/log-format.js';
import { batchedStdout, type BatchedDestination } from './server/log-destination.js';
import { probeListening } from './upstream/reachability.js';

const USAGE = `Usage: gemini-proxy [options]
       gemini-proxy [options] gemini [gemini args…]   run Gemini CLI through a proxy started for it
       gemini-proxy init [--yes] [options]            write a config and set up Gemini CLI (init --help)

Options:
  -c, --config <file>     config file (JSON; comments and trailing commas allowed). Env: GEMINI_PROXY_CONFIG
  -p, --port <n>          listen port (default 8000)
      --host <h>          listen address (default 127.0.0.1)
      --provider <name>   upstream provider preset (default: generic)
      --api-key <key>     upstream API key (env: OPENAI_API_KEY)
      --base-url <url>    upstream base URL (env: OPENAI_BASE_URL)
      --model <name>      default upstream model (env: OPENAI_MODEL)
      --workers <n>       serve with n processes sharing the port (node:cluster; default 1)
      --log-format <f>    human (default when stdout is a terminal) or json (default otherwise)
  -h, --help              show this help

Without --config or GEMINI_PROXY_CONFIG the per-user config is read when it exists (${'$'}XDG_CONFIG_HOME/gemini-proxy/
config.json, else ~/.config/gemini-proxy/config.json: what \`gemini-proxy init\` writes). With no config at all the
proxy listens on 127.0.0.1:8000 and forwards to a local Ollama at ${EMBEDDED_DEFAULT.baseUrl}.

The launcher: everything after the word "gemini" goes to Gemini CLI unchanged (found on PATH, or GEMINI_CLI_PATH).
It listens on a free loopback port with a one-run client key and never edits ~/.gemini/settings.json.`;

/** Upper bound for --workers: more processes than this only adds memory and context switches. */
const MAX_WORKERS = 64;

interface CommandLine {
  overrides: CommandLineOverrides;
  workers: number;
  logFormat: string | undefined;
  /** Set when the word `gemini` was given: the launcher, with these arguments for Gemini CLI. */
  geminiArgs: string[] | undefined;
}

function parseCommandLine(argv: string[]): CommandLine | 'help' {
  const split = splitAtGemini(argv);
  const { values } = parseArgs({ args: split.proxy, options: PROXY_OPTIONS, strict: true });
  if (values.help === true) return 'help';
  const overrides: CommandLineOverrides = {};
  if (values.config !== undefined) overrides.configPath = values.config;
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new ConfigError(`--port: "${values.port}" is not a port number`);
    overrides.port = port;
  }
  if (values.host !== undefined) overrides.host = values.host;
  if (values.provider !== undefined) overrides.provider = values.provider;
  if (values['api-key'] !== undefined) overrides.apiKey = values['api-key'];
  if (values['base-url'] !== undefined) overrides.baseUrl = values['base-url'];
  if (values.model !== undefined) overrides.model = values.model;
  let workers = 1;
  if (values.workers !== undefined) {
    workers = Number(values.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
      throw new ConfigError(`--workers: "${values.workers}" is not a whole number from 1 to ${MAX_WORKERS}`);
    }
  }
  const logFormat = values['log-format'];
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'human')
    throw new ConfigError(`--log-format: "${logFormat}" is not human or json`);
  if (split.gemini !== undefined && workers > 1)
    throw new ConfigError('--workers: the launcher runs one proxy process for one Gemini CLI session');
  return { overrides, workers, logFormat, geminiArgs: split.gemini };
}

/** `gemini-proxy init …`: the setup wizard (src/operator/init.ts), loaded only when asked for. */
async function runInitCommand(argv: string[]): Promise<never> {
  const { runInit } = await import('./operator/init.js');
  const code = await runInit(argv, {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  });
  process.exit(code);
}

/** The config in force, or exit 2 with the reason: the per-user config `init` writes is the default config file. */
function loadConfig(overrides: CommandLineOverrides): ResolvedConfig {
  if (
    overrides.configPath === undefined &&
    (process.env['GEMINI_PROXY_CONFIG'] ?? '') === '' &&
    existsSync(userConfigPath(process.env))
  ) {
    overrides.configPath = userConfigPath(process.env);
  }
  try {
    return resolveConfig(overrides, process.env);
  } catch (error) {
    process.stderr.write(`gemini-proxy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'init') await runInitCommand(process.argv.slice(3));
  let commandLine: CommandLine | 'help';
  try {
    commandLine = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`gemini-proxy: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (commandLine === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const config = loadConfig(commandLine.overrides);
  if (commandLine.geminiArgs !== undefined) {
    const code = await launch(config, commandLine.geminiArgs, { env: process.env, stderr: process.stderr });
    process.exit(code);
  }
  await serve(config, commandLine);
}

/** The proxy itself: the log, then either the cluster primary or one server (a worker, or the only process). */
async function serve(config: ResolvedConfig, commandLine: CommandLine): Promise<void> {
  // Every line passes the redactor of the config in force (set once the app exists, replaced on reload): no configured
  // secret reaches the log, whatever message carried it.
  let redactLine: (line: string) => string = (line) => line;
  // JSON: asynchronous, batched stdout logging, nothing on the request path waits for a write
  // (server/log-destination.ts); human lines in a terminal (server/log-format.ts).
  const stdoutLog =
    chooseLogFormat(commandLine.logFormat, process.stdout.isTTY === true) === 'human' ? humanStdout() : batchedStdout();
  const log = pino(
    { level: config.logLevel, base: { service: 'gemini-proxy' }, hooks: { streamWrite: (line) => redactLine(line) } },
    stdoutLog,
  );
  if (commandLine.workers > 1 && cluster.isPrimary) {
    for (const warning of config.warnings) log.warn(describeConfigWarning(warning));
    runPrimary(commandLine.workers, config.drainSeconds, log);
    return;
  }
  // A cluster worker: the primary has already reported the config warnings.
  if (!cluster.isWorker) for (const warning of config.warnings) log.warn(describeConfigWarning(warning));
  const { app, context, operator } = buildApp(config, log);
  redactLine = (line) => context.redact(line);
  // Hot reload on SIGHUP and on config file change; a bad file is rejected and the running config stays.
  const reloader = startHotReload({
    context,
    operator,
    overrides: commandLine.overrides,
    env: process.env,
    log,
    sighup: true,
    listener: app.server,
  });
  app.addHook('onClose', async () => reloader.close());
  closeOnSignals(app, config.drainSeconds, log);
  await listen(app, config, log, stdoutLog);
}

/** SIGTERM/SIGINT: stop accepting, let open streams finish for up to `drainSeconds`, then exit. */
function closeOnSignals(app: BuiltApp['app'], drainSeconds: number, log: Logger): void {
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    log.info(`${signal} received: closing (open streams get up to ${drainSeconds} s)`);
    const force = setTimeout(() => {
      log.warn(`drain bound of ${drainSeconds} s reached: exiting with streams still open`);
      log.flush();
      process.exit(0);
    }, drainSeconds * 1000);
    force.unref();
    app.close().then(
      () => {
        log.flush();
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** Listens, says where and with what, and (once per group) prints the quick start and checks a local upstream. */
async function listen(
  app: BuiltApp['app'],
  config: ResolvedConfig,
  log: Logger,
  stdoutLog: BatchedDestination,
): Promise<void> {
  try {
    const address = await app.listen({ host: config.host, port: config.port });
    const upstream = `${config.upstream.provider} upstream ${config.upstream.baseUrl}`;
    if (cluster.isWorker) {
      log.info(`gemini-proxy worker ${cluster.worker?.id ?? '?'} (pid ${process.pid}) listening on ${address}`);
    } else if (config.embeddedDefault) {
      log.info(
        `gemini-proxy listening on ${address} with the embedded default config: no config file, forwarding to a local Ollama at ${config.upstream.baseUrl} (default model ${EMBEDDED_DEFAULT.model})`,
      );
    } else {
      log.info(
        `gemini-proxy listening on ${address} (config: ${config.source}; ${upstream}; client keys: ${config.clientApiKeys.length > 0 ? 'required' : 'not required'})`,
      );
    }
    if (config.quickStart && !cluster.isWorker) {
      stdoutLog.flushSync(); // the "listening" line first
      process.stdout.write(quickStartInstructions(config, address));
    }
    if (!cluster.isWorker && config.upstream.profile.unreachableHint !== undefined)
      void warnWhenNothingListens(
        config.upstream.baseUrl,
        config.upstream.profile.displayName,
        config.upstream.profile.unreachableHint,
        log,
      );
  } catch (error) {
    log.fatal(
      `cannot listen on ${config.host}:${config.port}: ${error instanceof Error ? error.message : String(error)}`,
    );
    log.flush();
    process.exit(1);
  }
}

/** One line at start when a local upstream (Ollama, vLLM, llama.cpp) is not running yet; requests say it again. */
async function warnWhenNothingListens(baseUrl: string, name: string, hint: string, log: Logger): Promise<void> {
  if ((await probeListening(baseUrl)) !== 'refused') return;
  log.warn(`nothing listens at ${baseUrl} (${name}): ${hint}. Requests fail with this message until it does.`);
}

/** Crash-restart backoff: 100 ms doubling per crash in a row, at most 10 s; a worker that lived 30 s resets it. */
const RESTART_BASE_MS = 100;
const RESTART_MAX_MS = 10_000;
const STABLE_AFTER_MS = 30_000;
/** Beyond server.drain_seconds (after which workers force-exit themselves), how long the primary still waits. */
const PRIMARY_DRAIN_GRACE_MS = 2_000;

/**
 * The node:cluster primary: forks the workers (each re-runs this CLI with the same flags and listens on the shared
 * port), replaces any worker that dies unexpectedly, and on SIGTERM/SIGINT asks every worker to drain, then exits.
 * A worker that exits before it ever listened (a bad port, an address in use) stops the whole group: restarting
 * it would fail the same way.
 */
function runPrimary(count: number, drainSeconds: number, log: Logger): void {
  let closing = false;
  let exitCode = 0;
  let listeningReported = false;
  let crashesInARow = 0;
  const startedAt = new Map<Worker, number>();
  const listened = new Set<Worker>();
  const pendingRestarts = new Set<NodeJS.Timeout>();

  const fork = (): void => {
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
  };

  cluster.on('listening', (worker, address) => {
    listened.add(worker);
    if (listeningReported) return;
    listeningReported = true;
    const host = address.address === null || address.address === undefined ? '127.0.0.1' : address.address;
    const shown = host.includes(':') ? `[${host}]` : host;
    log.info(`gemini-proxy primary (pid ${process.pid}) serving http://${shown}:${address.port} with ${count} workers`);
  });

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? Date.now());
    const everListened = listened.has(worker);
    startedAt.delete(worker);
    listened.delete(worker);
    const how = signal !== null ? `signal ${signal}` : `code ${String(code)}`;
    if (closing) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        log.info('all workers stopped');
        log.flush();
        process.exit(exitCode);
      }
      return;
    }
    if (!everListened && signal === null && code !== 0) {
      log.fatal(`worker ${worker.id} (pid ${worker.process.pid ?? '?'}) exited with ${how} before listening; stopping`);
      shutdown('startup failure', 1);
      return;
    }
    crashesInARow = lived >= STABLE_AFTER_MS ? 1 : crashesInARow + 1;
    const delay = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (crashesInARow - 1));
    log.error(
      `worker ${worker.id} (pid ${worker.process.pid ?? '?'}) exited with ${how} after ${(lived / 1000).toFixed(1)} s; starting a replacement in ${delay} ms`,
    );
    const timer = setTimeout(() => {
      pendingRestarts.delete(timer);
      if (!closing) fork();
    }, delay);
    pendingRestarts.add(timer);
  });

  const shutdown = (reason: string, code = 0): void => {
    if (closing) return;
    closing = true;
    exitCode = code;
    for (const timer of pendingRestarts) clearTimeout(timer);
    pendingRestarts.clear();
    const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
    log.info(`${reason}: stopping ${workers.length} workers (open streams get up to ${drainSeconds} s)`);
    if (workers.length === 0) {
      log.flush();
      process.exit(exitCode);
    }
    for (const worker of workers) worker.process.kill('SIGTERM');
    const force = setTimeout(
      () => {
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
        log.flush();
        process.exit(exitCode === 0 ? 1 : exitCode);
      },
      drainSeconds * 1000 + PRIMARY_DRAIN_GRACE_MS,
    );
    force.unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM received'));
  process.on('SIGINT', () => shutdown('SIGINT received'));
  // Each worker reloads its own config (and watches the file itself); the primary only passes SIGHUP on.
  process.on('SIGHUP', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP');
  });

  for (let index = 0; index < count; index += 1) fork();
}

void main();
