/**
 * The config file schema. The original tool's `config.json` is accepted verbatim; everything added since is
 * optional. Unknown keys are reported as warnings, not failures (the original tool's files carry a `retry` block).
 */
import { z } from 'zod';
import { PROVIDER_NAMES, isProviderName } from '../providers/index.js';
import { OPERATOR_KNOWN_KEYS, operatorConfigShape } from './operator.js';
import { WEB_SEARCH_KNOWN_KEYS, webSearchConfigShape } from './web-search.js';

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
    /** Longest a whole request may take, streams included; then the upstream is aborted and the answer finished. */
    request_timeout_seconds: z.number().positive().max(86_400).default(900),
    /** On SIGTERM, open streams get this long to finish before the process exits. */
    drain_seconds: z.number().min(0).max(3600).default(30),
    /** Longest accepted request line URL, in bytes. */
    max_url_bytes: z.number().int().min(256).max(65_536).default(8192),
    /** Largest accepted request header block, in bytes. */
    max_header_bytes: z.number().int().min(1024).max(1_048_576).default(32_768),
  })
  .default({
    host: '127.0.0.1',
    port: 8000,
    log_level: 'info',
    base_path: '',
    body_limit_mb: 32,
    request_timeout_seconds: 900,
    drain_seconds: 30,
    max_url_bytes: 8192,
    max_header_bytes: 32_768,
  });

export const loggingSchema = z
  .object({
    enable_detailed_logs: z.boolean().default(false),
    enable_access_logs: z.boolean().default(true),
    log_directory: z.string().min(1).default('logs'),
    /** Files the proxy creates are 0640/0750 instead of owner-only 0600/0700 (for a log-reading group). */
    group_readable: z.boolean().default(false),
  })
  .default({ enable_detailed_logs: false, enable_access_logs: true, log_directory: 'logs', group_readable: false });

export const timeoutsSchema = z
  .object({
    /** Seconds before a slow upstream makes the proxy commit 200 and start heartbeats; below the CLI's 60 s ([R-TO-1]). */
    first_byte_commit_seconds: seconds(45, 55),
    /** Seconds of silence after which a heartbeat is written ([R-TO-2]). */
    heartbeat_seconds: seconds(15, 120),
    /**
     * Seconds without upstream bytes before the upstream is given up ([R-TO-4]). 60: Gemini CLI retries a broken
     * stream up to 4 times, so a stalled upstream ends the turn within 4 × 60 s + 7 s, under 5 minutes. Streaming
     * upstreams send tokens or keep-alive comments far more often; raise it for one that thinks silently for minutes.
     */
    upstream_idle_seconds: seconds(60, 3600),
    /**
     * Longest wait for the upstream's response headers. 60: every upstream call streams (unary ones too), and a
     * streaming upstream answers headers when it accepts the request, before generating. A local server that loads
     * a large model first may need more.
     */
    upstream_headers_seconds: seconds(60, 3600),
    /**
     * Longest wait for a unary (non-streamed) upstream answer, whose headers come only with the finished answer:
     * Gemini CLI's utility calls and /compress of a long history can take minutes on a reasoning model.
     */
    upstream_unary_seconds: seconds(300, 3600),
    upstream_connect_seconds: seconds(10, 120),
  })
  .default({
    first_byte_commit_seconds: 45,
    heartbeat_seconds: 15,
    upstream_idle_seconds: 60,
    upstream_headers_seconds: 60,
    upstream_unary_seconds: 300,
    upstream_connect_seconds: 10,
  });

const providerName = z.string().refine(isProviderName, { message: `must be one of: ${PROVIDER_NAMES.join(', ')}` });

