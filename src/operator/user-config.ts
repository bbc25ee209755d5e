/**
 * The per-user config file that `init` writes by default and the proxy (and the launcher) read when no --config or
 * GEMINI_PROXY_CONFIG is given: outside any repository, so an upstream key never sits in a work tree by accident.
 * `$XDG_CONFIG_HOME/gemini-proxy/config.json`, else `~/.config/gemini-proxy/config.json`; `%APPDATA%` on Windows.
 */
import { existsSync, readFileSync, appendFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';

export function userConfigDirectory(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const xdg = env['XDG_CONFIG_HOME'];
  if (xdg !== undefined && xdg !== '') return join(xdg, 'gemini-proxy');
  const appData = env['APPDATA'];
  if (platform === 'win32' && appData !== undefined && appData !== '') return join(appData, 'gemini-proxy');
  return join(homedir(), '.config', 'gemini-proxy');
}

export function userConfigPath(env: NodeJS.ProcessEnv): string {
  return join(userConfigDirectory(env), 'config.json');
}

/** The root of the git work tree holding `path` (a directory with `.git`), or undefined. */
export function gitWorkTree(path: string): string | undefined {
  for (let directory = dirname(path); ; directory = dirname(directory)) {
    if (existsSync(join(directory, '.git'))) return directory;
    if (dirname(directory) === directory) return undefined;
  }
}

/**
 * Adds `path` to its work tree's top-level .gitignore unless a line there already names it exactly. Returns the
 * .gitignore written, or undefined when nothing was needed. Patterns that happen to match are not evaluated: an
 * extra exact line is harmless.
 */
export function ignoreInWorkTree(path: string): string | undefined {
  const root = gitWorkTree(path);
  if (root === undefined) return undefined;
  const entry = `/${relative(root, path).split(sep).join('/')}`;
  const gitignore = join(root, '.gitignore');
  const text = existsSync(gitignore) ? readFileSync(gitignore, 'utf8') : '';
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  if (lines.includes(entry) || lines.includes(entry.slice(1))) return undefined;
  appendFileSync(
    gitignore,
    `${text === '' || text.endsWith('\n') ? '' : '\n'}# written by gemini-proxy init: holds an upstream API key\n${entry}\n`,
  );
  return gitignore;
}
