/**
 * What loading a config found questionable but not wrong, as data: the loader never logs, the caller decides (the
 * proxy and a reload log them, the launcher also prints them). A config that cannot work is a ConfigError instead.
 */

export type ConfigWarningKind =
  /** A key the schema does not know, ignored (the original tool's files carry a `retry` block). */
  | 'unknown-key'
  /** An upstream whose provider needs an API key has none: its requests will be refused. */
  | 'missing-api-key'
  /** A listener beyond loopback without client keys: only loopback Host names are accepted until `allowed_hosts`. */
  | 'host-guard'
  /** Nothing maps a Gemini model name to an upstream model. */
  | 'no-model-route';

export interface ConfigWarning {
  readonly kind: ConfigWarningKind;
  /** The config key concerned, as a path (`server.workers`, `upstreams.backup.api_key`). */
  readonly field: string;
  /** The whole sentence for a person, naming the file or key and what to do. */
  readonly detail: string;
}

/** One line for the log or the terminal. */
export function describeConfigWarning(warning: ConfigWarning): string {
  return warning.detail;
}
