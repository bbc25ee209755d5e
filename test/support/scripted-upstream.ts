/**
 * A scripted OpenAI-compatible upstream: a real HTTP server on loopback that answers each request with the next
 * queued script (raw SSE bytes, a JSON body, an error body, a stall, a reset) and records what it received. Tests
 * use the documented provider bytes (docs/providers.md) verbatim, so the proxy is exercised against real framing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  rawBody: string;
}

export type Script =
  /** Raw bytes written as given; each string is one write, with `delayMs` between writes. */
  | {
      kind: 'sse';
      writes: string[];
      delayMs?: number;
      status?: number;
      headers?: Record<string, string>;
      endAfter?: boolean;
      destroyAfter?: boolean;
      /** Nothing is sent, headers included, until this settles: an upstream slow to answer, for as long as the test needs. */
      startWhen?: Promise<unknown>;
      /** After the first `after` writes, the rest waits until `until` settles: a stream held open mid-way. */
      pause?: { after: number; until: Promise<unknown> };
    }
  | { kind: 'json'; status?: number; body: unknown; headers?: Record<string, string>; rawPrefix?: string }
  | { kind: 'text'; status: number; body: string; headers?: Record<string, string> }
  /** Accept the request and never answer (until the socket closes). */
  | { kind: 'stall' }
  /** Destroy the socket before any response byte. */
  | { kind: 'reset' }
  /** Compute the answer from the request. */
  | { kind: 'dynamic'; respond: (request: ReceivedRequest) => Script };

/** Turns an ```sse block from the spec (events separated by blank lines, `#` annotations) into raw SSE bytes. */
export function sseFromBlock(block: string, newline = '\n'): string {
  return block
    .split(/\n\s*\n/)
    .map((event) => event.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')))
    .filter((lines) => lines.length > 0)
    .map((lines) => lines.join(newline) + newline + newline)
    .join('');
}

/** Builds OpenAI-style `data:` events from chunk objects, ending with `data: [DONE]`. */
export function sseFromChunks(chunks: unknown[], options: { done?: boolean } = {}): string[] {
  const writes = chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`);
  if (options.done !== false) writes.push('data: [DONE]\n\n');
  return writes;
}

export class ScriptedUpstream {
  readonly received: ReceivedRequest[] = [];
  private readonly queue: Script[] = [];
  private fallback: Script | undefined;
  private readonly server: Server;
  private readonly openSockets = new Set<import('node:net').Socket>();
  /** Resolves when a request's connection closes, for abort timing tests. */
  readonly closedAt: number[] = [];
  port = 0;

  constructor() {
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.on('connection', (socket) => {
      this.openSockets.add(socket);
      socket.on('close', () => this.openSockets.delete(socket));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Queue scripts, answered in order; when the queue is empty the fallback (if any) answers. */
  enqueue(...scripts: Script[]): this {
    this.queue.push(...scripts);
    return this;
  }

  setFallback(script: Script | undefined): this {
    this.fallback = script;
    return this;
  }

  reset(): void {
    this.queue.length = 0;
    this.received.length = 0;
    this.closedAt.length = 0;
    this.fallback = undefined;
  }

  get pending(): number {
    return this.queue.length;
  }

  async stop(): Promise<void> {
    for (const socket of this.openSockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: unknown = undefined;
    try {
      body = rawBody === '' ? undefined : JSON.parse(rawBody);
    } catch {
      body = rawBody;
    }
    const received: ReceivedRequest = {
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      body,
      rawBody,
    };
    this.received.push(received);
    response.on('close', () => this.closedAt.push(Date.now()));
    let script = this.queue.shift() ?? this.fallback;
    if (script === undefined) {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'scripted upstream: no script queued', type: 'server_error' } }));
      return;
    }
    while (script.kind === 'dynamic') script = script.respond(received);
    await this.play(script, request, response);
  }

  private async play(
    script: Exclude<Script, { kind: 'dynamic' }>,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    switch (script.kind) {
      case 'stall':
        return;
      case 'reset':
        request.socket.destroy();
        return;
      case 'json':
        response.writeHead(script.status ?? 200, { 'content-type': 'application/json', ...script.headers });
        response.end((script.rawPrefix ?? '') + JSON.stringify(script.body));
        return;
      case 'text':
        response.writeHead(script.status, { 'content-type': 'text/plain', ...script.headers });
        response.end(script.body);
        return;
      case 'sse': {
        if (script.startWhen !== undefined) await script.startWhen;
        if (response.destroyed) return;
        response.writeHead(script.status ?? 200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          ...script.headers,
        });
        response.flushHeaders();
        let flushed: Promise<unknown> = Promise.resolve();
        for (const [index, write] of script.writes.entries()) {
          if (script.pause !== undefined && index === script.pause.after) await script.pause.until;
          if (response.destroyed) return;
          if (script.delayMs !== undefined && script.delayMs > 0)
            await new Promise((resolve) => setTimeout(resolve, script.delayMs));
          flushed = new Promise((resolve) => response.write(write, resolve));
        }
        if (script.pause !== undefined && script.pause.after >= script.writes.length) await script.pause.until;
        if (response.destroyed) return;
        if (script.destroyAfter === true) {
          // The bytes written leave first (the write callback), then the connection drops without an end.
          await flushed;
          request.socket.destroy();
          return;
        }
        if (script.endAfter !== false) response.end();
        return;
      }
    }
  }
}
