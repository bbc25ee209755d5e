/**
 * The dashboard at `/ui` (and `<base_path>/ui`): a static page (vanilla JS and CSS from src/operator/ui, no CDN) and
 * the JSON it polls: the live request list, one request's four detailed-log stages, usage per model over time, and
 * upstream health.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProxyContext } from '../server/context.js';
import { encodeJson } from '../server/response-channel.js';
import { allowOperator, operatorViewer, type OperatorViewer } from './access.js';
import type { LiveRequests } from './live.js';
import type { UsageStore } from './usage-store.js';
import { healthReport } from '../server/health.js';

interface Asset {
  type: string;
  body: Buffer;
}

const ASSET_TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'format.js': 'text/javascript; charset=utf-8',
  'usage.js': 'text/javascript; charset=utf-8',
};

/** The page's files: next to this module when run from source, under src/ when run from dist/. */
function assetDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'ui'), join(here, '..', '..', '..', 'src', 'operator', 'ui')];
  for (const candidate of candidates) if (existsSync(join(candidate, 'index.html'))) return candidate;
  throw new Error(`dashboard files not found (looked in ${candidates.join(', ')})`);
}

let cachedAssets: Map<string, Asset> | undefined;
function assets(): Map<string, Asset> {
  if (cachedAssets !== undefined) return cachedAssets;
  const directory = assetDirectory();
  const loaded = new Map<string, Asset>();
  for (const [name, type] of Object.entries(ASSET_TYPES))
    loaded.set(name, { type, body: readFileSync(join(directory, name)) });
  cachedAssets = loaded;
  return loaded;
}

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Ranges the charts offer: span and bucket width, in ms. */
export const RANGES: Record<string, { spanMs: number; bucketMs: number }> = {
  '15m': { spanMs: 15 * 60_000, bucketMs: 15_000 },
  '1h': { spanMs: 60 * 60_000, bucketMs: 60_000 },
  '6h': { spanMs: 6 * 3_600_000, bucketMs: 5 * 60_000 },
  '24h': { spanMs: 24 * 3_600_000, bucketMs: 20 * 60_000 },
  '7d': { spanMs: 7 * 86_400_000, bucketMs: 3 * 3_600_000 },
  '30d': { spanMs: 30 * 86_400_000, bucketMs: 12 * 3_600_000 },
};

export interface DashboardParts {
  context: ProxyContext;
  live: LiveRequests;
  usage: () => { store: UsageStore; persistent: boolean };
  startedAt: number;
  reloads: { last: string | undefined; lastError: string | undefined; count: number };
  /** Header marking the dashboard's internal /health call (no access-log line). */
  internalHeader: string;
}

function json(
  reply: FastifyReply,
  status: number,
  body: unknown,
  redact: (text: string) => string = (text) => text,
): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'application/json; charset=UTF-8')
    .header('cache-control', 'no-store')
    .send(redact(encodeJson(body)));
}

/** The client whose requests a viewer may see; undefined for the operator, who sees all. */
function scope(viewer: OperatorViewer): string | undefined {
  return viewer.kind === 'client' ? viewer.client : undefined;
}

function notFound(reply: FastifyReply, request: FastifyRequest): FastifyReply {
  const path = request.url.split('?')[0] ?? '';
  return json(reply, 404, {
    error: {
      code: 404,
      message: `The requested URL ${path} was not found on this server (method ${request.method}).`,
      status: 'NOT_FOUND',
    },
  });
}

function integer(value: unknown, fallback: number, min: number, max: number): number {
  const number = typeof value === 'string' ? Number(value) : NaN;
  return Number.isInteger(number) ? Math.min(max, Math.max(min, number)) : fallback;
}

/** Who may see the dashboard; each check sends the refusal itself (a 404 while it is off: hot reload may turn it off). */
interface DashboardGate {
  /** The caller may see the page (and with `needKey`, operator-only data). */
  open(request: FastifyRequest, reply: FastifyReply, needKey: boolean): boolean;
  /** Whose requests the caller may see: all for the operator, its own for a client key. */
  viewerOf(request: FastifyRequest, reply: FastifyReply): OperatorViewer | undefined;
}

function dashboardGate(context: ProxyContext): DashboardGate {
  return {
    open(request, reply, needKey) {
      if (!context.config.operator.dashboard) {
        void notFound(reply, request);
        return false;
      }
      return allowOperator(context, request, reply, needKey);
    },
    viewerOf(request, reply) {
      if (!context.config.operator.dashboard) {
        void notFound(reply, request);
        return undefined;
      }
      return operatorViewer(context, request, reply);
    },
  };
}

export function registerDashboard(app: FastifyInstance, parts: DashboardParts, prefixes: string[]): void {
  const gate = dashboardGate(parts.context);
  for (const prefix of prefixes) {
    registerPage(app, prefix, gate);
    registerRequestsApi(app, prefix, parts, gate);
    registerUsageApi(app, prefix, parts, gate);
    registerHealthApi(app, prefix, parts, gate);
  }
}

