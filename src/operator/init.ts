/**
 * `gemini-proxy init`: writes a config file for one provider preset and sets up Gemini CLI. Interactive by default
 * (node:readline; the key is not echoed on a terminal); `--yes` takes everything from flags and defaults, for scripts.
 * Never overwrites: an existing config file needs a yes (or --force), and in Gemini CLI's settings.json only the three
 * keys it needs are touched, each changed only after a yes (or --force) when it already holds another value.
 *
 * The parts, under init/: the terminal (prompter.ts), the command line (flags.ts), the answers (answers.ts, with the
 * provider, base URL and key in provider-choice.ts), the config file (config-file.ts), Gemini CLI's settings
 * (gemini-settings.ts) and what is printed at the end (summary.ts).
 */
import { resolve } from 'node:path';
import { compressionThreshold } from '../quick-start.js';
import { gatherAnswers } from './init/answers.js';
import { writeConfigFile } from './init/config-file.js';
import { INIT_USAGE, parseFlags } from './init/flags.js';
import { geminiSettingsPath, mergeGeminiSettings } from './init/gemini-settings.js';
import { InitError, Prompter, type InitIo } from './init/prompter.js';
import { printNextSteps, printWritten } from './init/summary.js';
import { ignoreInWorkTree } from './user-config.js';

export { compressionThreshold, INIT_USAGE };
export type { InitAnswers } from './init/answers.js';
export type { InitIo } from './init/prompter.js';
export { buildConfig } from './init/config-file.js';
export { geminiCliEnv, geminiCliSettings, geminiSettingsPath } from './init/gemini-settings.js';

export async function runInit(argv: string[], io: InitIo): Promise<number> {
  let prompter: Prompter | undefined;
  try {
    const flags = parseFlags(argv);
    if (flags === 'help') {
      io.stdout.write(`${INIT_USAGE}\n`);
      return 0;
    }
    prompter = flags.yes ? undefined : new Prompter(io.stdin, io.stdout);
    if (prompter !== undefined) io.stdout.write('gemini-proxy init: a few questions; Enter takes the [default].\n\n');
    const answers = await gatherAnswers(flags, io, prompter);
    const output = resolve(io.cwd, answers.output);
    await writeConfigFile(answers, output, flags.force, prompter);
    printWritten(answers, output, io.stdout);
    printNextSteps(answers, output, ignoreInWorkTree(output), io.stdout, io.env);
    const merge =
      flags.geminiSettings ||
      (prompter !== undefined &&
        (await prompter.confirm(`Merge these settings into ${geminiSettingsPath(io.env)} now?`, false)));
    if (merge) await mergeGeminiSettings(answers, flags, io, prompter);
    return 0;
  } catch (error) {
    const code = error instanceof InitError ? error.exitCode : error instanceof TypeError && 'code' in error ? 2 : 1;
    io.stderr.write(`gemini-proxy init: ${error instanceof Error ? error.message : String(error)}\n`);
    if (code === 2) io.stderr.write(`\n${INIT_USAGE}\n`);
    return code;
  } finally {
    prompter?.close();
  }
}
