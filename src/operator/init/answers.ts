/**
 * Everything `init` needs to know, from flags first, then from questions (when not --yes), then from the preset's
 * defaults: the upstream (provider-choice.ts), the models, the port, the client key, the context window, the output.
 */
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { PROVIDERS } from '../../providers/index.js';
import { presetModelLimits } from '../../providers/context-windows.js';
import type { ProviderName } from '../../providers/profile.js';
import { ASSUMED_WINDOW, RECOMMENDED_CLI_MODEL } from '../../quick-start.js';
import { userConfigPath } from '../user-config.js';
import { parsePort, parseWindow, type Flags } from './flags.js';
import { chooseUpstream } from './provider-choice.js';
import { InitError, askUntilValid, type InitIo, type Prompter } from './prompter.js';

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

export async function gatherAnswers(flags: Flags, io: InitIo, prompter: Prompter | undefined): Promise<InitAnswers> {
  const { provider, baseUrl, apiKey } = await chooseUpstream(flags, io, prompter);
  const { model, fastModel } = await chooseModels(provider, flags, io.stdout, prompter);
  const port =
    flags.port ??
    (prompter === undefined
      ? 8000
      : await askUntilValid(prompter, io.stdout, 'Proxy port', '8000', (answer) => parsePort(answer, 'port')));
  const clientKey = await chooseClientKey(flags, prompter);
  const contextWindow = await chooseContextWindow(provider, model, flags, io.stdout, prompter);
  const { output, logDirectory } = await chooseOutput(flags, io, prompter);
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

/** The upstream model for `gemini-*`, and the one for the utility calls (`gemini-*-flash-lite*`). */
async function chooseModels(
  provider: ProviderName,
  flags: Flags,
  out: NodeJS.WritableStream,
  prompter: Prompter | undefined,
): Promise<{ model: string; fastModel: string }> {
  const profile = PROVIDERS[provider];
  const presetMain = profile.defaultModelMapping['gemini-*'] ?? profile.defaultModel;
  const presetFast = profile.defaultModelMapping['gemini-*-flash-lite*'];
  let model = flags.model ?? presetMain;
  if (flags.model === undefined && prompter !== undefined) {
    const question = 'Upstream model for Gemini requests (gemini-*)';
    model = await askUntilValid(prompter, out, question, presetMain ?? '', (answer) => {
      if (answer !== '') return answer;
      throw new Error('A model name is required.');
    });
  }
  if (model === undefined)
    throw new InitError(`--model is required for provider ${provider} (it has no default model)`, 2);
  let fastModel = flags.fastModel ?? (flags.model !== undefined ? model : (presetFast ?? model));
  if (flags.fastModel === undefined && prompter !== undefined) {
    fastModel = await prompter.ask('Upstream model for utility calls (gemini-*-flash-lite*)', presetFast ?? model);
  }
  return { model, fastModel };
}

function generatedClientKey(): string {
  return `gp-${randomBytes(18).toString('base64url')}`;
}

async function chooseClientKey(flags: Flags, prompter: Prompter | undefined): Promise<string | undefined> {
  if (flags.clientKey !== undefined) return flags.clientKey;
  if (flags.generateClientKey) return generatedClientKey();
  if (prompter === undefined) return undefined;
  const wanted = await prompter.confirm('Require a client key (generated) from Gemini CLI and other clients?', false);
  return wanted ? generatedClientKey() : undefined;
}

async function chooseContextWindow(
  provider: ProviderName,
  model: string,
  flags: Flags,
  out: NodeJS.WritableStream,
  prompter: Prompter | undefined,
): Promise<number> {
  const presetWindow = presetModelLimits(provider, model)?.contextWindow ?? ASSUMED_WINDOW;
  if (flags.contextWindow !== undefined) return flags.contextWindow;
  if (prompter === undefined) return presetWindow;
  const question = `Context window of ${model} in tokens (sets Gemini CLI's compression threshold)`;
  return askUntilValid(prompter, out, question, String(presetWindow), (answer) =>
    parseWindow(answer, 'context window'),
  );
}

async function chooseOutput(
  flags: Flags,
  io: InitIo,
  prompter: Prompter | undefined,
): Promise<{ output: string; logDirectory: string }> {
  const perUser = userConfigPath(io.env);
  let output = flags.output ?? perUser;
  if (flags.output === undefined && prompter !== undefined) output = await prompter.ask('Write the config to', perUser);
  const logDirectory = resolve(io.cwd, output) === perUser ? join(dirname(perUser), 'logs') : 'logs';
  return { output, logDirectory };
}