/** The page and its files. */
function registerPage(app: FastifyInstance, prefix: string, gate: DashboardGate): void {
  const sendAsset = (name: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    if (!gate.open(request, reply, false)) return reply;
    const asset = assets().get(name);
    if (asset === undefined) return notFound(reply, request);
    return reply.code(200).headers(SECURITY_HEADERS).header('content-type', asset.type).send(asset.body);
  };
  app.get(prefix, async (request, reply) => {
    if (!gate.open(request, reply, false)) return reply;
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    return reply.redirect(`${prefix}/${query}`, 302);
  });
  app.get(`${prefix}/`, sendAsset('index.html'));
  for (const name of Object.keys(ASSET_TYPES)) if (name !== 'index.html') app.get(`${prefix}/${name}`, sendAsset(name));
}

/** The live request list, and one request with its detailed-log stages. */
function registerRequestsApi(app: FastifyInstance, prefix: string, parts: DashboardParts, gate: DashboardGate): void {
  const { context, live } = parts;
  app.get(`${prefix}/api/requests`, async (request, reply) => {
    const viewer = gate.viewerOf(request, reply);
    if (viewer === undefined) return reply;
    const query = request.query as Record<string, unknown>;
    const after = integer(query['after'], 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = integer(query['limit'], 200, 1, 500);
    return json(
      reply,
      200,
      {
        last: live.lastSeq,
        requests: live.since(after, limit, scope(viewer)),
        detailedLogs: context.config.logging.detailed,
      },
      context.redact,
    );
  });

  app.get(`${prefix}/api/requests/:id`, async (request, reply) => {
    const viewer = gate.viewerOf(request, reply);
    if (viewer === undefined) return reply;
    const id = (request.params as { id: string }).id;
    const entry = live.get(id);
    // Another client's request is "not found": its id says nothing more than that.
    if (entry === undefined || (scope(viewer) !== undefined && entry.client !== scope(viewer)))
      return notFound(reply, request);
    return json(reply, 200, { request: entry, detailedLogs: context.config.logging.detailed }, context.redact);
  });
}

/** Usage per model over one of the RANGES. */
function registerUsageApi(app: FastifyInstance, prefix: string, parts: DashboardParts, gate: DashboardGate): void {
  const { context } = parts;
  app.get(`${prefix}/api/usage`, async (request, reply) => {
    const viewer = gate.viewerOf(request, reply);
    if (viewer === undefined) return reply;
    const query = request.query as Record<string, unknown>;
    const rangeName = typeof query['range'] === 'string' && query['range'] in RANGES ? query['range'] : '1h';
    const range = RANGES[rangeName] ?? { spanMs: 3_600_000, bucketMs: 60_000 };
    const now = Date.now();
    const { store, persistent } = parts.usage();
    const series = store.series(now - range.spanMs, now + 1, range.bucketMs, scope(viewer));
    return json(
      reply,
      200,
      { range: rangeName, persistent, retentionDays: context.config.operator.usage.retentionDays, ...series },
      context.redact,
    );
  });
}

/** Upstream health (the document /health serves), recent errors and the proxy process: operator only. */
function registerHealthApi(app: FastifyInstance, prefix: string, parts: DashboardParts, gate: DashboardGate): void {
  const { context } = parts;
  app.get(`${prefix}/api/health`, async (request, reply) => {
    if (!gate.open(request, reply, true)) return reply;
    const query = request.query as Record<string, unknown>;
    const probe = query['probe'] === '1';
    // The same document /health serves, so the dashboard shows what monitoring sees.
    const health = await healthReport(context, probe ? { probe: '1' } : {});
    return json(reply, 200, { health, recent: recentErrors(parts.live), proxy: proxyState(parts) }, context.redact);
  });
}

function recentErrors(live: LiveRequests): unknown {
  const recent = live.recent(5 * 60_000);
  return {
    windowSeconds: 300,
    requests: recent.requests,
    errors: recent.errors,
    lastError:
      recent.lastError === undefined
        ? undefined
        : {
            time: recent.lastError.time,
            status: recent.lastError.status,
            errorStatus: recent.lastError.errorStatus,
            upstreamError: recent.lastError.upstreamError,
            model: recent.lastError.model,
          },
  };
}

function proxyState(parts: DashboardParts): unknown {
  const config = parts.context.config;
  return {
    pid: process.pid,
    startedAt: new Date(parts.startedAt).toISOString(),
    uptimeSeconds: Math.round((Date.now() - parts.startedAt) / 1000),
    config: config.source,
    provider: config.upstream.provider,
    baseUrl: config.upstream.baseUrl,
    detailedLogs: config.logging.detailed,
    usagePersistent: parts.usage().persistent,
    reloads: parts.reloads,
  };
}
