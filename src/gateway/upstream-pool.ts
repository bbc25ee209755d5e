/**
 * The named upstreams, their keys in rotation, and a circuit breaker per upstream key: after `failure_threshold`
 * consecutive retryable failures the key is skipped for `cooldown_seconds`, then one request may try it again
 * (half-open); a success closes it. State is per process.
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
}

export interface KeyState {
  key: string;
  state: 'closed' | 'open' | 'half-open';
  consecutiveFailures: number;
}

export class UpstreamPool {
  private readonly upstreams = new Map<string, UpstreamDefinition>();
  private readonly breakers = new Map<string, Breaker[]>();
  private readonly cursor = new Map<string, number>();
  private readonly settings: BreakerSettings;
  private readonly now: () => number;

  constructor(upstreams: UpstreamDefinition[], settings: BreakerSettings, now: () => number = Date.now) {
    for (const upstream of upstreams) {
      this.upstreams.set(upstream.name, upstream);
      this.breakers.set(
        upstream.name,
        (upstream.apiKeys.length === 0 ? [''] : upstream.apiKeys).map(() => ({ consecutiveFailures: 0, openUntil: 0, probing: false })),
      );
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

  /**
   * The next usable key of an upstream, round-robin; undefined when every key's circuit is open. With `lastResort`
   * (nothing else is left to try for this request) an open circuit is ignored: a breaker reroutes traffic, it must not
   * turn a single-upstream proxy into a 503 machine.
   */
  acquire(name: string, lastResort = false): UpstreamTarget | undefined {
    const upstream = this.upstreams.get(name);
    const breakers = this.breakers.get(name);
    if (upstream === undefined || breakers === undefined) return undefined;
    const count = breakers.length;
    const start = this.cursor.get(name) ?? 0;
    const now = this.now();
    for (let pass = 0; pass < (lastResort ? 2 : 1); pass += 1) {
      for (let offset = 0; offset < count; offset += 1) {
        const index = (start + offset) % count;
        const breaker = breakers[index];
        if (breaker === undefined) continue;
        if (pass === 0) {
          if (breaker.openUntil > now) continue;
          if (breaker.openUntil !== 0) {
            // Cooldown over: one probe at a time.
            if (breaker.probing) continue;
            breaker.probing = true;
          }
        }
        this.cursor.set(name, (index + 1) % count);
        return this.target(upstream, index);
      }
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


  /** Outcome of a call made with `target`; only retryable failures count against the circuit. */
  report(target: UpstreamTarget, outcome: 'success' | 'failure' | 'neutral'): void {
    const breaker = this.breakers.get(target.upstreamName ?? '')?.[target.keyIndex ?? 0];
    if (breaker === undefined) return;
    breaker.probing = false;
    if (outcome === 'success') {
      breaker.consecutiveFailures = 0;
      breaker.openUntil = 0;
    } else if (outcome === 'failure') {
      breaker.consecutiveFailures += 1;
      if (breaker.openUntil !== 0 || breaker.consecutiveFailures >= this.settings.failureThreshold) {
        breaker.openUntil = this.now() + this.settings.cooldownMs;
      }
    }
  }

  /** For /health and the dashboard; keys are shown by position only. */
  snapshot(): Record<string, { provider: string; base_url: string; keys: Array<Omit<KeyState, 'key'> & { key: string }> }> {
    const now = this.now();
    const out: Record<string, { provider: string; base_url: string; keys: Array<Omit<KeyState, 'key'> & { key: string }> }> = {};
    for (const [name, upstream] of this.upstreams) {
      const breakers = this.breakers.get(name) ?? [];
      out[name] = {
        provider: upstream.provider,
        base_url: upstream.baseUrl,
        keys: breakers.map((breaker, index) => ({
          key: `#${index}`,
          state: breaker.openUntil === 0 ? 'closed' : breaker.openUntil > now ? 'open' : 'half-open',
          consecutiveFailures: breaker.consecutiveFailures,
        })),
      };
    }
    return out;
  }
}
