/**
 * What a translation had to drop, replace or degrade, as data: the caller decides whether to log it, count it or show
 * it (vercel/ai's prepare steps do the same). Never a failure: a request that cannot be sent at all is an error.
 */

export type TranslationWarningKind =
  /** Left out: the upstream has no equivalent (Google built-in tools). */
  | 'dropped'
  /** Sent as something else the model can still read (a file as a text note, a function response as user text). */
  | 'replaced'
  /** Sent in a weaker form (a schema as an instruction, tool_choice as a hint). */
  | 'degraded'
  /** Cut to the upstream's limit. */
  | 'clamped'
  /** History the upstream would reject, mended (a call without a response gets a placeholder result). */
  | 'repaired';

export interface TranslationWarning {
  readonly kind: TranslationWarningKind;
  /** The Gemini request field concerned, as a path (`generationConfig.stopSequences`). */
  readonly field: string;
  readonly detail: string;
}

/** One line for the log. */
export function describeWarning(warning: TranslationWarning): string {
  return `${warning.field} ${warning.kind}: ${warning.detail}`;
}
