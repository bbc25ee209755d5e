/**
 * `GET /`: what this server is and where to go (a small page for a browser, JSON otherwise) instead of a bare 404.
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
  const health: Record<string, unknown> = { status: 'healthy', service: SERVICE, upstream: upstreamInfo, upstreams: context.pool.snapshot() };
  if (context.redis !== undefined) {
    health['shared_state'] = { store: 'redis', state: context.redis.isHealthy ? 'ready' : 'unavailable' };
    if (asked(query, 'usage')) health['usage_today'] = (await context.redis.usage()) ?? null;
  }
  return health;
}

/** The pointers `GET /` gives, relative to the base path. */
export function rootIndex(basePath: string): Record<string, string> {
  return {
    service: SERVICE,
    about: 'A Google Gemini API (v1beta, v1) front door over an OpenAI-compatible Chat Completions upstream.',
    gemini_api: `${basePath}/v1beta/models`,
    dashboard: '/ui/',
    health: `${basePath}/health`,
    metrics: '/metrics',
    readme: 'README.md in the gemini-proxy source (see "Use it with Gemini CLI")',
  };
}

function rootPage(index: Record<string, string>): string {
  const link = (path: string, label: string): string => `<li><a href="${path}">${label}</a> <code>${path}</code></li>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>gemini-proxy</title></head><body>
<h1>gemini-proxy</h1><p>${index['about'] ?? ''}</p><ul>
${link(index['dashboard'] ?? '/ui/', 'Dashboard')}
${link(index['health'] ?? '/health', 'Health')}
${link(index['gemini_api'] ?? '/v1beta/models', 'Models (Gemini API)')}
</ul><p>Setup: ${index['readme'] ?? ''}.</p></body></html>
`;
}

export const healthRoutes: FastifyPluginCallback<{ context: ProxyContext }> = (app, { context }, done) => {
  const basePath = context.config.basePath;
  const roots = new Set(['/', basePath === '' ? '/' : `${basePath}/`]);
  for (const path of roots) {
    app.get(path, async (request, reply) => {
      const index = rootIndex(context.config.basePath);
      if ((request.headers.accept ?? '').includes('text/html')) return reply.type('text/html; charset=utf-8').send(rootPage(index));
      return index;
    });
  }
  const paths = new Set(['/health', basePath === '' ? '/health' : `${basePath}/health`]);
  for (const path of paths) app.get(path, async (request) => healthReport(context, request.query as Record<string, unknown>));
  done();
};
