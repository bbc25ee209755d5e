/**
 * The named upstreams, their keys in rotation, and a circuit breaker per upstream key and model: after
 * `failure_threshold` consecutive retryable failures of one model on one key, that key is skipped for that model for
 * `cooldown_seconds`, then one request may try it again (half-open); a success closes it. Per model, because one
 * model's failures (a background summariser on a model the upstream lacks, a model that is down) say nothing about
 * the others on the same key. State is per process.
 */
import type { UpstreamDefinition } from '../config/load.js';
import type { UpstreamTarget } from '../upstream/endpoints.js';

export type { UpstreamDefinition } from '../config/load.js';

export interface BreakerSettings {
  failureThreshold: number;
  cooldownMs: number;
}

interface Breaker {
  consecutiveFailures: number;
  openUntil: number;
  probing: boolean;
  /** The last failure's message (already redacted) and time, for /health and the circuit-open answer. */
  lastFailure: string | undefined;
  lastFailureCode: string | undefined;
  lastFailureAt: number;
}

/** Why a model's circuit is open: the failure that opened it, for the answer the client gets meanwhile. */
export interface OpenCircuit {
  lastFailure: string | undefined;
  lastFailureCode: string | undefined;
  consecutiveFailures: number;
  /** Seconds until a probe may go through. */
  remainingSeconds: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface KeyState {
  key: string;
  state: BreakerState;
  consecutiveFailures: number;
}

export interface ModelHealth {
  state: BreakerState;
  consecutiveFailures: number;
  last_failure?: string;
  last_failure_at?: string;
}

export interface UpstreamSnapshot {
  provider: string;
  base_url: string;
  /** Per key, the worst state over its models. */
  keys: KeyState[];
  /** Models that failed recently or whose circuit is not closed. */
  failing_models: Record<string, ModelHealth>;
}

/** How long a model with failures (and a closed circuit) still counts as failing in /health without a success. */
const FAILING_WINDOW_MS = 5 * 60_000;

export class UpstreamPool {
  private readonly upstreams = new Map<string, UpstreamDefinition>();
  /** upstream → model → one breaker per key. */
  private readonly breakers = new Map<string, Map<string, Breaker[]>>();
  private readonly cursor = new Map<string, number>();
  private readonly settings: BreakerSettings;
  private readonly now: () => number;

  constructor(upstreams: UpstreamDefinition[], settings: BreakerSettings, now: () => number = Date.now) {
    for (const upstream of upstreams) {
      this.upstreams.set(upstream.name, upstream);
      this.breakers.set(upstream.name, new Map());
    }
    this.settings = settings;
    this.now = now;
  }

  get(name: string): UpstreamDefinition | undefined {
    return this.upstreams.get(name);
  }

  names(): string[] {
    return [...this.upstreams.keys()];
  }

  get cooldownSeconds(): number {
    return this.settings.cooldownMs / 1000;
  }

  private keyCount(upstream: UpstreamDefinition): number {
    return Math.max(1, upstream.apiKeys.length);
  }

  private modelBreakers(name: string, model: string): Breaker[] | undefined {
    const upstream = this.upstreams.get(name);
    const models = this.breakers.get(name);
    if (upstream === undefined || models === undefined) return undefined;
    let breakers = models.get(model);
    if (breakers === undefined) {
      breakers = Array.from({ length: this.keyCount(upstream) }, () => ({
        consecutiveFailures: 0,
        openUntil: 0,
        probing: false,
        lastFailure: undefined,
        lastFailureCode: undefined,
        lastFailureAt: 0,
      }));
      models.set(model, breakers);
    }
    return breakers;
  }

  /**
   * The next key of an upstream whose circuit for `model` lets a request through, round-robin; undefined when every
   * key's circuit for that model is open (or probing). `model` '' is for calls outside generate (countTokens,
   * embeddings), which never open a circuit.
   */
  acquire(name: string, model = ''): UpstreamTarget | undefined {
    const upstream = this.upstreams.get(name);
    const breakers = this.modelBreakers(name, model);
    if (upstream === undefined || breakers === undefined) return undefined;
    const count = breakers.length;
    const start = this.cursor.get(name) ?? 0;
    const now = this.now();
    for (let offset = 0; offset < count; offset += 1) {
      const index = (start + offset) % count;
      const breaker = breakers[index];
      if (breaker === undefined || breaker.openUntil > now) continue;
      if (breaker.openUntil !== 0) {
        // Cooldown over: one probe at a time.
        if (breaker.probing) continue;
        breaker.probing = true;
      }
      this.cursor.set(name, (index + 1) % count);
      return this.target(upstream, index);
    }
    return undefined;
  }

