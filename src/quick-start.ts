/**
 * What a quick start (no config file) prints once it listens: the exact Gemini CLI environment and settings that
 * point the CLI at this proxy (issue: "gemini-proxy --provider kimi --api-key … prints what to use").
 */
import type { ResolvedConfig } from './config/load.js';
import { routerFor } from './gateway/router.js';

/** The name Gemini CLI should run with (`-m` / model.name): it skips the router classifier call on every prompt. */
export const RECOMMENDED_CLI_MODEL = 'gemini-3.8-flash';

export function quickStartInstructions(config: ResolvedConfig, address: string): string {
  const base = `${address.replace('://0.0.0.0', '://127.0.0.1').replace('://[::]', '://127.0.0.1')}${config.basePath}`;
  const plan = routerFor(config.routing).plan(RECOMMENDED_CLI_MODEL);
  const target = plan?.targets[0];
  const settings = {
    security: { auth: { selectedType: 'gemini-api-key' } },
    model: { name: RECOMMENDED_CLI_MODEL, compressionThreshold: 0.2 },
  };
  return [
    '',
    `Gemini CLI setup for this proxy (${config.upstream.provider}${target === undefined ? '' : `, ${RECOMMENDED_CLI_MODEL} → ${target.model}`}):`,
    '',
    `  export GOOGLE_GEMINI_BASE_URL=${base}`,
    `  export GEMINI_API_KEY=${config.clientApiKeys.length > 0 ? '<one of client_api_keys>' : 'any-non-empty-value'}`,
    '',
    '  ~/.gemini/settings.json (merge into what is there):',
    `  ${JSON.stringify(settings)}`,
    '',
    '  compressionThreshold 0.2 suits a ~200k-token upstream window; use about 0.1 for 128k.',
    `  Then: gemini -m ${RECOMMENDED_CLI_MODEL}`,
    '',
  ].join('\n');
}
