/** What `init` prints once the config is written: what it wrote, how to start, and Gemini CLI's environment and settings. */
import { PROVIDERS } from '../../providers/index.js';
import { userConfigPath } from '../user-config.js';
import type { InitAnswers } from './answers.js';
import { geminiCliEnv, geminiSettingsPath, settingsSnippet } from './gemini-settings.js';

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function printWritten(answers: InitAnswers, output: string, out: NodeJS.WritableStream): void {
  const fast = answers.fastModel !== answers.model ? `, gemini-*-flash-lite* → ${answers.fastModel}` : '';
  out.write(`\nWrote ${output} (${answers.provider}: gemini-* → ${answers.model}${fast}).\n`);
}

/** `ignored`: the .gitignore the config was just added to, if any. */
export function printNextSteps(
  answers: InitAnswers,
  output: string,
  ignored: string | undefined,
  out: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv,
): void {
  if (ignored !== undefined) out.write(`It is inside a git work tree and holds a key: added it to ${ignored}.\n`);
  if (answers.apiKey === undefined && PROVIDERS[answers.provider].apiKey === 'required')
    out.write(`No API key written: add "openai_api_key" to ${output} (or set OPENAI_API_KEY) before starting.\n`);
  // gemini-proxy is not yet published to npm: from a checkout the bin is `npm start --` (or `npm link` once).
  const configFlag = output === userConfigPath(env) ? '' : ` --config ${shellQuote(output)}`;
  out.write(
    `Run Gemini CLI through the proxy:  gemini-proxy${configFlag} gemini     (from a checkout: npm start --${configFlag} gemini)\n`,
  );
  out.write(
    `Or start only the proxy:           gemini-proxy${configFlag}            (from a checkout: npm start --${configFlag})\n\n`,
  );

  out.write('Gemini CLI: put these in your shell profile:\n');
  for (const [name, value] of Object.entries(geminiCliEnv(answers)))
    out.write(`  export ${name}=${shellQuote(value)}\n`);
  out.write(`\nand these in ${geminiSettingsPath(env)}:\n`);
  out.write(`${JSON.stringify(settingsSnippet(answers), null, 2).replace(/^/gm, '  ')}\n\n`);
}
