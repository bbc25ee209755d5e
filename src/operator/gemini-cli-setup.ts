/**
 * What Gemini CLI needs to run on this proxy, shared by the quick start, `init` and the launcher: the settings, and a
 * compression threshold sized from the context window of the upstream model its main requests go to.
 */
import type { ResolvedConfig } from '../config/load.js';
import { routerFor } from '../gateway/router.js';
import { modelLimitsFor, type ModelLimits } from '../providers/context-windows.js';

/** The name Gemini CLI should run with (`-m` / model.name): it skips the router classifier call on every prompt. */
export const RECOMMENDED_CLI_MODEL = 'gemini-3.8-flash';

/** Gemini CLI sizes every model's window as this many tokens and compresses at threshold × this. */
export const GEMINI_WINDOW = 1_048_576;

/** Assumed when the upstream model's window is unknown (neither the preset nor config `model_limits` says). */
export const ASSUMED_WINDOW = 131_072;

/**
 * Gemini CLI compresses history when the last reported prompt reaches threshold × 1,048,576 tokens: keep that at 80%
 * of the upstream's window (room for the answer and the next turn). Rounded down, so never above that 80%.
 */
export function compressionThreshold(contextWindow: number): number {
  const exact = (contextWindow * 0.8) / GEMINI_WINDOW;
  const scale = exact < 0.05 ? 1000 : 100;
  return Math.min(1, Math.max(0.001, Math.floor(exact * scale + 1e-9) / scale));
}

export interface MainModel {
  /** The upstream model Gemini CLI's main requests go to. */
  model: string;
  upstream: string;
  limits: ModelLimits | undefined;
}

/** Where RECOMMENDED_CLI_MODEL is routed first, and that model's limits when known. */
export function mainModel(config: ResolvedConfig, cliModel: string = RECOMMENDED_CLI_MODEL): MainModel | undefined {
  const target = routerFor(config.routing).plan(cliModel)?.targets[0];
  if (target === undefined) return undefined;
  const upstream = config.upstreams.find((candidate) => candidate.name === target.upstream);
  const limits = upstream === undefined ? undefined : modelLimitsFor(config.modelLimits, upstream.provider, target.model);
  return { model: target.model, upstream: target.upstream, limits };
}

/** The settings Gemini CLI needs (merged over the user's own by init, or given as an overlay by the launcher). */
export function cliSettings(config: ResolvedConfig, cliModel: string = RECOMMENDED_CLI_MODEL): Record<string, unknown> {
  const window = mainModel(config, cliModel)?.limits?.contextWindow ?? ASSUMED_WINDOW;
  return {
    security: { auth: { selectedType: 'gemini-api-key' } },
    model: { name: cliModel, compressionThreshold: compressionThreshold(window) },
  };
}
