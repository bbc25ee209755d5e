/**
 * Log output: JSON lines (pino's own, for collectors) when stdout is not a terminal or with `--log-format json`; one
 * readable line per entry in a terminal: local time, level, message (the access line as the original tool printed it),
 * then any other fields as key=value. The human form re-reads pino's JSON line, which costs a parse per line; that is
 * only paid by someone watching a terminal.
 */
import type { BatchedDestination } from './log-destination.js';

export type LogFormat = 'json' | 'human';

export function chooseLogFormat(requested: string | undefined, stdoutIsTerminal: boolean): LogFormat {
  if (requested === 'json' || requested === 'human') return requested;
  return stdoutIsTerminal ? 'human' : 'json';
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, shown in the fixed part of the line or not at all. */
const FIXED = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

function two(value: number): string {
  return String(value).padStart(2, '0');
}

/** Local wall-clock time with milliseconds: what a person compares with their own clock. */
export function localTime(epochMs: number): string {
  const date = new Date(epochMs);
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /\s|=|"/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === 'object' && value !== null && 'message' in value && typeof value.message === 'string') {
    return JSON.stringify((value as { message: string }).message);
  }
  return JSON.stringify(value) ?? String(value);
}

/** One pino JSON line as a human line; a line that is not JSON passes through unchanged. */
export function humanLine(jsonLine: string): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(jsonLine);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return jsonLine.endsWith('\n') ? jsonLine : `${jsonLine}\n`;
    entry = parsed as Record<string, unknown>;
  } catch {
    return jsonLine.endsWith('\n') ? jsonLine : `${jsonLine}\n`;
  }
  const time = typeof entry['time'] === 'number' ? localTime(entry['time']) : '';
  const level = typeof entry['level'] === 'number' ? (LEVELS[entry['level']] ?? String(entry['level'])) : 'INFO';
  const message = typeof entry['msg'] === 'string' ? entry['msg'] : '';
  const extra = Object.entries(entry)
    .filter(([key]) => !FIXED.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`)
    .join(' ');
  return `${time} ${level.padEnd(5)} ${message}${extra === '' ? '' : ` ${extra}`}\n`;
}

/** Human lines on stdout, with the flush calls the batched JSON destination answers (nothing is held back here). */
export function humanStdout(): BatchedDestination {
  return {
    write: (line: string) => void process.stdout.write(humanLine(line)),
    flush: (callback?: (error?: Error) => void) => callback?.(),
    flushSync: () => undefined,
  };
}
