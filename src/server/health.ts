/**
 * `GET /`: what this server is and where to go (a small page for a browser, JSON otherwise) instead of a bare 404.
 * `GET /health` (also under the base path): the default upstream's recent outcomes, the pool's breaker states, the
 * shared-state store, and on request (`?probe=1`) a live `GET /models` against the upstream. Without a key only the
 * seed's `{"status","service"}`, enough for a load balancer or a container health check: the detail (upstream base
 * URLs, the last upstream error, usage, a probe made with the upstream key) needs a client or admin key, or, without
 * client keys, a direct loopback connection.
 */
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import { createKeyChecker, isForwarded, isLoopbackAddress, presentedKey } from './client-keys.js';
import type { UpstreamSnapshot } from '../gateway/upstream-pool.js';
import type { ProxyContext } from './context.js';
import { encodeJson } from './response-channel.js';

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

/** True when the request may see the health detail. */
export function mayReadHealthDetail(context: ProxyContext, request: FastifyRequest): boolean {
  const { clientApiKeys, operator } = context.config;
  if (clientApiKeys.length === 0 && isLoopbackAddress(request.socket.remoteAddress) && !isForwarded(request))
    return true;
  const keys = operator.adminApiKey === undefined ? clientApiKeys : [...clientApiKeys, operator.adminApiKey];
  return keys.length > 0 && createKeyChecker(keys)(presentedKey(request)) !== undefined;
}

/** `upstream/model` for every model that failed recently or whose circuit is not closed. */
function failingModels(upstreams: Record<string, UpstreamSnapshot>): string[] {
  return Object.entries(upstreams).flatMap(([name, upstream]) =>
    Object.keys(upstream.failing_models).map((model) => `${name}/${model}`),
  );
}

/**
 * Liveness stays 200; `degraded` says requests are failing right now: shared state is down, or a model failed
 * recently or has an open circuit.
 */
function overallStatus(context: ProxyContext): 'healthy' | 'degraded' {
  if (context.redis !== undefined && !context.redis.isHealthy) return 'degraded';
  return failingModels(context.pool.snapshot()).length > 0 ? 'degraded' : 'healthy';
}

export async function healthReport(
  context: ProxyContext,
  query: Record<string, unknown>,
  detail = true,
): Promise<Record<string, unknown>> {
  const status = overallStatus(context);
  if (!detail) return { status, service: SERVICE };
  const upstreamInfo: Record<string, unknown> = {
    provider: context.config.upstream.provider,
    base_url: context.config.upstream.baseUrl,
    ...context.health,
  };
  if (asked(query, 'probe')) upstreamInfo['probe'] = await probeUpstream(context);
  const upstreams = context.pool.snapshot();
  const failing = failingModels(upstreams);
  const health: Record<string, unknown> = { status, service: SERVICE, upstream: upstreamInfo, upstreams };
  if (failing.length > 0) health['failing'] = failing;
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
      if ((request.headers.accept ?? '').includes('text/html'))
        return reply.type('text/html; charset=utf-8').send(rootPage(index));
      return index;
    });
  }
  const paths = new Set(['/health', basePath === '' ? '/health' : `${basePath}/health`]);
  for (const path of paths) {
    app.get(path, async (request, reply) => {
      const report = await healthReport(
        context,
        request.query as Record<string, unknown>,
        mayReadHealthDetail(context, request),
      );
      // Redacted after decoding: the last upstream error may quote a key in any spelling.
      return reply
        .header('content-type', 'application/json; charset=UTF-8')
        .header('cache-control', 'no-store')
        .send(context.redact(encodeJson(report)));
    });
  }
  done();
};
