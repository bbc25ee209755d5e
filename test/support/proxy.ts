/**
 * Starts the real proxy (the same buildApp the CLI uses) on a loopback port for end-to-end tests.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { resolveConfig } from '../../src/config/load.js';
import { after, before, beforeEach } from 'node:test';
import { buildApp, type BuiltApp } from '../../src/app.js';
import { ScriptedUpstream } from './scripted-upstream.js';
import { waitFor } from './wait.js';

export interface RunningProxy extends BuiltApp {
  url: string;
  port: number;
  logLines: string[];
  stop(): Promise<void>;
}

export async function startProxy(config: Record<string, unknown>): Promise<RunningProxy> {
  const directory = mkdtempSync(join(tmpdir(), 'gemini-proxy-test-'));
  const path = join(directory, 'config.json');
  // Usage rows stay in memory unless a test asks for a database file.
  writeFileSync(
    path,
    JSON.stringify({ server: { host: '127.0.0.1', port: 0 }, usage: { database: ':memory:' }, ...config }),
  );
  const resolved = resolveConfig({ configPath: path }, {});
  const logLines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  const built = buildApp(resolved, log);
  await built.app.listen({ host: '127.0.0.1', port: 0 });
  const address = built.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    ...built,
    port,
    url: `http://127.0.0.1:${port}`,
    logLines,
    stop: () => built.app.close(),
  };
}

/** A scripted upstream with the real proxy in front of it, for the tests of one suite. */
export interface ProxyRig {
  /** Exists at once; its port and base URL are set when the suite starts. */
  readonly upstream: ScriptedUpstream;
  /** The running proxy; read it inside hooks and tests, once the suite has started. */
  readonly proxy: RunningProxy;
}

/**
 * The rig most suites need, with its hooks: before the suite's tests a scripted upstream starts and the proxy starts in
 * front of it (`config`, with `openai_base_url` pointing at the upstream); after them both stop. With `resetEachTest`
 * the upstream's queue, fallback and records are cleared before each test. Call it inside `describe`, before the
 * suite's own hooks, which then see both running.
 */
export function proxyOverUpstream(
  config: Record<string, unknown>,
  options: { resetEachTest?: boolean } = {},
): ProxyRig {
  const upstream = new ScriptedUpstream();
  let proxy: RunningProxy | undefined;
  before(async () => {
    await upstream.start();
    proxy = await startProxy({ openai_base_url: upstream.baseUrl, ...config });
  });
  after(async () => {
    await proxy?.stop();
    await upstream.stop();
  });
  if (options.resetEachTest === true) beforeEach(() => upstream.reset());
  return {
    upstream,
    get proxy(): RunningProxy {
      if (proxy === undefined)
        throw new Error('the proxy starts with the suite: read rig.proxy inside hooks and tests');
      return proxy;
    },
  };
}

/** The messages the proxy logged so far, oldest first. */
export function logMessages(proxy: Pick<RunningProxy, 'logLines'>): string[] {
  return proxy.logLines.map((line) => (JSON.parse(line) as { msg?: string }).msg ?? '');
}

/** Access lines (one per closed request: `POST /path - 200 - Model: …`), oldest first. */
export function accessLines(proxy: Pick<RunningProxy, 'logLines'>): string[] {
  return logMessages(proxy).filter((message) => /^[A-Z]+ \S+ - \d{3}\b/.test(message));
}

/**
 * Resolves with the first access line matching `pattern`, once the request it describes has closed — the moment the
 * proxy also settles limits and records usage for it.
 */
export async function waitForAccessLine(
  proxy: Pick<RunningProxy, 'logLines'>,
  pattern: RegExp,
  /** Only lines after the first `from` (those of requests made since `accessLines(proxy).length` was `from`). */
  from = 0,
): Promise<string> {
  return waitFor(
    () =>
      accessLines(proxy)
        .slice(from)
        .find((line) => pattern.test(line)),
    () => `an access line matching ${String(pattern)}; last lines:\n${logMessages(proxy).slice(-5).join('\n')}`,
  );
}

/** Waits until the proxy has logged `count` access lines in all (requests it has finished). */
export async function waitForAccessLines(proxy: Pick<RunningProxy, 'logLines'>, count: number): Promise<string[]> {
  return waitFor(
    () => (accessLines(proxy).length >= count ? accessLines(proxy) : undefined),
    () => `${count} access lines; have:\n${accessLines(proxy).join('\n')}`,
  );
}
