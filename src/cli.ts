#!/usr/bin/env node
/**
 * Entry point: flags → config → server. `gemini-proxy --config config.json [--port N] [--host H]`.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ConfigError, EMBEDDED_DEFAULT, resolveConfig, type CommandLineOverrides } from './config/load.js';
import { buildApp } from './server/app.js';

const USAGE = `Usage: gemini-proxy [options]

Options:
  -c, --config <file>     config file (JSON; comments and trailing commas allowed). Env: GEMINI_PROXY_CONFIG
  -p, --port <n>          listen port (default 8000)
      --host <h>          listen address (default 127.0.0.1)
      --provider <name>   upstream provider preset (default: generic)
      --api-key <key>     upstream API key (env: OPENAI_API_KEY)
      --base-url <url>    upstream base URL (env: OPENAI_BASE_URL)
      --model <name>      default upstream model (env: OPENAI_MODEL)
  -h, --help              show this help

With no config at all the proxy listens on 127.0.0.1:8000 and forwards to a local Ollama at ${EMBEDDED_DEFAULT.baseUrl}.`;

function parseCommandLine(argv: string[]): CommandLineOverrides | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      provider: { type: 'string' },
      'api-key': { type: 'string' },
      'base-url': { type: 'string' },
      model: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) return 'help';
  const overrides: CommandLineOverrides = {};
  if (values.config !== undefined) overrides.configPath = values.config;
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port: "${values.port}" is not a port number`);
    overrides.port = port;
  }
  if (values.host !== undefined) overrides.host = values.host;
  if (values.provider !== undefined) overrides.provider = values.provider;
  if (values['api-key'] !== undefined) overrides.apiKey = values['api-key'];
  if (values['base-url'] !== undefined) overrides.baseUrl = values['base-url'];
  if (values.model !== undefined) overrides.model = values.model;
  return overrides;
}

async function main(): Promise<void> {
  let overrides: CommandLineOverrides | 'help';
  try {
    overrides = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`gemini-proxy: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (overrides === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let config;
  try {
    config = resolveConfig(overrides, process.env);
  } catch (error) {
    process.stderr.write(`gemini-proxy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }

  // Asynchronous stdout logging: nothing on the request path waits for a write.
  const log = pino({ level: config.logLevel, base: { service: 'gemini-proxy' } }, pino.destination({ dest: 1, sync: false, minLength: 0 }));
  for (const warning of config.warnings) log.warn(warning);
  const { app } = buildApp(config, log);

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    log.info(`${signal} received: closing (open streams get up to 10 s)`);
    const force = setTimeout(() => process.exit(0), 10_000);
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

  try {
    const address = await app.listen({ host: config.host, port: config.port });
    const upstream = `${config.upstream.provider} upstream ${config.upstream.baseUrl}`;
    if (config.embeddedDefault) {
      log.info(`gemini-proxy listening on ${address} with the embedded default config: no config file, forwarding to a local Ollama at ${config.upstream.baseUrl} (default model ${EMBEDDED_DEFAULT.model})`);
    } else {
      log.info(`gemini-proxy listening on ${address} (config: ${config.source}; ${upstream}; client keys: ${config.clientApiKeys.length > 0 ? 'required' : 'not required'})`);
    }
  } catch (error) {
    log.fatal(`cannot listen on ${config.host}:${config.port}: ${error instanceof Error ? error.message : String(error)}`);
    log.flush();
    process.exit(1);
  }
}

void main();
