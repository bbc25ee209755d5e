/**
 * Hot reload: on SIGHUP, and when the config file changes (fs.watch on its folder, so editors that save by rename are
 * seen; debounced), the file is parsed and validated with the same loader as at start (resolveConfig, with the same
 * command-line flags on top). An invalid file is rejected with one log line and the running config stays in force. A
 * valid one is swapped in at once, in one synchronous step: model mapping and routes, upstreams and their keys, client
 * keys, limits, logging flags, timeouts, admin key and operator settings. What the listening socket was built with
 * (host, port, base_path, body and header limits) and the usage database path need a restart; that is logged.
 */
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parse } from 'jsonc-parser';
import type { Logger } from 'pino';
import { isLoopback, resolveConfig, type CommandLineOverrides, type ResolvedConfig } from '../config/load.js';
import { describeConfigWarning } from '../config/warnings.js';
import type { AddressInfo } from 'node:net';
import { DetailedLogWriter, createRedactor } from '../server/detailed-log.js';
import type { ProxyContext } from '../server/context.js';
import { UpstreamPool } from '../gateway/upstream-pool.js';
import { UpstreamClient } from '../upstream/client.js';
import { fileModes } from '../shared/private-files.js';
import type { Operator } from './index.js';

export type ReloadTrigger = 'SIGHUP' | 'file change' | 'request';

export type ReloadResult = { ok: true; changed: string[]; restartNeeded: string[] } | { ok: false; error: string };

/** Settings the running listener was built with: a change is logged and waits for a restart. */
const RESTART_ONLY: Array<[string, (config: ResolvedConfig) => unknown]> = [
  ['server.host', (config) => config.host],
  ['server.port', (config) => config.port],
  ['server.base_path', (config) => config.basePath],
  ['server.body_limit_mb', (config) => config.bodyLimitBytes],
  ['server.max_header_bytes', (config) => config.maxHeaderBytes],
  ['usage.enabled', (config) => config.operator.usage.enabled],
  ['usage.database', (config) => config.operator.usage.database],
];

function detailedLogSecrets(config: ResolvedConfig): Array<string | undefined> {
  return [
    config.upstream.apiKey,
    ...config.upstreams.flatMap((entry) => entry.apiKeys),
    ...config.clientApiKeys,
    config.operator.adminApiKey,
    config.webSearch.apiKey,
  ];
}

function upstreamShape(config: ResolvedConfig): string {
  return JSON.stringify({
    upstreams: config.upstreams.map((entry) => ({ ...entry, profile: entry.profile.name })),
    breaker: config.breaker,
  });
}

/**
 * Swaps `next` into the running context. Listener settings keep their running values (see RESTART_ONLY); returns the
 * names of those that differ.
 */
export function applyConfig(context: ProxyContext, next: ResolvedConfig, log: Logger): string[] {
  const previous = context.config;
  const restartNeeded = RESTART_ONLY.filter(
    ([, read]) => JSON.stringify(read(previous)) !== JSON.stringify(read(next)),
  ).map(([name]) => name);
  const effective: ResolvedConfig = {
    ...next,
    host: previous.host,
    port: previous.port,
    basePath: previous.basePath,
    bodyLimitBytes: previous.bodyLimitBytes,
    maxHeaderBytes: previous.maxHeaderBytes,
    operator: {
      ...next.operator,
      usage: {
        ...next.operator.usage,
        enabled: previous.operator.usage.enabled,
        database: previous.operator.usage.database,
      },
    },
  };

  const timeoutsChanged =
    previous.timeouts.connectSeconds !== effective.timeouts.connectSeconds ||
    previous.timeouts.idleSeconds !== effective.timeouts.idleSeconds ||
    previous.timeouts.headersSeconds !== effective.timeouts.headersSeconds ||
    previous.timeouts.unarySeconds !== effective.timeouts.unarySeconds;
  const oldClient = context.upstream;
  const client = timeoutsChanged
    ? new UpstreamClient({
        connectSeconds: effective.timeouts.connectSeconds,
        idleSeconds: effective.timeouts.idleSeconds,
        headersSeconds: effective.timeouts.headersSeconds,
        unarySeconds: effective.timeouts.unarySeconds,
      })
    : oldClient;
  const pool =
    upstreamShape(previous) === upstreamShape(effective)
      ? context.pool
      : new UpstreamPool(effective.upstreams, effective.breaker);
  const detailedLog = effective.logging.detailed
    ? new DetailedLogWriter(
        effective.logging.directory,
        detailedLogSecrets(effective),
        fileModes(effective.logging.groupReadable),
      )
    : undefined;

  // One synchronous step: no request sees half of the change.
  context.config = effective;
  context.upstream = client;
  context.pool = pool;
  context.target = {
    provider: effective.upstream.provider,
    profile: effective.upstream.profile,
    baseUrl: effective.upstream.baseUrl,
    apiKey: effective.upstream.apiKey,
    azureApiVersion: effective.upstream.azureApiVersion,
  };
  context.detailedLog = detailedLog;
  context.redact = createRedactor(detailedLogSecrets(effective));
  log.level = effective.logLevel;

  // Requests still using the old connection pool finish on it; it closes when they are done.
  if (client !== oldClient) oldClient.close().catch(() => undefined);
  return restartNeeded;
}

function topLevelChanges(before: unknown, after: unknown): string[] {
  const a = typeof before === 'object' && before !== null ? (before as Record<string, unknown>) : {};
  const b = typeof after === 'object' && after !== null ? (after as Record<string, unknown>) : {};
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key])).sort();
}

function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join('; ');
}

