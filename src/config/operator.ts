/**
 * Config keys of the operator features (dashboard, metrics, usage store), kept here so the main schema only spreads
 * them in: `admin_api_key`, `dashboard`, `metrics`, `usage`.
 */
import { join } from 'node:path';
import { z } from 'zod';

export const operatorConfigShape = {
  /** Key for the dashboard and /metrics; when absent, the client keys are accepted instead. */
  admin_api_key: z.string().min(8, 'admin_api_key must be at least 8 characters').optional(),
  dashboard: z
    .object({
      enabled: z.boolean().default(true),
      /** Memory for the request traces the dashboard keeps (with detailed logs on); the oldest are dropped first. */
      trace_budget_mb: z.number().min(0).max(4096).default(32),
    })
    .default({ enabled: true, trace_budget_mb: 32 }),
  metrics: z
    .object({
      enabled: z.boolean().default(true),
      /** false: /metrics answers anyone who can reach the port (for a scraper on a private network). */
      require_key: z.boolean().default(true),
    })
    .default({ enabled: true, require_key: true }),
  usage: z
    .object({
      enabled: z.boolean().default(true),
      /** SQLite file; default `<log_directory>/usage.sqlite3`; ":memory:" keeps nothing across restarts. */
      database: z.string().min(1).optional(),
      /** Rows older than this are deleted (at start and hourly); 0 keeps everything. */
      retention_days: z.number().min(0).max(36_500).default(30),
    })
    .default({ enabled: true, retention_days: 30 }),
};

export const OPERATOR_KNOWN_KEYS: Readonly<Record<string, ReadonlySet<string>>> = {
  dashboard: new Set(['enabled', 'trace_budget_mb']),
  metrics: new Set(['enabled', 'require_key']),
  usage: new Set(['enabled', 'database', 'retention_days']),
};

export interface OperatorConfig {
  adminApiKey: string | undefined;
  dashboard: boolean;
  traceBudgetBytes: number;
  metrics: { enabled: boolean; requireKey: boolean };
  usage: { enabled: boolean; database: string; retentionDays: number };
}

type OperatorFileKeys = {
  admin_api_key?: string | undefined;
  dashboard: { enabled: boolean; trace_budget_mb: number };
  metrics: { enabled: boolean; require_key: boolean };
  usage: { enabled: boolean; database?: string | undefined; retention_days: number };
};

export function resolveOperatorConfig(file: OperatorFileKeys, logDirectory: string): OperatorConfig {
  return {
    adminApiKey: file.admin_api_key,
    dashboard: file.dashboard.enabled,
    traceBudgetBytes: Math.floor(file.dashboard.trace_budget_mb * 1024 * 1024),
    metrics: { enabled: file.metrics.enabled, requireKey: file.metrics.require_key },
    usage: {
      enabled: file.usage.enabled,
      database: file.usage.database ?? join(logDirectory, 'usage.sqlite3'),
      retentionDays: file.usage.retention_days,
    },
  };
}
