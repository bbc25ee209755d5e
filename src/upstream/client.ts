/**
 * The upstream HTTP client: one undici Agent per proxy (pooled keep-alive connections), POSTs through undici's
 * lowest-level `dispatch` (no Readable, abort-signal wrapper or promise chain per request; `undici.request` only for
 * the rare GETs), our own header and idle timeouts, and network failures turned into ProxyErrors that name the
 * upstream but never its key.
 */
import { Agent, errors as undiciErrors, request, util as undiciUtil, type Dispatcher } from 'undici';
import { ProxyError, errorInfo, quoteForMessage } from '../errors.js';
import { authHeaders, upstreamLabel, type UpstreamTarget } from './endpoints.js';
import type { CancelSignal } from './cancel.js';
import { UpstreamBody } from './stream-body.js';

export type { UpstreamTarget } from './endpoints.js';

export interface UpstreamTimeouts {
  connectSeconds: number;
  /** Idle time between body bytes before the upstream is given up ([R-TO-4]). */
  idleSeconds: number;
  /** Longest wait for the response headers of a streamed call. */
  headersSeconds: number;
  /** Longest wait for a unary call's headers (they come with the finished answer). */
  unarySeconds: number;
}

/** An upstream answer as the gateway reads it: a status, headers and the body, streamed or (unary calls) whole. */
export interface UpstreamReply {
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  body: UpstreamBody | Buffer;
}

export type UpstreamResponse = UpstreamReply;

/** A GET's answer, with undici's own body (dump, text, json). */
export interface UpstreamGetResponse {
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Dispatcher.ResponseData['body'];
}

