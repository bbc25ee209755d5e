/**
 * The model name recorded for metrics labels, usage rows and the dashboard. Clients choose model names: 200 junk names
 * made /metrics 28.7 MB and used up the label slots for good (real models then showed as "other"). A name that no
 * mapping, route or default matched is recorded as `unmapped`; any other is cut to MAX_LABEL_LENGTH characters.
 */
import type { ResolvedConfig } from '../config/load.js';
import { routerFor } from '../gateway/router.js';

export const UNMAPPED_MODEL = 'unmapped';
export const MAX_LABEL_LENGTH = 96;

export function capLabel(value: string): string {
  return value.length <= MAX_LABEL_LENGTH ? value : `${value.slice(0, MAX_LABEL_LENGTH - 1)}…`;
}

export function recordedModelName(config: ResolvedConfig, model: string): string {
  return routerFor(config.routing).plan(model) === undefined ? UNMAPPED_MODEL : capLabel(model);
}
