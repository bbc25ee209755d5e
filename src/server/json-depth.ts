/**
 * Request edges that Fastify's own handlers would answer outside the Gemini error format, found by the fuzzer
 * (test/fuzz): nesting too deep for what runs after JSON.parse, a URL Fastify cannot decode, and CONNECT.
 */
import type { Socket } from 'node:net';

/**
 * Deepest accepted nesting of arrays and objects in a request body. JSON.parse accepts any depth, but everything after
 * it recurses (JSON.stringify overflows its stack at about 10,000 levels, the schema translators earlier): a deeply
 * nested body made the proxy answer 500, and with detailed logs on crashed it when the request's trace was
 * serialised. Google's own API stops at a nesting depth of about 100; this is far above what a real client sends.
 */
export const MAX_JSON_DEPTH = 512;

/** True when `value` nests arrays/objects deeper than `limit` levels. Iterative, stops at the first excess. Pure. */
export function exceedsDepth(value: unknown, limit: number = MAX_JSON_DEPTH): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: Array<{ node: object; depth: number }> = [{ node: value, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: object; depth: number };
    if (depth > limit) return true;
    const children: unknown[] = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) if (typeof child === 'object' && child !== null) stack.push({ node: child, depth: depth + 1 });
  }
  return false;
}

/** The message for Fastify's framework errors (FST_ERR_BAD_URL: a path with broken percent-encoding). Never echoes the URL, which may carry `?key=`. */
export function frameworkErrorMessage(code: string | undefined): string {
  return code === 'FST_ERR_BAD_URL' ? 'The request URL is not valid percent-encoding.' : 'Malformed request.';
}

/**
 * Node closes a CONNECT request's socket without a word unless someone listens for it; answer it like any other
 * request we do not serve: a Gemini-format 400, then close.
 */
export function refuseConnect(socket: Socket): void {
  const body = JSON.stringify({ error: { code: 400, message: 'CONNECT is not supported: this is a Gemini API server, not a forward proxy.', status: 'INVALID_ARGUMENT' } });
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