/** The body as text, however it came. */
export async function readBody(body: UpstreamBody | Buffer): Promise<string> {
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The body as a stream, however it came (a whole Buffer: Kimi's builtin search answers a stream in one piece). */
export function bodyStream(body: UpstreamBody | Buffer): UpstreamBody {
  if (!Buffer.isBuffer(body)) return body;
  const whole = new UpstreamBody(() => undefined);
  whole.push(body);
  whole.end();
  return whole;
}

function abortReasonOf(signal: CancelSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new undiciErrors.RequestAbortedError();
}

/** An answer whose headers are parsed only when read: a successful call rarely needs them. */
class DispatchReply implements UpstreamReply {
  private parsed: UpstreamReply['headers'] | undefined;

  constructor(
    readonly statusCode: number,
    private readonly rawHeaders: Buffer[],
    readonly body: UpstreamBody | Buffer,
  ) {}

  get headers(): UpstreamReply['headers'] {
    return (this.parsed ??= undiciUtil.parseHeaders(this.rawHeaders));
  }
}

/** How long a POST may wait for its response headers, and for each next body byte (0: no limit). */
interface PostTimeouts {
  headersMs: number;
  idleMs: number;
}

/** A PostExchange's timer fired: the upstream took too long for its headers, or went quiet in its body. */
function postTimedOut(exchange: PostExchange): void {
  exchange.timedOut();
}

/**
 * undici's handler for one POST, as a class: its methods live on the prototype instead of being fresh closures per
 * request. Per-request closures stored where long-lived code calls them kept whole requests alive through young
 * GCs (see ResponseChannel's owner); this path makes none but the abort listener.
 *
 * The header and idle timeouts are one native timer here rather than undici's: undici makes a new FastTimer at every
 * switch between its keep-alive, header and body timeouts and frees them only at its next 0.5 s tick, so each
 * request's timers outlived the young GC (bench/gc.mjs: the floor promotes 1 byte per request without them, 81–169
 * with them). Its errors are undici's own, so classification is unchanged.
 */
class PostExchange {
  private abortRequest: ((reason?: Error) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Set when a timeout fired before undici handed over its abort function. */
  private pendingAbort: Error | undefined;
  /** 0 until the response headers came. */
  private statusCode = 0;
  private rawHeaders: Buffer[] = [];
  private readonly chunks: Buffer[] = [];
  private streamed: UpstreamBody | undefined;
  private readonly onAbort = (): void => this.abortRequest?.(abortReasonOf(this.signal));

  constructor(
    private readonly signal: CancelSignal,
    private readonly stream: boolean,
    private readonly timeouts: PostTimeouts,
    private readonly resolve: (reply: UpstreamResponse) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    signal.addEventListener('abort', this.onAbort, { once: true });
    if (timeouts.headersMs > 0) this.timer = setTimeout(postTimedOut, timeouts.headersMs, this);
  }

  timedOut(): void {
    this.timer = undefined;
    const error = this.statusCode !== 0 ? new undiciErrors.BodyTimeoutError() : new undiciErrors.HeadersTimeoutError();
    if (this.abortRequest === undefined) this.pendingAbort = error;
    else this.abortRequest(error);
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  onConnect(abortRequest: (reason?: Error) => void): void {
    this.abortRequest = abortRequest;
    if (this.pendingAbort !== undefined) abortRequest(this.pendingAbort);
    else if (this.signal.aborted) abortRequest(abortReasonOf(this.signal));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    this.statusCode = statusCode;
    this.rawHeaders = rawHeaders;
    this.stopTimer();
    if (this.timeouts.idleMs > 0) this.timer = setTimeout(postTimedOut, this.timeouts.idleMs, this);
    if (!this.stream) return true;
    const streamed = new UpstreamBody((reason) => this.abortRequest?.(reason));
    streamed.setResume(resume);
    this.streamed = streamed;
    this.resolve(new DispatchReply(statusCode, rawHeaders, streamed));
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.timer?.refresh();
    if (this.streamed !== undefined) return this.streamed.push(chunk);
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    this.stopTimer();
    this.signal.removeEventListener('abort', this.onAbort);
    if (this.streamed !== undefined) {
      this.streamed.end();
      return;
    }
    const { chunks } = this;
    this.resolve(
      new DispatchReply(
        this.statusCode,
        this.rawHeaders,
        chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks),
      ),
    );
  }

  onError(error: Error): void {
    this.stopTimer();
    this.signal.removeEventListener('abort', this.onAbort);
    if (this.streamed !== undefined) this.streamed.fail(error);
    else this.reject(error);
  }
}

/** Origin and path of an upstream URL, parsed once per distinct URL (a proxy talks to a handful). */
const parsedUrls = new Map<string, { origin: string; path: string }>();
function originAndPath(url: string): { origin: string; path: string } {
  let found = parsedUrls.get(url);
  if (found === undefined) {
    const parsed = new URL(url);
    found = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    if (parsedUrls.size < 256) parsedUrls.set(url, found);
  }
  return found;
}

const encoder = new TextEncoder();
let scratch: Uint8Array | undefined;
const SCRATCH_BYTES = 512 * 1024;

/**
 * A request body's UTF-8 bytes. undici would call Buffer.from on a string body; for a large body holding non-Latin-1
 * text (Gemini CLI's system prompt) TextEncoder.encodeInto into a scratch buffer plus a copy costs less: CPU per
 * 49.5 KB CLI request through the server 887.6 -> 869.7 us (bench/cost.mjs A/B, 7 x 1,500 at c=1). Small bodies, and
 * bodies that do not fit the scratch space, keep Buffer.from.
 */
export function utf8Body(text: string): Buffer {
  if (text.length < 4096 || text.length > SCRATCH_BYTES) return Buffer.from(text);
  scratch ??= new Uint8Array(SCRATCH_BYTES);
  const { read, written } = encoder.encodeInto(text, scratch);
  return read === text.length ? Buffer.from(scratch.subarray(0, written)) : Buffer.from(text);
}

/** One POST to an upstream: UpstreamClient.post, or a loop around it (Kimi's builtin web search, src/search/). */
export type UpstreamPost = (
  target: UpstreamTarget,
  url: string,
  body: string,
  signal: CancelSignal,
  stream: boolean,
) => Promise<UpstreamReply>;

const USER_AGENT = 'gemini-proxy/0.1';

/**
 * A streaming upstream sends its headers when it accepts the request, so `upstream_headers_seconds` can be short; a
 * unary one sends them with the finished answer (Gemini CLI's utility calls, /compress of a long history), so unary
 * calls wait `upstream_unary_seconds`.
 */
function headersWaitSeconds(timeouts: { headersSeconds: number; unarySeconds: number }, stream: boolean): number {
  return stream ? timeouts.headersSeconds : timeouts.unarySeconds;
}

export class UpstreamClient {
  private readonly agent: Agent;
  /** A POST's timeouts when its target names none (undici's defaults for the GETs are the same). */
  private readonly defaultPostTimeouts: PostTimeouts;

  constructor(timeouts: UpstreamTimeouts) {
    this.defaultPostTimeouts = {
      headersMs: headersWaitSeconds(timeouts, false) * 1000,
      idleMs: timeouts.idleSeconds * 1000,
    };
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connectTimeout: timeouts.connectSeconds * 1000,
      headersTimeout: headersWaitSeconds(timeouts, false) * 1000,
      bodyTimeout: timeouts.idleSeconds * 1000,
      pipelining: 1,
    });
  }

  /**
   * POSTs JSON to a full URL (see endpoints.ts) with the target's credentials. A streamed call answers at the headers
   * with an UpstreamBody; a unary one answers with the whole body in one Buffer.
   */
  async post(
    target: UpstreamTarget,
    url: string,
    body: string,
    signal: CancelSignal,
    stream: boolean,
  ): Promise<UpstreamResponse> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
      'user-agent': USER_AGENT,
      ...authHeaders(target),
    };
    const timeouts =
      target.timeouts === undefined
        ? this.defaultPostTimeouts
        : {
            headersMs: headersWaitSeconds(target.timeouts, stream) * 1000,
            idleMs: target.timeouts.idleSeconds * 1000,
          };
    try {
      return await this.dispatchPost(url, headers, body, signal, timeouts, stream);
    } catch (error) {
      throw networkError(error, target, stream);
    }
  }

  /**
   * One POST through undici's `dispatch`. A unary call resolves when the body is complete, with the whole body in one
   * Buffer; a streamed one resolves at the headers, with an UpstreamBody that the handler keeps feeding.
   */
  private dispatchPost(
    url: string,
    headers: Record<string, string>,
    body: string,
    signal: CancelSignal,
    timeouts: PostTimeouts,
    stream: boolean,
  ): Promise<UpstreamResponse> {
    if (signal.aborted) return Promise.reject(abortReasonOf(signal));
    const { origin, path } = originAndPath(url);
    return new Promise<UpstreamResponse>((resolve, reject) => {
      this.agent.dispatch(
        // undici's own header and body timers off: PostExchange keeps one native timer instead.
        { origin, path, method: 'POST', headers, body: utf8Body(body), headersTimeout: 0, bodyTimeout: 0 },
        new PostExchange(signal, stream, timeouts, resolve, reject),
      );
    });
  }

  async get(target: UpstreamTarget, path: string, signal: AbortSignal): Promise<UpstreamGetResponse> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': USER_AGENT,
      ...authHeaders(target),
    };
    try {
      const response = await request(joinUrl(target.baseUrl, path), {
        method: 'GET',
        headers,
        signal,
        dispatcher: this.agent,
      });
      return { statusCode: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      throw networkError(error, target, false);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const cause = (error as { cause?: unknown }).cause;
    if (cause !== undefined && cause !== error) return errorCode(cause);
  }
  return '';
}