export interface HotReloadOptions {
  context: ProxyContext;
  operator?: Operator | undefined;
  /** The command-line flags the proxy started with; they keep precedence over the file. */
  overrides: CommandLineOverrides;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Watch the file for changes (default true). */
  watch?: boolean;
  debounceMs?: number;
  /** Also reload on SIGHUP (default false: the CLI turns it on; tests call reload()). */
  sighup?: boolean;
  /** The listening server, whose bound address decides whether a config without client keys is safe. */
  listener?: { address(): AddressInfo | string | null };
}

/**
 * The address the proxy really listens on: a reload cannot move the listener, so the "no client keys off loopback"
 * rule must be checked against it, not against the host in the new file (which a reload could set to 127.0.0.1
 * while removing the keys, leaving a public listener open to anyone).
 */
function listeningHost(context: ProxyContext, listener: HotReloadOptions['listener']): string {
  const address = listener?.address();
  return typeof address === 'object' && address !== null ? address.address : context.config.host;
}

/** Why `next` may not be applied to a listener on `host`, or undefined when it may. */
export function exposureProblem(next: ResolvedConfig, host: string): string | undefined {
  if (next.clientApiKeys.length > 0 || next.allowUnauthenticated || isLoopback(host)) return undefined;
  return `the proxy listens on ${host}, and the new config has no client_api_keys (nor "allow_unauthenticated": true): it would accept anyone who can reach that address`;
}

export interface HotReloader {
  readonly path: string | undefined;
  reload(trigger: ReloadTrigger): ReloadResult;
  close(): void;
}

interface FileState {
  digest: string;
  raw: unknown;
}

/** The file's digest (to skip saves without a change) and its keys (to say what changed); undefined if unreadable. */
function readFileState(path: string): FileState | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    return {
      digest: createHash('sha256').update(text).digest('hex'),
      raw: parse(text, [], { allowTrailingComma: true }) as unknown,
    };
  } catch {
    return undefined;
  }
}

/**
 * Watches the folder holding `path` (editors often replace a file rather than write it in place) and calls `changed`
 * once the file has been quiet for `debounceMs`. Returns the function that stops watching.
 */
function watchFile(path: string, debounceMs: number, log: Logger, changed: () => void): () => void {
  const name = basename(path);
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, changedName) => {
      if (changedName !== null && changedName !== name) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        changed();
      }, debounceMs);
      timer.unref();
    });
    watcher.on('error', (error) => log.warn(`config file watch stopped: ${error.message}; SIGHUP still reloads`));
  } catch (error) {
    log.warn(
      `cannot watch ${path} for changes (${error instanceof Error ? error.message : String(error)}); SIGHUP still reloads`,
    );
  }
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    watcher?.close();
  };
}

export function startHotReload(options: HotReloadOptions): HotReloader {
  const { context, operator, overrides, env, log } = options;
  const configured = overrides.configPath ?? env['GEMINI_PROXY_CONFIG'];
  const path = configured === undefined || configured === '' ? undefined : resolve(configured);
  const readState = (): FileState | undefined => (path === undefined ? undefined : readFileState(path));
  const initial = readState();
  let lastDigest = initial?.digest;
  let lastRaw = initial?.raw;

  const reject = (trigger: ReloadTrigger, state: FileState | undefined, message: string): ReloadResult => {
    if (state !== undefined) lastDigest = state.digest;
    log.error(`config reload (${trigger}) rejected, the running config stays in force: ${message}`);
    operator?.reloaded(false, message);
    return { ok: false, error: message };
  };

  const reload = (trigger: ReloadTrigger): ReloadResult => {
    if (path === undefined) {
      log.warn(`config reload (${trigger}) ignored: the proxy was started without a config file`);
      return { ok: false, error: 'no config file' };
    }
    const state = readState();
    let next: ResolvedConfig;
    try {
      next = resolveConfig({ ...overrides, configPath: path }, env);
    } catch (error) {
      return reject(trigger, state, oneLine(error instanceof Error ? error.message : String(error)));
    }
    const exposure = exposureProblem(next, listeningHost(context, options.listener));
    if (exposure !== undefined) return reject(trigger, state, exposure);
    const changed = topLevelChanges(lastRaw, state?.raw);
    if (state !== undefined) {
      lastDigest = state.digest;
      lastRaw = state.raw;
    }
    const operatorRestart = operator?.reconfigure(next) ?? [];
    const restartNeeded = [...new Set([...applyConfig(context, next, log), ...operatorRestart])];
    for (const warning of next.warnings) log.warn(describeConfigWarning(warning));
    log.info(
      `config reloaded from ${path} (${trigger}); changed: ${changed.length > 0 ? changed.join(', ') : 'nothing'}`,
    );
    if (restartNeeded.length > 0)
      log.warn(`config reload: ${restartNeeded.join(', ')} changed; these take effect only after a restart`);
    operator?.reloaded(true, undefined);
    return { ok: true, changed, restartNeeded };
  };

  const stopWatching =
    path !== undefined && options.watch !== false
      ? watchFile(path, options.debounceMs ?? 300, log, () => {
          const state = readState();
          // Saved without a change (or removed mid-save): nothing to do.
          if (state === undefined || state.digest === lastDigest) return;
          reload('file change');
        })
      : undefined;

  const onSighup = (): void => {
    reload('SIGHUP');
  };
  if (options.sighup === true) process.on('SIGHUP', onSighup);

  return {
    path,
    reload,
    close() {
      stopWatching?.();
      if (options.sighup === true) process.off('SIGHUP', onSighup);
    },
  };
}
