/**
 * What a quick start (no config file) prints once it listens: the exact Gemini CLI environment and settings that
 * point the CLI at this proxy, with the compression threshold sized from the mapped model's window.
 */
import type { ResolvedConfig } from './config/load.js';
import { ASSUMED_WINDOW, GEMINI_WINDOW, RECOMMENDED_CLI_MODEL, cliSettings, compressionThreshold, mainModel } from './operator/gemini-cli-setup.js';

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
