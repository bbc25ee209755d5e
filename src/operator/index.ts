/**
 * Installs the operator features on a built app: the usage store, Prometheus metrics, the live request list and the
 * dashboard, all fed by the request event (`context.requestListeners`) and the request tracker
 * (`context.requestTracker`). Installed once by buildApp (src/app.ts).
 */
import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import type { ResolvedConfig } from '../config/load.js';
import type { ProxyContext, RequestInfo, RequestRecord, RequestTracker } from '../server/context.js';
import { allowOperator } from './access.js';
import { registerDashboard } from './dashboard.js';
import { LiveRequests } from './live.js';
import { ProxyMetrics } from './metrics.js';
import { UsageStore } from './usage-store.js';
import { fileModes } from '../shared/private-files.js';
import { routerFor } from '../gateway/router.js';

/** Header the dashboard's own internal /health call carries, so it leaves no access-log line. */
const INTERNAL_HEADER = 'x-gemini-proxy-dashboard';

export interface Operator {
  metrics: ProxyMetrics;
  live: LiveRequests;
  /** The store in use: the configured SQLite file, or an in-memory one when usage is off or the file failed. */
  usage(): { store: UsageStore; persistent: boolean };
  /** Applies the operator part of a reloaded config (retention); returns what needs a restart. */
  reconfigure(next: ResolvedConfig): string[];
  reloaded(ok: boolean, detail: string | undefined): void;
  close(): void;
}

function openStore(context: ProxyContext): { store: UsageStore; persistent: boolean } {
  const { usage } = context.config.operator;
  if (usage.enabled && usage.database !== ':memory:') {
    try {
      return {
        store: new UsageStore(usage.database, {
          retentionDays: usage.retentionDays,
          modes: fileModes(context.config.logging.groupReadable),
        }),
        persistent: true,
      };
    } catch (error) {
      context.log.error(
        `usage database ${usage.database} cannot be opened (${error instanceof Error ? error.message : String(error)}); usage is kept in memory until the next restart`,
      );
    }
  }
  return { store: new UsageStore(':memory:', { retentionDays: usage.retentionDays }), persistent: false };
}

/**
 * At arrival, the operator's own pages and the dashboard's internal calls are marked to leave no access-log line
 * (`quiet`), and open requests are tracked for the open-streams gauge while metrics are on.
 */
function requestTracker(
  context: ProxyContext,
  inFlight: Set<RequestInfo>,
  operatorPrefixes: readonly string[],
): RequestTracker {
  return {
    arrived(info, path, headers) {
      if (
        operatorPrefixes.some(
          (prefix) => path.startsWith(prefix) && (path.length === prefix.length || path[prefix.length] === '/'),
        ) ||
        headers[INTERNAL_HEADER] === '1'
      )
        info.quiet = true;
      // Only the open-streams gauge reads inFlight.
      if (context.config.operator.metrics.enabled) inFlight.add(info);
    },
    closed(info) {
      inFlight.delete(info);
    },
  };
}

/** Prometheus text at `path`: behind the operator key unless `metrics.require_key` is false; a 404 when off. */
function registerMetricsRoute(
  scope: FastifyInstance,
  context: ProxyContext,
  metrics: ProxyMetrics,
  path: string,
): void {
  scope.get(path, async (request, reply) => {
    const settings = context.config.operator.metrics;
    if (!settings.enabled) {
      return reply
        .code(404)
        .header('content-type', 'application/json; charset=UTF-8')
        .send(
          JSON.stringify({
            error: {
              code: 404,
              message: `The requested URL ${path} was not found on this server (method GET).`,
              status: 'NOT_FOUND',
            },
          }),
        );
    }
    if (settings.requireKey && !allowOperator(context, request, reply)) return reply;
    const rendered = await metrics.render();
    return reply
      .code(200)
      .header('content-type', rendered.contentType)
      .header('cache-control', 'no-store')
      .send(rendered.body);
  });
}

export function installOperator(app: FastifyInstance, context: ProxyContext): Operator {
  const startedAt = Date.now();
  const inFlight = new Set<RequestInfo>();
  let served: { config: ResolvedConfig; names: Set<string> } | undefined;
  const servedModel = (name: string): boolean => {
    if (served?.config !== context.config)
      served = { config: context.config, names: new Set(routerFor(context.config.routing).listedNames()) };
    return served.names.has(name);
  };
  const metrics = new ProxyMetrics(() => {
    let open = 0;
    for (const info of inFlight) if (info.stream === true) open += 1;
    return open;
  }, servedModel);
  const live = new LiveRequests(500, 50, context.config.operator.traceBudgetBytes);
  const usage = openStore(context);
  try {
    live.seed(usage.store.recent(100));
  } catch (error) {
    context.log.warn(
      `cannot read recent requests from the usage database: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const reloads = { last: undefined as string | undefined, lastError: undefined as string | undefined, count: 0 };

  // A feature that is off costs nothing per request (read per request: a reload may switch one on). The in-memory
  // store behind usage: {enabled: false} still feeds the dashboard's usage views while the dashboard is on.
  context.requestListeners.push((record: RequestRecord) => {
    const { operator } = context.config;
    if (operator.metrics.enabled) metrics.observe(record);
    if (operator.dashboard) live.add(record);
    if (!operator.usage.enabled && !operator.dashboard) return;
    try {
      usage.store.add(record);
    } catch (error) {
      context.log.error(`cannot write usage: ${error instanceof Error ? error.message : String(error)}`);
    }
  });

  const basePath = context.config.basePath;
  const operatorPrefixes: readonly string[] =
    basePath === '' ? ['/ui', '/metrics'] : ['/ui', '/metrics', `${basePath}/ui`, `${basePath}/metrics`];
  context.requestTracker = requestTracker(context, inFlight, operatorPrefixes);
  const routes: FastifyPluginCallback = (scope, _options, done) => {
    registerDashboard(
      scope,
      { context, live, usage: () => usage, startedAt, reloads, internalHeader: INTERNAL_HEADER },
      basePath === '' ? ['/ui'] : ['/ui', `${basePath}/ui`],
    );
    const metricsPaths = basePath === '' ? ['/metrics'] : ['/metrics', `${basePath}/metrics`];
    for (const path of metricsPaths) registerMetricsRoute(scope, context, metrics, path);
    done();
  };
  void app.register(routes);

  return {
    metrics,
    live,
    usage: () => usage,
    reconfigure(next) {
      const restart: string[] = [];
      const before = context.config.operator.usage;
      const after = next.operator.usage;
      if (before.enabled !== after.enabled || before.database !== after.database)
        restart.push('usage.enabled/usage.database');
      if (after.retentionDays !== usage.store.retentionDaysInForce()) usage.store.setRetentionDays(after.retentionDays);
      live.setTraceBudget(next.operator.traceBudgetBytes);
      return restart;
    },
    reloaded(ok, detail) {
      metrics.reloaded(ok);
      reloads.count += ok ? 1 : 0;
      if (ok) reloads.last = new Date().toISOString();
      else reloads.lastError = detail;
    },
    close() {
      usage.store.close();
    },
  };
}