const TLS_FAILURE = /CERT|SSL|TLS|EPROTO|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME_MISMATCH|ALTNAME/;

/** The base URL as a message may show it: no user name or password, no query (either may hold a credential). */
export function displayBaseUrl(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Network-level failures, each as one sentence that names the upstream and what to do ([R-ERR-8]). Timeouts → 504 and
 * drops → 503, both retried by Gemini CLI. Nothing listening, an unknown host and a failed TLS handshake will not heal
 * by waiting: UPSTREAM_UNREACHABLE, which clients do not retry (docs/gemini-contract.md §6.3). `stream` says which
 * header timeout applied, when known.
 */
export function networkError(error: unknown, target: UpstreamTarget, stream?: boolean): ProxyError {
  if (error instanceof ProxyError) return error;
  const code = errorCode(error);
  const subject = `Upstream ${upstreamLabel(target)} at ${displayBaseUrl(target.baseUrl)}`;
  const metadata: Record<string, string> = { provider: target.provider, network_error: code || 'unknown' };
  const timeout = (text: string, seconds: number | undefined): ProxyError => {
    const details = seconds === undefined ? metadata : { ...metadata, timeout_seconds: String(seconds) };
    return new ProxyError('UPSTREAM_TIMEOUT', text, [errorInfo('UPSTREAM_TIMEOUT', details)]);
  };
  const unreachable = (text: string): ProxyError =>
    new ProxyError('UPSTREAM_UNREACHABLE', text, [errorInfo('UPSTREAM_UNREACHABLE', metadata)]);
  if (error instanceof undiciErrors.HeadersTimeoutError || code === 'UND_ERR_HEADERS_TIMEOUT') {
    const setting = stream === false ? 'timeouts.upstream_unary_seconds' : 'timeouts.upstream_headers_seconds';
    const seconds = stream === false ? target.timeouts?.unarySeconds : target.timeouts?.headersSeconds;
    const within = seconds === undefined ? 'in time' : `in time (${seconds} s)`;
    return timeout(
      stream === undefined
        ? `${subject} sent no response headers in time: raise timeouts.upstream_headers_seconds (streams) or upstream_unary_seconds (unary calls) if it needs longer to start answering.`
        : `${subject} sent no response headers ${within}: raise ${setting} if it needs longer to start answering.`,
      seconds,
    );
  }
  if (error instanceof undiciErrors.BodyTimeoutError || code === 'UND_ERR_BODY_TIMEOUT') {
    const seconds = target.timeouts?.idleSeconds;
    return timeout(
      `${subject} stopped sending data${seconds === undefined ? '' : ` for ${seconds} s`}: raise timeouts.upstream_idle_seconds if the model thinks silently for longer.`,
      seconds,
    );
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT')
    return timeout(
      `${subject} did not accept a connection in time: check the base URL and the network.`,
      target.timeouts?.connectSeconds,
    );
  if (code === 'ECONNREFUSED') {
    const hint = target.profile.unreachableHint ?? 'check that the server is running and that the base URL is right';
    return unreachable(`${subject} refused the connection (nothing listens there): ${hint}.`);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return unreachable(`${subject} could not be resolved: check the host name in the base URL.`);
  if (TLS_FAILURE.test(code))
    return unreachable(
      `${subject} failed the TLS handshake (${code}): check the URL scheme (http or https) and the server certificate.`,
    );
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET')
    return new ProxyError('UPSTREAM_UNAVAILABLE', `${subject} closed the connection unexpectedly.`, [
      errorInfo('UPSTREAM_CONNECTION_LOST', metadata),
    ]);
  const detail = code || (error instanceof Error ? quoteForMessage(error.message, 120) : '') || 'unknown error';
  return new ProxyError('UPSTREAM_UNAVAILABLE', `${subject} is unreachable (${detail}).`, [
    errorInfo('UPSTREAM_CONNECTION_LOST', metadata),
  ]);
}
