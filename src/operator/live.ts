/**
 * The dashboard's live request list: the last finished requests in memory, numbered so the page can ask for "what is
 * new since N". Only the newest few keep their detailed-log stages (they can be large); after a restart the list is
 * seeded from the usage store, without stages.
 */
import type { RequestRecord } from '../server/context.js';
import { isErrorRecord, type StoredRequest } from './usage-store.js';
import { describeWebSearch } from '../search/web-search.js';

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
  private readonly traces = new Map<string, { trace: unknown; bytes: number }>();
  private readonly traceOrder: string[] = [];
  private traceBytes = 0;
  private seq = 0;

  /** `traceBudgetBytes`: the most memory the kept traces may take together (JSON size); the oldest go first. */
  constructor(
    private readonly capacity = 500,
    private readonly traceCapacity = 50,
    private traceBudgetBytes = 32 * 1024 * 1024,
  ) {}

  /** Memory the kept traces take now (JSON size). */
  get keptTraceBytes(): number {
    return this.traceBytes;
  }

  setTraceBudget(bytes: number): void {
    this.traceBudgetBytes = bytes;
    this.trimTraces();
  }

  private trimTraces(): void {
    while (
      this.traceOrder.length > this.traceCapacity ||
      (this.traceBytes > this.traceBudgetBytes && this.traceOrder.length > 0)
    ) {
      const dropped = this.traceOrder.shift();
      if (dropped === undefined) break;
      this.traceBytes -= this.traces.get(dropped)?.bytes ?? 0;
      this.traces.delete(dropped);
      const old = this.entries.find((candidate) => candidate.requestId === dropped);
      if (old !== undefined) old.hasTrace = false;
    }
  }

  get lastSeq(): number {
    return this.seq;
  }

  seed(stored: StoredRequest[]): void {
    for (const request of stored)
      this.push({ ...request, seq: 0, error: isErrorRecord(request), hasTrace: false, stored: true });
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
    if (record.webSearch !== undefined)
      entry.webSearch = `${describeWebSearch(record.webSearch)} for "${record.webSearch.query.slice(0, 160)}"`;
    this.push(entry);
    if (record.trace !== undefined) {
      const bytes = record.traceBytes ?? JSON.stringify(record.trace).length;
      if (bytes > this.traceBudgetBytes) {
        entry.hasTrace = false;
      } else {
        this.traces.set(record.requestId, { trace: record.trace, bytes });
        this.traceOrder.push(record.requestId);
        this.traceBytes += bytes;
        this.trimTraces();
      }
    }
    return entry;
  }

  private push(entry: LiveEntry): void {
    this.seq += 1;
    entry.seq = this.seq;
    this.entries.push(entry);
    // shift() trims an array's front in place; splice(0, 1) moved all 500 entries every request.
    while (this.entries.length > this.capacity) this.entries.shift();
  }

  /** Entries with a number above `after`, oldest first, at most `limit` (the newest ones); only `client`'s when given. */
  since(after: number, limit: number, client?: string): LiveEntry[] {
    const newer = this.entries.filter(
      (entry) => entry.seq > after && (client === undefined || entry.client === client),
    );
    return newer.slice(Math.max(0, newer.length - limit));
  }

  get(requestId: string): LiveDetail | undefined {
    for (let index = this.entries.length - 1; index >= 0; index -= 1) {
      const entry = this.entries[index];
      if (entry?.requestId !== requestId) continue;
      const kept = this.traces.get(requestId);
      return kept === undefined ? { ...entry } : { ...entry, trace: kept.trace };
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
