/**
 * The three ways a generate answer leaves the proxy — SSE (`alt=sse`), a streamed JSON array (no `alt`) and unary
 * JSON — behind one interface: commit headers, send responses, heartbeat, fail, end. Each knows its own framing and
 * its own form of a late error (docs/gemini-contract.md §5, §6.5, §7).
 */
import type { ServerResponse } from 'node:http';
import type { ProxyError } from '../errors.js';
import type { GenerateContentResponse } from '../translate/gemini-types.js';

/** Gap between the last event and a mid-stream error object, so that a client reads them apart ([R-ERR-5]). */
const FAIL_WRITE_GAP_MS = 100;

/** JSON.stringify leaves U+2028/U+2029 raw; SDK 1.30's line regex stops at them ([R-SSE-8], [R-PART-4]). */
export function encodeJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json.includes('\u2028') || json.includes('\u2029'))
    return json.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return json;
}

/** One SSE event exactly as SDK 1.30 parses it: `data: ` + one line of JSON + a blank line ([R-SSE-2]). */
export function frameSseEvent(response: unknown): string {
  return `data: ${encodeJson(response)}\r\n\r\n`;
}

/** Resolves when the socket takes more, or the client left; leaves no listener behind (a slow stream waits often). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

const ERROR_HEADERS = { 'content-type': 'application/json; charset=UTF-8' };

export function writeErrorResponse(
  res: ServerResponse,
  error: ProxyError,
  extraHeaders: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(error.httpStatus, { ...ERROR_HEADERS, ...extraHeaders });
  res.end(encodeJson(error.toGoogleStatus()));
}

export type ChannelKind = 'sse' | 'json-array' | 'unary';

/** Told right before the response ends, so that the access and detailed logs (written on close) see final state. */
export interface ChannelOwner {
  beforeEnd(): void;
}

export class ResponseChannel {
  private readonly res: ServerResponse;
  private readonly kind: ChannelKind;
  private committed = false;
  /** Headers written but not yet flushed (see commit). */
  private headersPending = false;
  private elements = 0;
  private lastWrite = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Everything sent, for the detailed log's fourth stage; only kept when asked for. */
  readonly sent: unknown[] | undefined;
  /** hrtime of the first content write, for time-to-first-chunk. */
  firstContentAt: bigint | undefined;
  /** The last usageMetadata sent, and the status of an error sent. */
  lastUsage: GenerateContentResponse['usageMetadata'];
  errorStatus: string | undefined;
  errorCode: string | undefined;
  /**
   * An object, not a callback: a per-request closure stored here (the request run's `() => this.finalizeInfo()`) kept
   * each whole request alive through young GCs, promoting ~400 bytes per request to the old generation
   * (--trace-gc-nvp, docs/performance.md).
   */
  private readonly owner: ChannelOwner | undefined;

  constructor(res: ServerResponse, kind: ChannelKind, keepSent: boolean, owner?: ChannelOwner) {
    this.res = res;
    this.kind = kind;
    this.sent = keepSent ? [] : undefined;
    this.owner = owner;
  }

  get isCommitted(): boolean {
    return this.committed;
  }

  get isOpen(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  /**
   * Sends 200 and the headers; starts heartbeats every `heartbeatSeconds` of silence. The headers are flushed at once
   * ([R-TO-1]), unless `firstEventBuffered` says the upstream's first body bytes arrived together with its headers:
   * then the flush waits for the end of this event-loop turn, so the first event, translated in the same turn, leaves
   * in the same packet as the headers (one client wake-up instead of two). Nothing waits on I/O either way: the
   * headers still leave in the turn the upstream answered.
   */
  commit(heartbeatSeconds: number, firstEventBuffered = false): void {
    if (this.committed || !this.isOpen) return;
    this.committed = true;
    const headers: Record<string, string> =
      this.kind === 'sse'
        ? { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }
        : { 'content-type': 'application/json; charset=UTF-8' };
    this.res.writeHead(200, headers);
    if (firstEventBuffered) {
      this.headersPending = true;
      setImmediate(() => {
        if (this.headersPending && this.isOpen) this.res.flushHeaders();
        this.headersPending = false;
      });
    } else {
      // Flush the headers to the client right away, before any body byte exists ([R-TO-1]).
      this.res.flushHeaders();
    }
    this.lastWrite = Date.now();
    const periodMs = heartbeatSeconds * 1000;
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastWrite >= periodMs - 50) this.write(this.kind === 'unary' ? ' ' : '\r\n');
    }, periodMs);
    this.heartbeat.unref();
  }

  private write(text: string): boolean {
    if (!this.isOpen) return true;
    // Unflushed headers leave with this write.
    this.headersPending = false;
    this.lastWrite = Date.now();
    return this.res.write(text);
  }

  /** Sends stream responses in one write; resolves once the socket can take more (back-pressure, [R-SSE-12]). */
  async send(responses: GenerateContentResponse[], heartbeatSeconds: number): Promise<void> {
    if (responses.length === 0) return;
    if (!this.committed) this.commit(heartbeatSeconds);
    this.firstContentAt ??= process.hrtime.bigint();
    let text = '';
    for (const response of responses) {
      this.sent?.push(response);
      if (response.usageMetadata !== undefined) this.lastUsage = response.usageMetadata;
      if (this.kind === 'sse') {
        text += frameSseEvent(response);
        this.elements += 1;
      } else if (this.kind === 'json-array') text += `${this.elements++ === 0 ? '[' : ',\r\n'}${encodeJson(response)}`;
      else text += encodeJson(response);
    }
    if (!this.write(text) && this.isOpen) await drainedOrClosed(this.res);
  }

  /** Unary success: the whole body at once (after any heartbeat whitespace). */
  sendUnary(response: GenerateContentResponse): void {
    this.sent?.push(response);
    this.firstContentAt ??= process.hrtime.bigint();
    this.lastUsage = response.usageMetadata;
    const body = encodeJson(response);
    if (!this.committed) {
      this.stopHeartbeat();
      this.committed = true;
      this.res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    }
    this.owner?.beforeEnd();
    this.res.end(body);
  }

  /**
   * An error. Before the commit it is a real HTTP status with a google.rpc.Status body. After it: SSE gets the raw,
   * unframed error object in its own write, which SDK 1.30 turns into an ApiError with that status ([R-ERR-5]);
   * a JSON array gets an error element; unary gets the error object as its body ([R-TO-3]).
   */
  fail(error: ProxyError): void {
    this.sent?.push(error.toGoogleStatus());
    this.errorStatus = error.status;
    this.errorCode = error.code;
    this.stopHeartbeat();
    if (!this.isOpen) return;
    this.owner?.beforeEnd();
    if (!this.committed) {
      writeErrorResponse(this.res, error);
      return;
    }
    const body = encodeJson(error.toGoogleStatus());
    if (this.kind === 'json-array') this.res.end(`${this.elements++ === 0 ? '[' : ',\r\n'}${body}]`);
    else if (this.kind === 'sse' && this.elements > 0) {
      // SDK 1.30 recognises the error only when one network read is exactly this object: let the earlier events
      // reach the client first so the two are not read together. 25 ms was too short on a busy machine (the fault
      // matrix saw both in one read); a failure path can afford 100 ms.
      setTimeout(() => this.res.end(body), FAIL_WRITE_GAP_MS).unref();
    } else this.res.end(body);
  }

  end(): void {
    this.stopHeartbeat();
    if (!this.isOpen) return;
    this.owner?.beforeEnd();
    if (this.kind === 'json-array') this.res.end(this.elements === 0 ? '[]' : ']');
    else this.res.end();
  }

  stopHeartbeat(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
