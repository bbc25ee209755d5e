/**
 * A request's cancellation: aborted when the client leaves or the request deadline passes, and listened to by the
 * upstream call and the retry backoff. It replaces a per-request AbortController because Node 20 never frees an
 * AbortSignal in a young-generation GC: every one (and all a request's objects it reaches) is promoted to the old
 * generation and waits for a full mark-compact. With a controller per request, every scavenge copied ~3.5 KB per recent
 * request and a full GC came every few seconds under load, pauses of 4–16 ms that made the p99 (docs/performance.md).
 * A real AbortSignal still fits where a caller has one: it has the same members.
 */

export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export class Cancellation implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  /** Usually none or one (the upstream call in flight). */
  private listeners: Array<() => void> | undefined;

  get signal(): CancelSignal {
    return this;
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
  }

  /** Listeners run once, at the abort; `options` is accepted for AbortSignal's signature. */
  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.listeners;
    if (listeners === undefined) return;
    const index = listeners.indexOf(listener);
    if (index !== -1) listeners.splice(index, 1);
  }
}

/** For a call nothing cancels (the upstream's own timeouts still apply). */
export const NEVER_CANCELLED: CancelSignal = new Cancellation();

/** Waits `ms`; resolves true when the time passed, false at once if `signal` is (or becomes) aborted. */
export function sleepUnlessCancelled(ms: number, signal: CancelSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
