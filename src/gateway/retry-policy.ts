/**
 * What the gateway does after an upstream attempt failed before any output reached the client, as one table and one
 * pure function: retry the same target (with jittered exponential backoff, honouring Retry-After), try the upstream's
 * other keys, move on to the next route target, or stop. Transient failures count against the circuit breaker;
 * deterministic ones do not.
 */
import type { ErrorCode, ProxyError } from '../errors.js';
import { unreachable } from '../exhaustive.js';

/** `retry`: same target again after a delay; `other-key`: the failure belongs to one key (balance, credentials). */
export type FailureAction = 'retry' | 'other-key' | 'next-target' | 'terminal';

export interface FailureRule {
  action: FailureAction;
  /** Whether the failure counts against the key's circuit breaker. */
  breaker: 'failure' | 'neutral';
}

const TERMINAL: FailureRule = { action: 'terminal', breaker: 'neutral' };

/** Every error class; the compiler fails here when one is added without a decision. */
export const FAILURE_RULES: Readonly<Record<ErrorCode, FailureRule>> = {
  UPSTREAM_RATE_LIMITED: { action: 'retry', breaker: 'failure' },
  UPSTREAM_UNAVAILABLE: { action: 'retry', breaker: 'failure' },
  UPSTREAM_TIMEOUT: { action: 'retry', breaker: 'failure' },
  UPSTREAM_PROTOCOL: { action: 'retry', breaker: 'failure' },
  UPSTREAM_INSUFFICIENT_BALANCE: { action: 'other-key', breaker: 'failure' },
  UPSTREAM_AUTH: { action: 'other-key', breaker: 'failure' },
  UPSTREAM_NOT_FOUND: { action: 'next-target', breaker: 'neutral' },
  // Refused connection, unknown host, failed TLS: waiting will not fix it; another upstream might.
  UPSTREAM_UNREACHABLE: { action: 'next-target', breaker: 'failure' },
  UPSTREAM_CIRCUIT_OPEN: TERMINAL,
  UPSTREAM_REJECTED: TERMINAL,
  INVALID_REQUEST: TERMINAL,
  UNSUPPORTED_FEATURE: TERMINAL,
  PAYLOAD_TOO_LARGE: TERMINAL,
  API_KEY_INVALID: TERMINAL,
  FORBIDDEN: TERMINAL,
  NOT_FOUND: TERMINAL,
  MODEL_NOT_FOUND: TERMINAL,
  CLIENT_RATE_LIMITED: TERMINAL,
  INTERNAL: TERMINAL,
};

export interface RetrySettings {
  attemptsPerTarget: number;
  baseDelayMs: number;
  /** A wait (backoff or Retry-After) longer than this moves on to the next target instead. */
  maxDelaySeconds: number;
}

export interface FailureState {
  /** 1 for the first attempt on this target. */
  attempt: number;
  /** Distinct keys of this upstream tried so far, and how many it has. */
  keysTried: number;
  keyCount: number;
  /** The request's own deadline has passed. */
  timedOut: boolean;
  /**
   * The client retries transient errors itself (Gemini CLI: 10 attempts, 5–30 s apart). Retrying them here too
   * multiplies the upstream calls (10 × ours) and the wait; the proxy then only moves on to other keys and targets.
   */
  clientRetries: boolean;
}

export type RetryDecision =
  { kind: 'retry'; delayMs: number } | { kind: 'other-key' } | { kind: 'next-target' } | { kind: 'terminal' };

/** The wait the upstream asked for (RetryInfo, from Retry-After or the message), in seconds. */
export function retryAfterSeconds(error: ProxyError): number | undefined {
  for (const detail of error.details) {
    if (detail['@type'] === 'type.googleapis.com/google.rpc.RetryInfo') {
      const match = /^([0-9.]+)(ms|s)$/.exec(detail.retryDelay);
      if (match?.[1] !== undefined) return match[2] === 'ms' ? Number(match[1]) / 1000 : Number(match[1]);
    }
  }
  return undefined;
}

/** `random` in [0, 1) gives the ±25 % jitter; pass a constant in tests. */
export function decideAfterFailure(
  error: ProxyError,
  state: FailureState,
  settings: RetrySettings,
  random: () => number = Math.random,
): RetryDecision {
  if (state.timedOut) return { kind: 'terminal' };
  const rule = FAILURE_RULES[error.code];
  switch (rule.action) {
    case 'terminal':
      return { kind: 'terminal' };
    case 'next-target':
      return { kind: 'next-target' };
    case 'other-key':
      return state.keysTried >= state.keyCount ? { kind: 'next-target' } : { kind: 'other-key' };
    case 'retry': {
      if (state.clientRetries || state.attempt >= settings.attemptsPerTarget) return { kind: 'next-target' };
      const backoff = (settings.baseDelayMs / 1000) * 2 ** (state.attempt - 1) * (0.75 + random() * 0.5);
      const delay = Math.max(backoff, retryAfterSeconds(error) ?? 0);
      if (delay > settings.maxDelaySeconds) return { kind: 'next-target' };
      return { kind: 'retry', delayMs: Math.round(delay * 1000) };
    }
    default:
      return unreachable(rule.action, 'failure action');
  }
}
