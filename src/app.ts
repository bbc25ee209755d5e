/**
 * The composition root: the shared context, the HTTP core, the operator features (fed through the context's request
 * tracker and listeners) and the route plugins.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ResolvedConfig } from './config/load.js';
import { installOperator, type Operator } from './operator/index.js';
import { createServer, geminiRoutes, healthRoutes } from './server/app.js';
import type { ProxyContext } from './server/context.js';
import { createProxyContext, shareUsageInRedis } from './server/create-context.js';

export interface BuiltApp {
  app: FastifyInstance;
  context: ProxyContext;
  /** Dashboard, metrics, usage store (src/operator). */
  operator: Operator;
}

export function buildApp(config: ResolvedConfig, log: Logger): BuiltApp {
  const context = createProxyContext(config, log);
  const app = createServer(context);
  const operator = installOperator(app, context);
  void app.register(healthRoutes, { context });
  void app.register(geminiRoutes, { context });
  app.addHook('onClose', async () => {
    operator.close();
    // The client in force: a reload may have replaced the one created in createProxyContext.
    await context.upstream.close();
    await context.redis?.close();
  });
  shareUsageInRedis(context);
  return { app, context, operator };
}
