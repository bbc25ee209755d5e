/**
 * The config file schema. The original tool's `config.json` is accepted verbatim; everything added since is
 * optional. Unknown keys are reported as warnings, not failures (the original tool's files carry a `retry` block).
 */
import { z } from 'zod';
import { PROVIDER_NAMES, isProviderName } from '../providers/index.js';

const seconds = (fallback: number, max: number) => z.number().positive().max(max).default(fallback);

export const serverSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8000),
    log_level: z
      .string()
      .transform((level) => level.toLowerCase())
      .pipe(z.enum(['trace', 'debug', 'info', 'warning', 'warn', 'error', 'critical', 'fatal', 'silent']))
      .default('info'),
    /** Optional base-path prefix, e.g. "/gemini" ([R-URL-1]). */
    base_path: z
      .string()
      .default('')
      .transform((path) => path.replace(/\/+$/, ''))
      .refine((path) => path === '' || path.startsWith('/'), 'must start with "/"'),
    /** Largest accepted request body, in megabytes (default fits several base64 images). */
    body_limit_mb: z.number().positive().max(1024).default(32),
  })
  .default({ host: '127.0.0.1', port: 8000, log_level: 'info', base_path: '', body_limit_mb: 32 });

export const loggingSchema = z
  .object({
    enable_detailed_logs: z.boolean().default(false),
    enable_access_logs: z.boolean().default(true),
    log_directory: z.string().min(1).default('logs'),
  })
  .default({ enable_detailed_logs: false, enable_access_logs: true, log_directory: 'logs' });

export const timeoutsSchema = z
  .object({
    /** Seconds before a slow upstream makes the proxy commit 200 and start heartbeats; below the CLI's 60 s ([R-TO-1]). */
    first_byte_commit_seconds: seconds(45, 55),
    /** Seconds of silence after which a heartbeat is written ([R-TO-2]). */
    heartbeat_seconds: seconds(15, 120),
    /** Seconds without upstream bytes before the upstream is given up ([R-TO-4]). */
    upstream_idle_seconds: seconds(300, 3600),
    /** Longest wait for the upstream's response headers. */
    upstream_headers_seconds: seconds(600, 3600),
    upstream_connect_seconds: seconds(10, 120),
  })
  .default({
    first_byte_commit_seconds: 45,
    heartbeat_seconds: 15,
    upstream_idle_seconds: 300,
    upstream_headers_seconds: 600,
    upstream_connect_seconds: 10,
  });

export const configSchema = z.object({
  openai_api_key: z.string().optional(),
  openai_base_url: z.string().url().optional(),
  model_mapping: z.record(z.string().min(1), z.string().min(1)).default({}),
  default_openai_model: z.string().min(1).optional(),
  default_embedding_model: z.string().min(1).optional(),
  provider: z
    .string()
    .refine(isProviderName, { message: `must be one of: ${PROVIDER_NAMES.join(', ')}` })
    .optional(),
  /** Azure OpenAI `api-version` query parameter. */
  azure_api_version: z.string().min(1).default('2024-10-21'),
  client_api_keys: z.array(z.string().min(8, 'client keys must be at least 8 characters')).optional(),
  allow_unauthenticated: z.boolean().default(false),
  server: serverSchema,
  logging: loggingSchema,
  timeouts: timeoutsSchema,
});

export type FileConfig = z.infer<typeof configSchema>;

/** Keys the schema knows, per object path, for the unknown-key warning. */
export const KNOWN_KEYS: Readonly<Record<string, ReadonlySet<string>>> = {
  '': new Set(Object.keys(configSchema.shape)),
  server: new Set(['host', 'port', 'log_level', 'base_path', 'body_limit_mb']),
  logging: new Set(['enable_detailed_logs', 'enable_access_logs', 'log_directory']),
  timeouts: new Set([
    'first_byte_commit_seconds',
    'heartbeat_seconds',
    'upstream_idle_seconds',
    'upstream_headers_seconds',
    'upstream_connect_seconds',
  ]),
};
