/**
 * The upstream half of the answers: which provider preset, its base URL, and its API key (refused missing for a
 * provider that needs one, unless the user agrees to add it later).
 */
import { PROVIDERS, PROVIDER_NAMES, isProviderName } from '../../providers/index.js';
import type { ProviderName } from '../../providers/profile.js';
import type { Flags } from './flags.js';
import { InitError, askUntilValid, type InitIo, type Prompter } from './prompter.js';

export interface Upstream {
  provider: ProviderName;
  baseUrl: string;
  apiKey: string | undefined;
}

export async function chooseUpstream(flags: Flags, io: InitIo, prompter: Prompter | undefined): Promise<Upstream> {
  const provider = await chooseProvider(flags, io.stdout, prompter);
  const baseUrl = await chooseBaseUrl(provider, flags, io.stdout, prompter);
  const apiKey = await chooseApiKey(provider, flags, io.env, prompter);
  return { provider, baseUrl, apiKey };
}

async function chooseProvider(
  flags: Flags,
  out: NodeJS.WritableStream,
  prompter: Prompter | undefined,
): Promise<ProviderName> {
  if (flags.provider !== undefined || prompter === undefined) return flags.provider ?? 'openai';
  out.write('Upstream provider:\n');
  PROVIDER_NAMES.forEach((name, index) =>
    out.write(`  ${String(index + 1).padStart(2)}) ${name.padEnd(11)} ${PROVIDERS[name].displayName}\n`),
  );
  return askUntilValid(prompter, out, 'Provider (number or name)', 'openai', (answer) => {
    const byNumber = PROVIDER_NAMES[Number(answer) - 1];
    const chosen = /^\d+$/.test(answer) ? byNumber : answer.toLowerCase();
    if (chosen !== undefined && isProviderName(chosen)) return chosen;
    throw new Error(`Unknown provider "${answer}".`);
  });
}

function validUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

async function chooseBaseUrl(
  provider: ProviderName,
  flags: Flags,
  out: NodeJS.WritableStream,
  prompter: Prompter | undefined,
): Promise<string> {
  const profile = PROVIDERS[provider];
  let baseUrl = flags.baseUrl ?? profile.defaultBaseUrl;
  if (flags.baseUrl === undefined && prompter !== undefined) {
    const question = `Base URL of the ${profile.displayName} API`;
    baseUrl = await askUntilValid(prompter, out, question, profile.defaultBaseUrl ?? '', (answer) => {
      if (validUrl(answer)) return answer;
      throw new Error(
        answer === '' ? 'A base URL is required for this provider.' : `"${answer}" is not an http(s) URL.`,
      );
    });
  }
  if (baseUrl === undefined)
    throw new InitError(`--base-url is required for provider ${provider} (it has no default)`, 2);
  if (!validUrl(baseUrl)) throw new InitError(`--base-url: "${baseUrl}" is not an http(s) URL`, 2);
  return baseUrl;
}

async function chooseApiKey(
  provider: ProviderName,
  flags: Flags,
  env: NodeJS.ProcessEnv,
  prompter: Prompter | undefined,
): Promise<string | undefined> {
  const keyed = PROVIDERS[provider].apiKey === 'required' && !flags.noKey;
  if (flags.apiKey !== undefined) return flags.apiKey;
  if (prompter !== undefined) return askApiKey(PROVIDERS[provider].displayName, keyed, env, prompter);
  const apiKey = env['OPENAI_API_KEY'] || undefined;
  if (apiKey === undefined && keyed) {
    throw new InitError(
      `provider ${provider} needs an API key: pass --api-key or set OPENAI_API_KEY (or --no-key to write the config without one)`,
      2,
    );
  }
  return apiKey;
}

/** Asks for the key (not echoed on a terminal); an empty answer for a provider that needs one must be confirmed. */
async function askApiKey(
  displayName: string,
  keyed: boolean,
  env: NodeJS.ProcessEnv,
  prompter: Prompter,
): Promise<string | undefined> {
  for (;;) {
    const answer = await prompter.ask(
      `API key for ${displayName}${keyed ? '' : ' (empty for none)'}`,
      env['OPENAI_API_KEY'],
      true,
    );
    if (answer !== '' || !keyed) return answer === '' ? undefined : answer;
    if (
      await prompter.confirm(
        `${displayName} needs an API key; every request will fail without one. Write the config without a key (add it later)?`,
        false,
      )
    )
      return undefined;
    if (prompter.ended()) throw new InitError(`${displayName} needs an API key; nothing written`, 1);
  }
}
