/**
 * What a browser may do with the proxy. Without client keys the proxy trusts whoever reaches it, which on a laptop
 * also means every web page open in a browser there: a cross-site `text/plain` POST needs no preflight (it spent the
 * upstream credits), and a DNS-rebinding page talks to 127.0.0.1 under its own host name (it read the prompts from
 * the dashboard API). So keyless requests must name a loopback address or localhost in `Host` (or one of
 * `allowed_hosts`), and may carry no `Origin` but the proxy's own (or one of `allowed_origins`). CORS headers are sent
 * only to the origins in `allowed_origins`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProxyError } from '../errors.js';
import type { ResolvedConfig } from '../config/load.js';
import { encodeJson } from './response-channel.js';

/** The host name of a `Host` header, lower case, without port or IPv6 brackets. */
export function hostName(header: string): string {
  const value = header.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end === -1 ? value : value.slice(1, end);
  }
  const colon = value.indexOf(':');
  return colon === -1 || colon !== value.lastIndexOf(':') ? value : value.slice(0, colon);
}

/** A loopback literal or localhost: names a DNS-rebinding page cannot make the browser send. */
export function isLoopbackHostName(name: string): boolean {
  if (name === 'localhost' || name === '::1' || name === '::ffff:127.0.0.1') return true;
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  return octets !== null && octets.slice(1).every((octet) => Number(octet) <= 255);
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

function forbidden(reply: FastifyReply, message: string): void {
  void reply
    .code(403)
    .header('content-type', 'application/json; charset=UTF-8')
    .send(encodeJson(new ProxyError('FORBIDDEN', message).toGoogleStatus()));
}

/** Header names a preflight may ask for: tokens only, so nothing odd is reflected. */
const HEADER_LIST = /^[A-Za-z0-9-]+(\s*,\s*[A-Za-z0-9-]+)*$/;

/**
 * Runs first for every request. Answers (403, or a CORS preflight) and returns false when the request goes no
 * further; adds the CORS headers for an allowed origin otherwise.
 */
export function guardBrowserAccess(config: ResolvedConfig, request: FastifyRequest, reply: FastifyReply): boolean {
  const host = request.headers.host;
  const origin = typeof request.headers.origin === 'string' ? request.headers.origin : undefined;
  const allowedOrigin =
    origin !== undefined && config.allowedOrigins.includes(origin.toLowerCase().replace(/\/+$/, ''));
  if (config.clientApiKeys.length === 0) {
    if (host !== undefined && !isLoopbackHostName(hostName(host)) && !config.allowedHosts.includes(hostName(host))) {
      forbidden(
        reply,
        `Host ${JSON.stringify(host.slice(0, 100))} is refused: without client_api_keys this proxy answers only requests addressed to a loopback address or localhost (add the name to allowed_hosts, or configure client_api_keys).`,
      );
      return false;
    }
    if (origin !== undefined && !allowedOrigin && !sameOrigin(origin, host)) {
      forbidden(
        reply,
        `Origin ${JSON.stringify(origin.slice(0, 100))} is refused: without client_api_keys this proxy answers no other web page (list trusted origins in allowed_origins).`,
      );
      return false;
    }
  }
  // On the raw response: generate requests hijack the reply and write their own head.
  if (config.allowedOrigins.length > 0) reply.raw.setHeader('vary', 'Origin');
  if (origin === undefined || !allowedOrigin) return true;
  reply.raw.setHeader('access-control-allow-origin', origin);
  reply.raw.setHeader('access-control-expose-headers', 'x-request-id');
  if (request.method !== 'OPTIONS' || request.headers['access-control-request-method'] === undefined) return true;
  const asked = request.headers['access-control-request-headers'];
  reply.header('access-control-allow-methods', 'GET, POST');
  if (typeof asked === 'string' && HEADER_LIST.test(asked)) reply.header('access-control-allow-headers', asked);
  reply.header('access-control-max-age', '600');
  void reply.code(204).send();
  return false;
}
