/**
 * The gateway's walk over a request's route targets: a key from the pool for each attempt (round-robin, skipping
 * circuits open for this model), the retry policy after each failure, the breaker told the outcome, and never a retry
 * once output reached the client. When every key's circuit for the model is open, the answer is immediate and
 * terminal and carries the failure that opened it. The caller supplies how to translate for a target and how to make
 * one attempt.
 */
import { ERROR_KINDS, errorInfo, ProxyError, quoteForMessage, retryInfo, type ErrorCode } from '../errors.js';
import { sleepUnlessCancelled, type CancelSignal } from '../upstream/cancel.js';
import type { UpstreamTarget } from '../upstream/endpoints.js';
import { decideAfterFailure, FAILURE_RULES, type RetrySettings } from './retry-policy.js';
import type { RouteTarget } from './router.js';
import type { AttemptOutcome } from './upstream-attempt.js';
import type { OpenCircuit, UpstreamPool } from './upstream-pool.js';

export interface FailoverHooks<Request> {
  /** Translates the request for a target; a ProxyError means this target cannot take it. */
  prepare(route: RouteTarget, index: number): Promise<Request>;
  attempt(request: Request, target: UpstreamTarget, route: RouteTarget): Promise<AttemptOutcome>;
  clientGone(): boolean;
  timedOut(): boolean;
  /** The client retries transient errors itself (see FailureState.clientRetries). */
  clientRetries: boolean;
  /** Aborted when the client leaves or the request deadline passes; cuts a backoff wait short. */
  signal: CancelSignal;
}

export type FailoverResult =
  | { kind: 'done'; outcome: Extract<AttemptOutcome, { kind: 'done' }>; routeIndex: number }
  /** Output had reached the client when the upstream failed: end the response with `error`. */
  | { kind: 'broken'; error: ProxyError }
  | { kind: 'failed'; error: ProxyError | undefined }
  /** The client left: nothing more to send. */
  | { kind: 'abandoned' };

/** The upstream's own HTTP status when it answered with one, else the status the proxy answers with. */
export function upstreamStatusOf(error: ProxyError): string {
  for (const detail of error.details) {
    if (detail['@type'] !== 'type.googleapis.com/google.rpc.ErrorInfo') continue;
    const status = detail.metadata?.['upstream_status'];
    if (status !== undefined) return status;
  }
  return String(error.httpStatus);
}

/**
 * A short reason for the access line, at most 80 characters: the upstream's own type, code and words when it answered
 * with an error body (`server_error: database on fire`), else the message without its `Upstream NAME [at URL]` subject.
 */
export function shortReason(error: ProxyError): string {
  // Upstream labels are `name` or `name (provider)` (upstream/endpoints.ts).
  const reason = (error.logReason ?? error.message.replace(/^Upstream \S+(?: \([^)]*\))?(?: at \S+)? /, ''))
    .replace(/\s+/g, ' ')
    .replace(/\.$/, '');
  return reason.length > 80 ? `${reason.slice(0, 79)}…` : reason;
}

/**
 * `name#key:status (reason)` for the access line: the upstream's own status, or the network error when it never
 * answered (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT…); the reason is its message, already redacted.
 */
export function failedAttemptLabel(upstream: string, keyIndex: number, error: ProxyError): string {
  let status = upstreamStatusOf(error);
  for (const detail of error.details) {
    if (detail['@type'] !== 'type.googleapis.com/google.rpc.ErrorInfo') continue;
    const network = detail.metadata?.['network_error'];
    if (network !== undefined && network !== 'unknown' && detail.metadata?.['upstream_status'] === undefined)
      status = network;
  }
  return `${upstream}#${keyIndex}:${status} (${shortReason(error)})`;
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_KINDS, code);
}

/**
 * The answer while a model's circuit is open. A rate limit stays a 429 with the remaining cooldown as RetryInfo (the
 * client waits and comes back); anything else is terminal for the client (400 FAILED_PRECONDITION), so that Gemini
 * CLI stops after a few attempts instead of ten, with the upstream's own status and message.
 */