  private target(upstream: UpstreamDefinition, index: number): UpstreamTarget {
    return {
      provider: upstream.provider,
      profile: upstream.profile,
      baseUrl: upstream.baseUrl,
      apiKey: upstream.apiKeys[index],
      azureApiVersion: upstream.azureApiVersion,
      upstreamName: upstream.name,
      keyIndex: index,
      timeouts: upstream.timeouts,
    };
  }

  /** Outcome of a call made with `target` for `model`; only `failure` counts against the circuit. */
  report(
    target: UpstreamTarget,
    model: string,
    outcome: 'success' | 'failure' | 'neutral',
    failure?: { message: string; code: string },
  ): void {
    const breaker = this.modelBreakers(target.upstreamName ?? '', model)?.[target.keyIndex ?? 0];
    if (breaker === undefined) return;
    breaker.probing = false;
    if (outcome === 'success') {
      breaker.consecutiveFailures = 0;
      breaker.openUntil = 0;
      breaker.lastFailure = undefined;
    } else if (outcome === 'failure') {
      breaker.consecutiveFailures += 1;
      breaker.lastFailure = failure?.message;
      breaker.lastFailureCode = failure?.code;
      breaker.lastFailureAt = this.now();
      if (breaker.openUntil !== 0 || breaker.consecutiveFailures >= this.settings.failureThreshold) {
        breaker.openUntil = this.now() + this.settings.cooldownMs;
      }
    }
  }

  /** When every key's circuit for `model` is open right now (no probe possible yet): the latest failure. */
  openCircuit(name: string, model: string): OpenCircuit | undefined {
    const breakers = this.breakers.get(name)?.get(model);
    const now = this.now();
    if (breakers === undefined || !breakers.every((breaker) => breaker.openUntil > now)) return undefined;
    let latest: Breaker | undefined;
    for (const breaker of breakers)
      if (latest === undefined || breaker.lastFailureAt > latest.lastFailureAt) latest = breaker;
    if (latest === undefined) return undefined;
    return {
      lastFailure: latest.lastFailure,
      lastFailureCode: latest.lastFailureCode,
      consecutiveFailures: latest.consecutiveFailures,
      remainingSeconds: Math.max(0, (Math.min(...breakers.map((breaker) => breaker.openUntil)) - now) / 1000),
    };
  }

  private stateOf(breaker: Breaker, now: number): BreakerState {
    return breaker.openUntil === 0 ? 'closed' : breaker.openUntil > now ? 'open' : 'half-open';
  }

  /** For /health and the dashboard; keys are shown by position only. */
  snapshot(): Record<string, UpstreamSnapshot> {
    const now = this.now();
    const rank: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };
    const out: Record<string, UpstreamSnapshot> = {};
    for (const [name, upstream] of this.upstreams) {
      const keys: KeyState[] = Array.from({ length: this.keyCount(upstream) }, (_, index) => ({
        key: `#${index}`,
        state: 'closed',
        consecutiveFailures: 0,
      }));
      const failing: Record<string, ModelHealth> = {};
      for (const [model, breakers] of this.breakers.get(name) ?? []) {
        let worst: ModelHealth | undefined;
        breakers.forEach((breaker, index) => {
          const state = this.stateOf(breaker, now);
          const key = keys[index];
          if (key !== undefined) {
            if (rank[state] > rank[key.state]) key.state = state;
            key.consecutiveFailures = Math.max(key.consecutiveFailures, breaker.consecutiveFailures);
          }
          const recent = breaker.consecutiveFailures > 0 && now - breaker.lastFailureAt < FAILING_WINDOW_MS;
          if (state === 'closed' && !recent) return;
          if (
            worst === undefined ||
            rank[state] > rank[worst.state] ||
            breaker.consecutiveFailures > worst.consecutiveFailures
          ) {
            worst = { state, consecutiveFailures: breaker.consecutiveFailures };
            if (breaker.lastFailure !== undefined) worst.last_failure = breaker.lastFailure;
            if (breaker.lastFailureAt !== 0) worst.last_failure_at = new Date(breaker.lastFailureAt).toISOString();
          }
        });
        if (worst !== undefined) failing[model === '' ? '(other methods)' : model] = worst;
      }
      out[name] = { provider: upstream.provider, base_url: upstream.baseUrl, keys, failing_models: failing };
    }
    return out;
  }

  /** Whether any upstream model is failing or has a circuit that is not closed (/health "degraded"). */
  isDegraded(): boolean {
    return Object.values(this.snapshot()).some((upstream) => Object.keys(upstream.failing_models).length > 0);
  }
}