/** A named upstream for the gateway form of the config. */
export const upstreamSchema = z
  .object({
    provider: providerName.optional(),
    base_url: z.string().url().optional(),
    /** One key, or several used in rotation (a key whose circuit is open is skipped). */
    api_key: z.string().optional(),
    api_keys: z.array(z.string().min(1)).optional(),
    azure_api_version: z.string().min(1).default('2024-10-21'),
    timeouts: z
      .object({
        upstream_idle_seconds: z.number().positive().max(3600).optional(),
        upstream_headers_seconds: z.number().positive().max(3600).optional(),
        upstream_unary_seconds: z.number().positive().max(3600).optional(),
        upstream_connect_seconds: z.number().positive().max(120).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const routeTargetSchema = z.object({ upstream: z.string().min(1), model: z.string().min(1) }).strict();

/** Per client key (or per client address when no keys are configured) limits; 0 means unlimited. */
export const limitsSchema = z
  .object({
    requests_per_minute: z.number().int().min(0).default(0),
    tokens_per_minute: z.number().int().min(0).default(0),
  })
  .strict();

export const clientKeySchema = z.union([
  z.string().min(8, 'client keys must be at least 8 characters'),
  z
    .object({
      key: z.string().min(8, 'client keys must be at least 8 characters'),
      name: z.string().min(1).optional(),
      requests_per_minute: z.number().int().min(0).optional(),
      tokens_per_minute: z.number().int().min(0).optional(),
    })
    .strict(),
]);

export const configSchema = z.object({
  openai_api_key: z.string().optional(),
  openai_base_url: z.string().url().optional(),
  model_mapping: z.record(z.string().min(1), z.string().min(1)).default({}),
  default_openai_model: z.string().min(1).optional(),
  default_embedding_model: z.string().min(1).optional(),
  /** Upstream model name or pattern → its context window and output limit, over the presets' own table. */
  model_limits: z
    .record(
      z.string().min(1),
      z
        .object({ context_window: z.number().int().min(1024), max_output_tokens: z.number().int().min(1).optional() })
        .strict(),
    )
    .default({}),
  provider: z
    .string()
    .refine(isProviderName, { message: `must be one of: ${PROVIDER_NAMES.join(', ')}` })
    .optional(),
  /** Azure OpenAI `api-version` query parameter. */
  azure_api_version: z.string().min(1).default('2024-10-21'),
  client_api_keys: z.array(clientKeySchema).optional(),
  /** Named upstreams; the original single-upstream keys describe one more, named "default". */
  upstreams: z
    .record(
      z.string().regex(/^[A-Za-z0-9_.-]+$/, 'upstream names use letters, digits, "_", "-" and "."'),
      upstreamSchema,
    )
    .default({}),
  /** Gemini model name or pattern → ordered targets; later targets are fallbacks. */
  routes: z.record(z.string().min(1), z.array(routeTargetSchema).min(1)).default({}),
  /** Retries before the first byte reached the client (named `retries`: the original tool's `retry` block is ignored). */
  retries: z
    .object({
      attempts_per_target: z.number().int().min(1).max(10).default(2),
      base_delay_ms: z.number().int().min(0).max(60_000).default(300),
      /** A Retry-After longer than this moves on to the next target instead of waiting. */
      max_delay_seconds: z.number().min(0).max(600).default(5),
    })
    .strict()
    .default({ attempts_per_target: 2, base_delay_ms: 300, max_delay_seconds: 5 }),
  circuit_breaker: z
    .object({
      failure_threshold: z.number().int().min(1).max(1000).default(5),
      cooldown_seconds: z.number().min(0.01).max(3600).default(30),
    })
    .strict()
    .default({ failure_threshold: 5, cooldown_seconds: 30 }),
  limits: limitsSchema.default({ requests_per_minute: 0, tokens_per_minute: 0 }),
  /** Shared state for several instances: rate limits, usage counters, reasoning replay, response cache. */
  redis_url: z
    .string()
    .refine((url) => /^rediss?:\/\//.test(url), 'must start with redis:// or rediss://')
    .optional(),
  redis: z
    .object({
      key_prefix: z.string().default('gemini-proxy:'),
      /** When Redis is down: `open` lets requests through unlimited, `closed` refuses them with 503. */
      rate_limit_failure: z.enum(['open', 'closed']).default('open'),
      command_timeout_ms: z.number().int().min(10).max(10_000).default(300),
    })
    .strict()
    .default({ key_prefix: 'gemini-proxy:', rate_limit_failure: 'open', command_timeout_ms: 300 }),
  /** Exact-match cache of unary answers to deterministic requests (temperature 0); in Redis when redis_url is set. */
  response_cache: z
    .object({
      enabled: z.boolean().default(false),
      ttl_seconds: z
        .number()
        .positive()
        .max(30 * 86_400)
        .default(300),
      max_entries: z.number().int().min(1).max(1_000_000).default(1000),
    })
    .strict()
    .default({ enabled: false, ttl_seconds: 300, max_entries: 1000 }),
  allow_unauthenticated: z.boolean().default(false),
  /** Browser origins allowed to call the proxy (CORS), e.g. "http://localhost:5173"; none by default. */
  allowed_origins: z
    .array(
      z
        .string()
        .refine(
          (origin) => /^https?:\/\/[^/?#\s]+$/i.test(origin),
          'an origin is scheme://host[:port], without a path',
        ),
    )
    .default([]),
  /** Host names besides loopback and localhost that keyless requests may carry (for allow_unauthenticated). */
  allowed_hosts: z.array(z.string().min(1)).default([]),
  server: serverSchema,
  logging: loggingSchema,
  timeouts: timeoutsSchema,
  /** admin_api_key, dashboard, metrics, usage (src/config/operator.ts). */
  ...operatorConfigShape,
  /** What answers Gemini's googleSearch tool (src/search/config.ts). */
  ...webSearchConfigShape,
});

export type FileConfig = z.infer<typeof configSchema>;

/** Keys the schema knows, per object path, for the unknown-key warning. */
export const KNOWN_KEYS: Readonly<Record<string, ReadonlySet<string>>> = {
  '': new Set(Object.keys(configSchema.shape)),
  ...OPERATOR_KNOWN_KEYS,
  ...WEB_SEARCH_KNOWN_KEYS,
  server: new Set([
    'host',
    'port',
    'log_level',
    'base_path',
    'body_limit_mb',
    'request_timeout_seconds',
    'drain_seconds',
    'max_url_bytes',
    'max_header_bytes',
  ]),
  logging: new Set(['enable_detailed_logs', 'enable_access_logs', 'log_directory', 'group_readable']),
  timeouts: new Set([
    'first_byte_commit_seconds',
    'heartbeat_seconds',
    'upstream_idle_seconds',
    'upstream_headers_seconds',
    'upstream_unary_seconds',
    'upstream_connect_seconds',
  ]),
};
