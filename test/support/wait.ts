/**
 * Waiting for what a test expects to happen, never for a fixed time: poll a condition that the awaited event makes
 * true (a log line, a request count at the scripted upstream, a record, a file), with a deadline generous enough for
 * a busy 2-core machine. The deadline only bounds a failure; a passing test waits as long as the event takes.
 */

/** How long a condition may take before the test fails; a passing test never waits this long. */
export const WAIT_DEADLINE_MS = 10_000;

type Probe<T> = () => T | undefined | false | Promise<T | undefined | false>;

/** Polls `probe` every few milliseconds until it returns `true` or a value; false when the deadline passes first. */
export async function pollUntil<T>(probe: Probe<T>, timeoutMs = WAIT_DEADLINE_MS): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (let turn = 0; ; turn += 1) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) return undefined;
    // A few event-loop turns first (most events are one tick away), then short sleeps.
    await new Promise((resolve) => (turn < 20 ? setImmediate(resolve) : setTimeout(resolve, 10)));
  }
}

/**
 * Resolves with the first value (or `true`) `probe` returns; fails naming `what` (a string, or a function giving
 * the state to show) when the deadline passes first.
 */
export async function waitFor<T>(
  probe: Probe<T>,
  what: string | (() => string),
  timeoutMs = WAIT_DEADLINE_MS,
): Promise<T> {
  const value = await pollUntil(probe, timeoutMs);
  if (value === undefined)
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
  return value;
}

/** A promise the test opens when it chooses: a scripted upstream held until the test has seen what it waits for. */
export interface Gate {
  readonly opened: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open: () => open() };
}
