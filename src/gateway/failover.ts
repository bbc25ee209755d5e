/**
 * The gateway's walk over a request's route targets: a key from the pool for each attempt (round-robin, skipping open
 * circuits), the retry policy after each failure, the breaker told the outcome, and never a retry once output reached
 * the client. The caller supplies how to translate for a target and how to make one attempt.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ProxyError } from '../errors.js';
import type { UpstreamTarget } from '../upstream/endpoints.js';
import { decideAfterFailure, FAILURE_RULES, type RetrySettings } from './retry-policy.js';
import type { RouteTarget } from './router.js';
import type { AttemptOutcome } from './upstream-attempt.js';
import type { UpstreamPool } from './upstream-pool.js';

export interface FailoverHooks<Request> {
  /** Translates the request for a target; a ProxyError means this target cannot take it. */
  prepare(route: RouteTarget, index: number): Promise<Request>;
  attempt(request: Request, target: UpstreamTarget, route: RouteTarget): Promise<AttemptOutcome>;
  clientGone(): boolean;
  timedOut(): boolean;
  /** Aborted when the client leaves or the request deadline passes; cuts a backoff wait short. */
  signal: AbortSignal;
}

export type FailoverResult =
  | { kind: 'done'; outcome: Extract<AttemptOutcome, { kind: 'done' }>; routeIndex: number }
  | { kind: 'failed'; error: ProxyError | undefined }
  /** The client left: nothing more to send. */
  | { kind: 'abandoned' };

/** `attempts` receives one `upstream#key:result` entry per attempt, for the access line. */
export async function runFailover<Request>(
  routes: RouteTarget[],
  pool: UpstreamPool,
  settings: RetrySettings,
  hooks: FailoverHooks<Request>,
  attempts: string[],
): Promise<FailoverResult> {
  let lastError: ProxyError | undefined;
  targets: for (const [index, route] of routes.entries()) {
    let request: Request;
    try {
      request = await hooks.prepare(route, index);
    } catch (error) {
      // A fallback that cannot take this request (e.g. an unsupported feature there) is skipped.
      lastError = error instanceof ProxyError ? error : new ProxyError('INTERNAL', String(error));
      attempts.push(`${route.upstream}:untranslatable`);
      continue;
    }
    const tried = new Set<number>();
    let lastAction: string | undefined;
    for (let attempt = 1; attempt <= settings.attemptsPerTarget; attempt += 1) {
      const lastResort = index === routes.length - 1 && !attempts.some((entry) => !entry.endsWith(':circuit-open'));
      const target = pool.acquire(route.upstream, lastResort);
      if (target === undefined) {
        attempts.push(`${route.upstream}:circuit-open`);
        lastError ??= new ProxyError('UPSTREAM_UNAVAILABLE', `upstream ${route.upstream} is unavailable (circuit open after repeated failures)`);
        continue targets;
      }
      const keyIndex = target.keyIndex ?? 0;
      if (tried.has(keyIndex) && lastAction === 'other-key') continue targets;
      tried.add(keyIndex);
      // Recorded as a success up front: the response may end (and be logged) inside the attempt.
      attempts.push(`${route.upstream}#${keyIndex}:ok`);
      const outcome = await hooks.attempt(request, target, route);
      if (outcome.kind === 'failed') attempts.pop();
      if (hooks.clientGone()) {
        pool.report(target, 'neutral');
        return { kind: 'abandoned' };
      }
      if (outcome.kind === 'done') {
        pool.report(target, 'success');
        return { kind: 'done', outcome, routeIndex: index };
      }
      const { error } = outcome;
      lastError = error;
      attempts.push(`${route.upstream}#${keyIndex}:${error.httpStatus}`);
      const decision = decideAfterFailure(error, { attempt, keysTried: tried.size, keyCount: pool.get(route.upstream)?.apiKeys.length ?? 0, timedOut: hooks.timedOut() }, settings);
      pool.report(target, hooks.timedOut() ? 'neutral' : FAILURE_RULES[error.code].breaker);
      lastAction = decision.kind;
      if (decision.kind === 'terminal') break targets;
      if (decision.kind === 'next-target') continue targets;
      if (decision.kind === 'other-key') continue;
      try {
        await sleep(decision.delayMs, undefined, { signal: hooks.signal });
      } catch {
        if (hooks.clientGone()) return { kind: 'abandoned' };
        break targets;
      }
    }
  }
  return { kind: 'failed', error: lastError };
}
