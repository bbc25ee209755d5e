/** `init`'s command line: the usage text, the flags, and the checks on their values. */
import { parseArgs } from 'node:util';
import { PROVIDER_NAMES, isProviderName } from '../../providers/index.js';
import type { ProviderName } from '../../providers/profile.js';
import { ASSUMED_WINDOW } from '../../quick-start.js';
import { InitError } from './prompter.js';

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

export interface Flags {
  yes: boolean;
  force: boolean;
  noKey: boolean;
  geminiSettings: boolean;
  provider?: ProviderName;
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

const OPTIONS = {
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
} as const;

export function parseFlags(argv: string[]): Flags | 'help' {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help === true) return 'help';
  const flags: Flags = {
    yes: values.yes === true,
    force: values.force === true,
    noKey: values['no-key'] === true,
    geminiSettings: values['gemini-settings'] === true,
    generateClientKey: values['generate-client-key'] === true,
  };
  if (values.provider !== undefined) flags.provider = parseProvider(values.provider);
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

function parseProvider(text: string): ProviderName {
  if (!isProviderName(text))
    throw new InitError(`--provider: unknown provider "${text}"; known: ${PROVIDER_NAMES.join(', ')}`, 2);
  return text;
}

export function parsePort(text: string, what: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new InitError(`${what}: "${text}" is not a port number`, 2);
  return port;
}

export function parseWindow(text: string, what: string): number {
  const value = Number(text.replace(/[_,]/g, '').replace(/k$/i, '000'));
  if (!Number.isInteger(value) || value < 1024)
    throw new InitError(`${what}: "${text}" is not a token count (at least 1024)`, 2);
  return value;
}

function parseClientKey(text: string, what: string): string {
  if (text.length < 8) throw new InitError(`${what}: client keys must be at least 8 characters`, 2);
  return text;
}
