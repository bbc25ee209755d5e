/**
 * `/health`: without a key only the seed's `{"status","service"}`, enough for a load balancer or a container health
 * check. The detail (upstream base URLs, the last upstream error, usage, an upstream probe made with the upstream key)
 * needs a client or admin key, or, without client keys, a direct loopback connection.
 */
import type { FastifyRequest } from 'fastify';
import { createKeyChecker, presentedKey } from './client-keys.js';
import type { ProxyContext } from './context.js';
import { isLoopbackAddress, isForwarded } from '../operator/access.js';

const SERVICE = 'gemini-proxy';

/** True when the request may see the health detail. */
export function mayReadHealthDetail(context: ProxyContext, request: FastifyRequest): boolean {
  const { clientApiKeys, operator } = context.config;
  if (clientApiKeys.length === 0 && isLoopbackAddress(request.socket.remoteAddress) && !isForwarded(request)) return true;
  const keys = operator.adminApiKey === undefined ? clientApiKeys : [...clientApiKeys, operator.adminApiKey];
  return keys.length > 0 && createKeyChecker(keys)(presentedKey(request)) !== undefined;
}

/** `degraded` when shared state is down or no upstream key can take a request (every circuit open). */
function overallStatus(context: ProxyContext): 'healthy' | 'degraded' {
  if (context.redis !== undefined && !context.redis.isHealthy) return 'degraded';
  const keys = Object.values(context.pool.snapshot()).flatMap((upstream) => upstream.keys);
  return keys.length > 0 && keys.every((key) => key.state === 'open') ? 'degraded' : 'healthy';
}

export async function healthDocument(context: ProxyContext, query: Record<string, unknown>, detail: boolean): Promise<Record<string, unknown>> {
  const status = overallStatus(context);
  if (!detail) return { status, service: SERVICE };
  const upstreamInfo: Record<string, unknown> = {
    provider: context.config.upstream.provider,
    base_url: context.config.upstream.baseUrl,
    ...context.health,
  };
  if (query['probe'] === '1' || query['probe'] === 'true') {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 3000);
    try {
      const response = await context.upstream.get(context.target, '/models', abort.signal);
      await response.body.dump();
      upstreamInfo['probe'] = { reachable: true, status: response.statusCode };
    } catch (error) {
      upstreamInfo['probe'] = { reachable: false, error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
  const health: Record<string, unknown> = { status, service: SERVICE, upstream: upstreamInfo, upstreams: context.pool.snapshot() };
  if (context.redis !== undefined) {
    health['shared_state'] = { store: 'redis', state: context.redis.isHealthy ? 'ready' : 'unavailable' };
    if (query['usage'] === '1' || query['usage'] === 'true') health['usage_today'] = (await context.redis.usage()) ?? null;
  }
  return health;
}
