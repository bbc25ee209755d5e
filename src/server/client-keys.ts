/**
 * Client keys: where a request presents one, and the constant-time check against the configured keys ([R-AUTH-1]).
 * Shared by the Gemini routes and the operator endpoints.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The key a request presents: `x-goog-api-key`, then `Authorization: Bearer`, then `?key=`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-goog-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && /^bearer\s+/i.test(authorization))
    return authorization.replace(/^bearer\s+/i, '');
  const query = request.query as Record<string, unknown> | undefined;
  const key = query?.['key'];
  return typeof key === 'string' && key !== '' ? key : undefined;
}

/**
 * Compares the presented key with every configured key, so the time does not depend on which one matched (both sides
 * are hashed first, so lengths never leak either). Returns the position of the matching key.
 */
export function createKeyChecker(keys: string[]): (presented: string | undefined) => number | undefined {
  const digests = keys.map(digest);
  return (presented) => {
    if (presented === undefined || presented === '') return undefined;
    const candidate = digest(presented);
    let match: number | undefined;
    digests.forEach((known, index) => {
      if (timingSafeEqual(candidate, known) && match === undefined) match = index;
    });
    return match;
  };
}

/** A socket address on this machine. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(address);
}

/** A request a reverse proxy passed on: its socket address is the proxy's, not the client's. */
export function isForwarded(request: FastifyRequest): boolean {
  return (
    request.headers['x-forwarded-for'] !== undefined ||
    request.headers['forwarded'] !== undefined ||
    request.headers['x-real-ip'] !== undefined
  );
}
