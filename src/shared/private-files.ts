/**
 * Files and folders the proxy creates (detailed logs hold whole prompts; the usage database who asked what, when) are
 * owner-only, 0600/0700, or 0640/0750 with `logging.group_readable`, whatever the umask: the usual umask 022 made them
 * world-readable. Modes are set explicitly after creation, since a mode passed to mkdir/open is only masked by it.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

export interface FileModes {
  file: number;
  directory: number;
}

export function fileModes(groupReadable: boolean): FileModes {
  return groupReadable ? { file: 0o640, directory: 0o750 } : { file: 0o600, directory: 0o700 };
}

/** The folders from `first` (the topmost one mkdir created) down to `leaf`. */
function createdChain(first: string, leaf: string): string[] {
  const chain = [first];
  let current = first;
  for (const part of relative(first, leaf)
    .split(sep)
    .filter((piece) => piece !== '')) {
    current = join(current, part);
    chain.push(current);
  }
  return chain;
}

/** Creates `path` and any missing parents with the directory mode; folders that already existed are left alone. */
export async function ensureDirectory(path: string, modes: FileModes): Promise<void> {
  const first = await mkdir(path, { recursive: true, mode: modes.directory });
  if (first !== undefined) for (const created of createdChain(first, path)) await chmod(created, modes.directory);
}

export function ensureDirectorySync(path: string, modes: FileModes): void {
  const first = mkdirSync(path, { recursive: true, mode: modes.directory });
  if (first !== undefined) for (const created of createdChain(first, path)) chmodSync(created, modes.directory);
}

/** Writes a file (its folder created as above) with the file mode. */
export async function writePrivateFile(path: string, data: string, modes: FileModes): Promise<void> {
  await ensureDirectory(dirname(path), modes);
  await writeFile(path, data, { mode: modes.file });
  await chmod(path, modes.file);
}

/**
 * Creates an empty file with the file mode before a library opens it (SQLite creates its database 0644, and gives its
 * -wal and -shm files the database file's mode). An existing file is tightened too; a failure to do so (another user
 * owns it) is left to the library to report.
 */
export function preparePrivateFileSync(path: string, modes: FileModes): void {
  ensureDirectorySync(dirname(path), modes);
  if (!existsSync(path)) closeSync(openSync(path, 'a', modes.file));
  try {
    chmodSync(path, modes.file);
  } catch {
    // Not ours to change.
  }
}
