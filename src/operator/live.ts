/**
 * The dashboard's live request list: the last finished requests in memory, numbered so the page can ask for "what is
 * new since N". Only the newest few keep their detailed-log stages (they can be large); after a restart the list is
 * seeded from the usage store, without stages.
 */
import type { RequestRecord } from '../server/context.js';
import { isErrorRecord, type StoredRequest } from './usage-store.js';

export interface LiveEntry extends StoredRequest {
  seq: number;
  error: boolean;
  hasTrace: boolean;
  attempts?: string[];
  client?: string;
  /** The upstream error message, when the request failed (also mid-stream). */
  errorMessage?: string;
  /** True for entries read back from the usage store at start. */
  stored: boolean;
}

export interface LiveDetail extends LiveEntry {
  trace?: unknown;
}

export class LiveRequests {
  private readonly entries: LiveEntry[] = [];
  private readonly traces = new Map<string, unknown>();
  private readonly traceOrder: string[] = [];
  private seq = 0;

  constructor(
    private readonly capacity = 500,
    private readonly traceCapacity = 50,
  ) {}

  get lastSeq(): number {
    return this.seq;
  }

  seed(stored: StoredRequest[]): void {
    for (const request of stored) this.push({ ...request, seq: 0, error: isErrorRecord(request), hasTrace: false, stored: true });
  }

  add(record: RequestRecord): LiveEntry {
    const entry: LiveEntry = {
      seq: 0,
      requestId: record.requestId,
      time: record.time,
      method: record.method,
      path: record.path,
      model: record.model,
      upstreamModel: record.upstreamModel,
      provider: record.provider,
      stream: record.stream,
      status: record.status,
      errorStatus: record.errorStatus,
      upstreamError: record.upstreamError,
      durationMs: record.durationMs,
      firstChunkMs: record.firstChunkMs,
      promptTokens: record.promptTokens,
      outputTokens: record.outputTokens,
      thoughtsTokens: record.thoughtsTokens,
      clientClosed: record.clientClosed,
      error: isErrorRecord(record),
      hasTrace: record.trace !== undefined,
      stored: false,
    };
    if (record.attempts !== undefined) entry.attempts = record.attempts;
    if (record.client !== undefined) entry.client = record.client;
    if (record.errorMessage !== undefined) entry.errorMessage = record.errorMessage;
    this.push(entry);
    if (record.trace !== undefined) {
      this.traces.set(record.requestId, record.trace);
      this.traceOrder.push(record.requestId);
      while (this.traceOrder.length > this.traceCapacity) {
        const dropped = this.traceOrder.shift();
        if (dropped === undefined) break;
        this.traces.delete(dropped);
        const old = this.entries.find((candidate) => candidate.requestId === dropped);
        if (old !== undefined) old.hasTrace = false;
      }
    }
    return entry;
  }

  private push(entry: LiveEntry): void {
    this.seq += 1;
    entry.seq = this.seq;
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  /** Entries with a number above `after`, oldest first, at most `limit` (the newest ones). */
  since(after: number, limit: number): LiveEntry[] {
    const newer = this.entries.filter((entry) => entry.seq > after);
    return newer.slice(Math.max(0, newer.length - limit));
  }

  get(requestId: string): LiveDetail | undefined {
    for (let index = this.entries.length - 1; index >= 0; index -= 1) {
      const entry = this.entries[index];
      if (entry?.requestId !== requestId) continue;
      const trace = this.traces.get(requestId);
      return trace === undefined ? { ...entry } : { ...entry, trace };
    }
    return undefined;
  }

  /** Requests, errors and latency over the last `windowMs` (live entries only), for the health panel. */
  recent(windowMs: number, now = Date.now()): { requests: number; errors: number; lastError: LiveEntry | undefined } {
    let requests = 0;
    let errors = 0;
    let lastError: LiveEntry | undefined;
    for (const entry of this.entries) {
      if (entry.stored || now - Date.parse(entry.time) > windowMs) continue;
      requests += 1;
      if (entry.error) {
        errors += 1;
        lastError = entry;
      }
    }
    return { requests, errors, lastError };
  }
}
