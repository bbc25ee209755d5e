/**
 * What Gemini CLI needs to run on this proxy, shared by the quick start (printed once the proxy listens), `init` and
 * the launcher: the environment, the settings, and a compression threshold sized from the upstream model's window.
 */
import type { ResolvedConfig } from './config/load.js';
import { routerFor } from './gateway/router.js';
import { modelLimitsFor, type ModelLimits } from './providers/context-windows.js';

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
  const limits =
    upstream === undefined ? undefined : modelLimitsFor(config.modelLimits, upstream.provider, target.model);
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

function windowNote(config: ResolvedConfig): string {
  const main = mainModel(config);
  if (main === undefined) return '';
  const window = main.limits?.contextWindow;
  const threshold = compressionThreshold(window ?? ASSUMED_WINDOW);
  const at = Math.floor(threshold * GEMINI_WINDOW).toLocaleString('en-US');
  return window === undefined
    ? `  compressionThreshold ${threshold} assumes a ${ASSUMED_WINDOW.toLocaleString('en-US')}-token window for ${main.model} (unknown to the preset; set model_limits in a config); Gemini CLI compresses at ~${at} tokens.`
    : `  compressionThreshold ${threshold}: ${main.model} has a ${window.toLocaleString('en-US')}-token window; Gemini CLI compresses at ~${at} tokens.`;
}

export function quickStartInstructions(config: ResolvedConfig, address: string): string {
  const base = `${address.replace('://0.0.0.0', '://127.0.0.1').replace('://[::]', '://127.0.0.1')}${config.basePath}`;
  const main = mainModel(config);
  return [
    '',
    `Gemini CLI setup for this proxy (${config.upstream.provider}${main === undefined ? '' : `, ${RECOMMENDED_CLI_MODEL} → ${main.model}`}):`,
    '',
    `  export GOOGLE_GEMINI_BASE_URL=${base}`,
    `  export GEMINI_API_KEY=${config.clientApiKeys.length > 0 ? '<one of client_api_keys>' : 'any-non-empty-value'}`,
    '',
    '  ~/.gemini/settings.json (merge into what is there):',
    `  ${JSON.stringify(cliSettings(config))}`,
    '',
    windowNote(config),
    `  Then: gemini -m ${RECOMMENDED_CLI_MODEL}    (or let \`gemini-proxy gemini\` do all of this without touching your settings)`,
    '',
  ].join('\n');
}
