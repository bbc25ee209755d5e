/**
 * `GET /health` (also under the base path): the default upstream's recent outcomes, the pool's breaker states, the
 * shared-state store, and on request (`?probe=1`) a live `GET /models` against the upstream.
 */
import type { FastifyPluginCallback } from 'fastify';
import type { ProxyContext } from './context.js';

const SERVICE = 'gemini-proxy';
const PROBE_TIMEOUT_MS = 3000;

function asked(query: Record<string, unknown>, name: string): boolean {
  return query[name] === '1' || query[name] === 'true';
}

async function probeUpstream(context: ProxyContext): Promise<Record<string, unknown>> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), PROBE_TIMEOUT_MS);
  try {
    const response = await context.upstream.get(context.target, '/models', abort.signal);
    await response.body.dump();
    return { reachable: true, status: response.statusCode };
  } catch (error) {
    return { reachable: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

export async function healthReport(context: ProxyContext, query: Record<string, unknown>): Promise<Record<string, unknown>> {
  const upstreamInfo: Record<string, unknown> = {
    provider: context.config.upstream.provider,
    base_url: context.config.upstream.baseUrl,
    ...context.health,
  };
  if (asked(query, 'probe')) upstreamInfo['probe'] = await probeUpstream(context);
  const upstreams = context.pool.snapshot();
  // Liveness stays 200; "degraded" says requests are failing right now (failing models, open circuits).
  const failing = Object.entries(upstreams).flatMap(([name, upstream]) => Object.keys(upstream.failing_models).map((model) => `${name}/${model}`));
  const health: Record<string, unknown> = { status: failing.length > 0 ? 'degraded' : 'healthy', service: SERVICE, upstream: upstreamInfo, upstreams };
  if (failing.length > 0) health['failing'] = failing;
  if (context.redis !== undefined) {
    health['shared_state'] = { store: 'redis', state: context.redis.isHealthy ? 'ready' : 'unavailable' };
    if (asked(query, 'usage')) health['usage_today'] = (await context.redis.usage()) ?? null;
  }
  return health;
}

export const healthRoutes: FastifyPluginCallback<{ context: ProxyContext }> = (app, { context }, done) => {
  const basePath = context.config.basePath;
  const paths = new Set(['/health', basePath === '' ? '/health' : `${basePath}/health`]);
  for (const path of paths) app.get(path, async (request) => healthReport(context, request.query as Record<string, unknown>));
  done();
};
