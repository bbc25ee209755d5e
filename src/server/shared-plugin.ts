/**
 * A plugin whose hooks and decorators apply to the whole app instead of its own encapsulated scope (what the
 * fastify-plugin package does, with the symbol Fastify documents for it): the operator's request hook must see every
 * request, including the Gemini routes registered after it.
 */
import type { FastifyPluginCallback, FastifyPluginOptions } from 'fastify';

export function sharedPlugin<Options extends FastifyPluginOptions>(
  plugin: FastifyPluginCallback<Options>,
): FastifyPluginCallback<Options> {
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true });
}