export function circuitOpenError(route: RouteTarget, circuit: OpenCircuit, cooldownSeconds: number): ProxyError {
  const last = circuit.lastFailure ?? `Upstream ${route.upstream} failed.`;
  // One sentence ([R-ERR-8]): the last failure, then why the proxy is not calling again.
  const sentence = `${last.replace(/[.]$/, '')}; after ${circuit.consecutiveFailures} failures in a row for ${route.model} on upstream ${route.upstream}, the proxy stops calling it for ${Math.ceil(cooldownSeconds)} s (circuit_breaker).`;
  const metadata = {
    upstream: route.upstream,
    model: route.model,
    consecutive_failures: String(circuit.consecutiveFailures),
    cooldown_seconds: String(Math.ceil(cooldownSeconds)),
  };
  const code = circuit.lastFailureCode;
  if (
    code !== undefined &&
    isErrorCode(code) &&
    ERROR_KINDS[code].httpStatus < 500 &&
    ERROR_KINDS[code].httpStatus !== 429
  ) {
    // Already terminal for the client (credentials, balance, nothing listening): the same answer, without a call.
    return new ProxyError(code, last, [errorInfo('UPSTREAM_CIRCUIT_OPEN', metadata)]);
  }
  if (code === 'UPSTREAM_RATE_LIMITED') {
    return new ProxyError('UPSTREAM_RATE_LIMITED', sentence, [
      retryInfo(Math.max(1, circuit.remainingSeconds)),
      errorInfo('UPSTREAM_CIRCUIT_OPEN', metadata),
    ]);
  }
  return new ProxyError('UPSTREAM_CIRCUIT_OPEN', sentence, [errorInfo('UPSTREAM_CIRCUIT_OPEN', metadata)]);
}

/** Why a target with no key to call was skipped: its circuit is open, or one probe after a cooldown is under way. */
function skippedTargetError(route: RouteTarget, pool: UpstreamPool): ProxyError {
  const circuit = pool.openCircuit(route.upstream, route.model);
  if (circuit !== undefined) return circuitOpenError(route, circuit, pool.cooldownSeconds);
  return new ProxyError(
    'UPSTREAM_UNAVAILABLE',
    `Upstream ${route.upstream} is being tested again after repeated failures of ${route.model}: try again in a few seconds.`,
  );
}

/** What a target that could not take the request is remembered by: its ProxyError, or an internal error. */
function untranslatable(error: unknown): ProxyError {
  if (error instanceof ProxyError) return error;
  return new ProxyError('INTERNAL', 'Internal error in gemini-proxy while translating the request.', [
    errorInfo('INTERNAL', { error: quoteForMessage(String(error), 300) }),
  ]);
}

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
      lastError = untranslatable(error);
      attempts.push(`${route.upstream}:untranslatable`);
      continue;
    }
    const tried = new Set<number>();
    let lastAction: string | undefined;
    for (let attempt = 1; attempt <= settings.attemptsPerTarget; attempt += 1) {
      const target = pool.acquire(route.upstream, route.model);
      if (target === undefined) {
        attempts.push(`${route.upstream}:circuit-open`);
        lastError ??= skippedTargetError(route, pool);
        continue targets;
      }
      const keyIndex = target.keyIndex ?? 0;
      if (tried.has(keyIndex) && lastAction === 'other-key') continue targets;
      tried.add(keyIndex);
      // Recorded as a success up front: the response may end (and be logged) inside the attempt.
      attempts.push(`${route.upstream}#${keyIndex}:ok`);
      const outcome = await hooks.attempt(request, target, route);
      if (outcome.kind !== 'done') attempts.pop();
      if (hooks.clientGone()) {
        pool.report(target, route.model, 'neutral');
        return { kind: 'abandoned' };
      }
      if (outcome.kind === 'done') {
        pool.report(target, route.model, 'success');
        return { kind: 'done', outcome, routeIndex: index };
      }
      const { error } = outcome;
      attempts.push(failedAttemptLabel(route.upstream, keyIndex, error));
      const counted = hooks.timedOut() ? 'neutral' : FAILURE_RULES[error.code].breaker;
      pool.report(target, route.model, counted, { message: error.message, code: error.code });
      if (outcome.kind === 'broken') return { kind: 'broken', error };
      lastError = error;
      const state = {
        attempt,
        keysTried: tried.size,
        keyCount: pool.get(route.upstream)?.apiKeys.length ?? 0,
        timedOut: hooks.timedOut(),
        clientRetries: hooks.clientRetries,
      };
      const decision = decideAfterFailure(error, state, settings);
      lastAction = decision.kind;
      if (decision.kind === 'terminal') break targets;
      const circuit = counted === 'failure' ? pool.openCircuit(route.upstream, route.model) : undefined;
      if (circuit !== undefined) {
        // This failure opened the circuit: say so now rather than let the client retry into it.
        lastError =
          error.httpStatus >= 500 || error.httpStatus === 429
            ? circuitOpenError(route, circuit, pool.cooldownSeconds)
            : error;
        continue targets;
      }
      if (decision.kind === 'next-target') continue targets;
      if (decision.kind === 'other-key') continue;
      if (!(await sleepUnlessCancelled(decision.delayMs, hooks.signal))) {
        if (hooks.clientGone()) return { kind: 'abandoned' };
        break targets;
      }
    }
  }
  return { kind: 'failed', error: lastError };
}
