/**
 * Starts the real proxy (the same buildApp the CLI uses) on a loopback port for end-to-end tests.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { resolveConfig } from '../../src/config/load.js';
import { buildApp, type BuiltApp } from '../../src/app.js';

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
