/**
 * Who may see the dashboard and /metrics. With `admin_api_key` set, that key; otherwise any of `client_api_keys`.
 * With neither, only direct loopback connections: a request from another address, or one a reverse proxy forwarded
 * (it carries X-Forwarded-For, Forwarded or X-Real-IP), gets 403 PERMISSION_DENIED in the Gemini error format.
 * Keys are read from the config in force at request time, so a reload changes them.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createKeyChecker, isForwarded, isLoopbackAddress, presentedKey } from '../server/client-keys.js';

export { isLoopbackAddress } from '../server/client-keys.js';
import { apiKeyInvalid } from '../errors.js';
import type { ProxyContext } from '../server/context.js';
import { encodeJson } from '../server/response-channel.js';

export function operatorKeys(context: ProxyContext): string[] {
  const admin = context.config.operator.adminApiKey;
  return admin !== undefined ? [admin] : context.config.clientApiKeys;
}

function keyMatches(keys: string[], presented: string | undefined): boolean {
  return createKeyChecker(keys)(presented) !== undefined;
}

export const NO_KEY_MESSAGE =
  'The gemini-proxy dashboard and metrics are only served to direct loopback connections while neither admin_api_key nor client_api_keys is configured.';

function forbidden(reply: FastifyReply): FastifyReply {
  return reply
    .code(403)
    .header('content-type', 'application/json; charset=UTF-8')
    .send(encodeJson({ error: { code: 403, message: NO_KEY_MESSAGE, status: 'PERMISSION_DENIED' } }));
}

/**
 * Who is looking: the operator (admin key, or a loopback connection when no key exists at all) sees everything; a
 * client key without an admin_api_key sees only that client's own requests (their prompts are in the traces).
 */
export type OperatorViewer = { kind: 'operator' } | { kind: 'client'; client: string };

/** Checks access like allowOperator and says who the viewer is; answers and returns undefined when refused. */
export function operatorViewer(
  context: ProxyContext,
  request: FastifyRequest,
  reply: FastifyReply,
): OperatorViewer | undefined {
  const admin = context.config.operator.adminApiKey;
  const clients = context.config.clientApiKeys;
  if (admin !== undefined || clients.length === 0)
    return allowOperator(context, request, reply) ? { kind: 'operator' } : undefined;
  const index = createKeyChecker(clients)(presentedKey(request));
  if (index === undefined) {
    allowOperator(context, request, reply);
    return undefined;
  }
  return { kind: 'client', client: context.config.clients[index]?.name ?? `key#${index}` };
}

/**
 * Checks access; answers and returns false when refused. `needKey: false` is for the page's static files, which hold
 * no data: they load without a key when keys exist (the page then asks for one), and stay loopback-only when none do.
 */
export function allowOperator(
  context: ProxyContext,
  request: FastifyRequest,
  reply: FastifyReply,
  needKey = true,
): boolean {
  const keys = operatorKeys(context);
  if (keys.length === 0) {
    if (isLoopbackAddress(request.socket.remoteAddress) && !isForwarded(request)) return true;
    void forbidden(reply);
    return false;
  }
  if (!needKey || keyMatches(keys, presentedKey(request))) return true;
  const error = apiKeyInvalid();
  void reply
    .code(error.httpStatus)
    .header('content-type', 'application/json; charset=UTF-8')
    .send(encodeJson(error.toGoogleStatus()));
  return false;
}
