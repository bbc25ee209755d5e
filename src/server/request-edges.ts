/**
 * Request edges that Node and Fastify would answer outside the Gemini error format, or not at all as far as the
 * client can tell; all found by the fuzzer (test/fuzz): nesting too deep for what runs after JSON.parse, a URL Fastify
 * cannot decode, CONNECT, and error answers sent while the client is still uploading.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Deepest accepted nesting of arrays and objects in a request body. JSON.parse accepts any depth, but everything after
 * it recurses (JSON.stringify overflows its stack at about 10,000 levels, the schema translators earlier): a deeply
 * nested body made the proxy answer 500, and with detailed logs on crashed it when the request's trace was
 * serialised. 512 levels is far above what the tool schemas and arguments of real clients need.
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
    for (const child of children)
      if (typeof child === 'object' && child !== null) stack.push({ node: child, depth: depth + 1 });
  }
  return false;
}

/** The message for Fastify's framework errors (FST_ERR_BAD_URL: a path with broken percent-encoding). Never echoes the URL, which may carry `?key=`. */
export function frameworkErrorMessage(code: string | undefined): string {
  return code === 'FST_ERR_BAD_URL' ? 'The request URL is not valid percent-encoding.' : 'Malformed request.';
}

/** A complete HTTP/1.1 error response with a google.rpc.Status body, for answers written straight to a socket. */
export function rawErrorResponse(status: number, reason: string, message: string): string {
  const body = JSON.stringify({ error: { code: status, message, status: 'INVALID_ARGUMENT' } });
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Longest a connection is kept reading (and discarding) a request we already refused. */
export const LINGER_MS = 10_000;

const answered = new WeakSet<Socket>();

/**
 * Answers a request Node could not parse (oversized header block, malformed HTTP), then closes the way nginx's
 * lingering close does: our side is ended at once, but the connection is only torn down once the client stopped
 * sending (or after LINGER_MS). Closing with unread request bytes makes the kernel reset the connection, and the
 * client then sees ECONNRESET instead of the answer. Node reports the same broken request again for every further
 * chunk it receives: those reports are ignored instead of destroying the socket.
 */
export function answerClientError(socket: Socket, response: string): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(response);
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('end', () => socket.destroy());
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Node closes a CONNECT request's socket without a word unless someone listens for it; answer it like any other
 * request we do not serve: a Gemini-format 400, then close.
 */
export function refuseConnect(socket: Socket): void {
  answerClientError(
    socket,
    rawErrorResponse(400, 'Bad Request', 'CONNECT is not supported: this is a Gemini API server, not a forward proxy.'),
  );
}

/**
 * Runs `answer` once the client has finished sending the request body (read and discarded), or after LINGER_MS. For
 * a body over the limit: answering while the upload is still arriving and then closing resets the connection, and
 * the client sees EPIPE/ECONNRESET instead of the 413 (Gemini CLI would retry that as a network error, uploading
 * the same body again).
 */
export function afterUpload(request: IncomingMessage, answer: () => void): void {
  if (request.readableEnded || request.destroyed) {
    answer();
    return;
  }
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    answer();
  };
  const timer = setTimeout(finish, LINGER_MS);
  request.once('end', finish);
  request.once('close', finish);
  request.once('error', finish);
  request.resume();
}
