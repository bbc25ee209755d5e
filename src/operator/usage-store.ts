/**
 * Usage that survives restarts: one row per finished Gemini request (model, upstream model, status, durations,
 * tokens; never prompt or answer content) in an embedded SQLite database, aggregated per model and time bucket for the
 * dashboard's charts. The driver is libsql (better-sqlite3's API) because its binaries ship inside npm packages:
 * installing never compiles C++. Rows are written in batches off the request path (every 500 ms or 64 rows, and on
 * close) by a writer thread (usage-writer.ts), so that no insert or checkpoint blocks the event loop, and deleted
 * after `retention_days`. Several worker processes may share one file (WAL, busy timeout).
 */
import { fileModes, preparePrivateFileSync, type FileModes } from '../shared/private-files.js';
import Database from 'libsql';
import { Worker } from 'node:worker_threads';
import { buildSeries, type AggregateRow, type DurationRow, type UsageSeries } from './usage-series.js';
import { INSERT_SQL, type UsageWriterData, type UsageWriterMessage } from './usage-sql.js';
import type { RequestRecord } from '../server/context.js';
import { describeWebSearch } from '../search/web-search.js';

/** 2 added `client` (the key name, or the address without keys), so a client's dashboard shows only its own usage. */
const SCHEMA_VERSION = 2;
const FLUSH_MS = 500;
const FLUSH_ROWS = 64;
const PRUNE_EVERY_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Longest a read waits for the writer thread to finish the batches queued before it. */
const SYNC_WAIT_MS = 10_000;

/** A stored request, as the dashboard lists it (a RequestRecord without the trace). */
export interface StoredRequest {
  requestId: string;
  time: string;
  method: string;
  path: string;
  model: string | undefined;
  upstreamModel: string | undefined;
  provider: string;
  stream: boolean;
  status: number;
  errorStatus: string | undefined;
  upstreamError: string | undefined;
  durationMs: number;
  firstChunkMs: number | undefined;
  promptTokens: number;
  outputTokens: number;
  thoughtsTokens: number;
  clientClosed: boolean;
  /** The client (key name, or `ip:…` without keys); absent on rows written before schema 2. */
  client?: string;
  /** The web search made for googleSearch, as the access log shows it (never the query). */
  webSearch?: string;
}

interface Row {
  id: number;
  ts: number;
  request_id: string;
  method: string;
  path: string;
  model: string | null;
  upstream_model: string | null;
  provider: string;
  stream: number;
  status: number;
  error_status: string | null;
  upstream_error: string | null;
  duration_ms: number;
  first_chunk_ms: number | null;
  prompt_tokens: number;
  output_tokens: number;
  thoughts_tokens: number;
  client_closed: number;
  client: string | null;
  web_search: string | null;
}

export { percentile } from './usage-series.js';
export type { ModelTotals, SeriesPoint, UsageSeries } from './usage-series.js';

/** An error is a non-2xx answer or an error sent after a 200 commit; a client that went away is not one. */
export function isErrorRecord(record: { status: number; errorStatus?: string | undefined }): boolean {
  return (record.status >= 400 && record.status !== 499) || record.errorStatus !== undefined;
}

function toStored(row: Row): StoredRequest {
  return {
    requestId: row.request_id,
    time: new Date(row.ts).toISOString(),
    method: row.method,
    path: row.path,
    model: row.model ?? undefined,
    upstreamModel: row.upstream_model ?? undefined,
    provider: row.provider,
    stream: row.stream === 1,
    status: row.status,
    errorStatus: row.error_status ?? undefined,
    upstreamError: row.upstream_error ?? undefined,
    durationMs: row.duration_ms,
    firstChunkMs: row.first_chunk_ms ?? undefined,
    promptTokens: row.prompt_tokens,
    outputTokens: row.output_tokens,
    thoughtsTokens: row.thoughts_tokens,
    clientClosed: row.client_closed === 1,
    ...(row.client === null ? {} : { client: row.client }),
    ...(row.web_search === null ? {} : { webSearch: row.web_search }),
  };
}

export interface UsageStoreOptions {
  retentionDays: number;
  /** Mode of the database file (SQLite gives its -wal and -shm files the same); owner-only by default. */
  modes?: FileModes;
  now?: () => number;
}

export class UsageStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly insertStatement: Database.Statement;
  private readonly insertMany: (records: RequestRecord[]) => void;
  private pending: RequestRecord[] = [];
  /** The writer thread (file databases), its acknowledged-batch cell, and the last batch number sent to it. */
  private writer: { worker: Worker; acknowledged: Int32Array; sent: number } | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly pruneTimer: NodeJS.Timeout;
  private retentionDays: number;
  private readonly now: () => number;
  private closed = false;

  /** Opens (creating when needed) the database at `path`, or an in-memory one for ":memory:". */
  constructor(path: string, options: UsageStoreOptions) {
    this.path = path;
    this.now = options.now ?? Date.now;
    this.retentionDays = options.retentionDays;
    if (path !== ':memory:') preparePrivateFileSync(path, options.modes ?? fileModes(false));
    this.db = new Database(path);
    // First, so that workers opening the file at the same moment wait for each other instead of failing.
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION)
      throw new Error(`${path} was written by a newer gemini-proxy (usage schema ${version})`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS requests (
        id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        request_id TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        model TEXT,
        upstream_model TEXT,
        provider TEXT NOT NULL,
        stream INTEGER NOT NULL,
        status INTEGER NOT NULL,
        error_status TEXT,
        upstream_error TEXT,
        duration_ms REAL NOT NULL,
        first_chunk_ms REAL,
        prompt_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        thoughts_tokens INTEGER NOT NULL,
        client_closed INTEGER NOT NULL,
        client TEXT,
        web_search TEXT
      );
      CREATE INDEX IF NOT EXISTS requests_ts ON requests (ts);
    `);
    const columns = this.db.prepare('PRAGMA table_info(requests)').all() as Array<{ name: string }>;
    if (!columns.some((column) => column.name === 'client'))
      this.db.exec('ALTER TABLE requests ADD COLUMN client TEXT');
    if (!columns.some((column) => column.name === 'web_search'))
      this.db.exec('ALTER TABLE requests ADD COLUMN web_search TEXT');
    this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    this.insertStatement = this.db.prepare(INSERT_SQL);
    this.insertMany = this.db.transaction((records: RequestRecord[]) => {
      for (const record of records) this.insertStatement.run(this.toRow(record));
    });
    if (path !== ':memory:') this.writer = startWriter(path, () => (this.writer = undefined));
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  private toRow(record: RequestRecord): Omit<Row, 'id'> {
    const ts = Date.parse(record.time);
    return {
      ts: Number.isFinite(ts) ? ts : this.now(),
      request_id: record.requestId,
      method: record.method,
      path: record.path,
      model: record.model ?? null,
      upstream_model: record.upstreamModel ?? null,
      provider: record.provider,
      stream: record.stream ? 1 : 0,
      status: record.status,
      error_status: record.errorStatus ?? null,
      upstream_error: record.upstreamError ?? null,
      duration_ms: Math.round(record.durationMs * 1000) / 1000,
      first_chunk_ms: record.firstChunkMs === undefined ? null : Math.round(record.firstChunkMs * 1000) / 1000,
      prompt_tokens: record.promptTokens,
      output_tokens: record.outputTokens,
      thoughts_tokens: record.thoughtsTokens,
      client_closed: record.clientClosed ? 1 : 0,
      client: record.client ?? null,
      web_search: record.webSearch === undefined ? null : describeWebSearch(record.webSearch),
    };
  }

  /** Queues one finished request; written within FLUSH_MS. */
  add(record: RequestRecord): void {
    if (this.closed) return;
    this.pending.push(record);
    if (this.pending.length >= FLUSH_ROWS) this.send();
    else if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => this.send(), FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  /** Hands the queued rows to the writer thread (or writes them here when there is none); does not wait. */
  private send(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0 || this.closed) return;
    const batch = this.pending;
    this.pending = [];
    const writer = this.writer;
    if (writer === undefined) {
      this.insertMany(batch);
      return;
    }
    writer.sent += 1;
    const message: UsageWriterMessage = { sequence: writer.sent, rows: batch.map((record) => this.toRow(record)) };
    writer.worker.postMessage(message);
  }

  /** Writes every queued row: when it returns, a read (here or by another process) sees them all. */
  flush(): void {
    this.send();
    const writer = this.writer;
    if (writer === undefined) return;
    const deadline = Date.now() + SYNC_WAIT_MS;
    for (;;) {
      const done = Atomics.load(writer.acknowledged, 0);
      if (done >= writer.sent || this.writer === undefined) return;
      const left = deadline - Date.now();
      if (left <= 0) return;
      Atomics.wait(writer.acknowledged, 0, done, left);
    }
  }

  retentionDaysInForce(): number {
    return this.retentionDays;
  }

  setRetentionDays(days: number): void {
    this.retentionDays = days;
    this.prune();
  }

  /** Deletes rows older than the retention; returns how many. */
  prune(): number {
    if (this.closed || this.retentionDays <= 0) return 0;
    const cutoff = this.now() - this.retentionDays * DAY_MS;
    return this.db.prepare('DELETE FROM requests WHERE ts < ?').run(cutoff).changes;
  }

  count(): number {
    this.flush();
    return (this.db.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n;
  }

  /** The newest `limit` requests, oldest first. */
  recent(limit: number): StoredRequest[] {
    this.flush();
    const rows = this.db.prepare('SELECT * FROM requests ORDER BY ts DESC, id DESC LIMIT ?').all(limit) as Row[];
    return rows.reverse().map(toStored);
  }

  /** Per model and bucket: requests, errors, tokens and latency percentiles between `from` and `to` (ms); one client's only when given. */
  series(from: number, to: number, bucketMs: number, client?: string): UsageSeries {
    this.flush();
    const bucket = Math.max(1000, Math.round(bucketMs));
    const start = Math.floor(from / bucket) * bucket;
    const aggregates = this.db
      .prepare(
        `SELECT CAST(ts / @bucket AS INTEGER) * @bucket AS bucket, COALESCE(model, '') AS model, COUNT(*) AS requests,
           SUM(CASE WHEN (status >= 400 AND status <> 499) OR error_status IS NOT NULL THEN 1 ELSE 0 END) AS errors,
           SUM(prompt_tokens) AS prompt_tokens, SUM(output_tokens) AS output_tokens, SUM(thoughts_tokens) AS thoughts_tokens,
           SUM(CASE WHEN web_search IS NOT NULL THEN 1 ELSE 0 END) AS web_searches
         FROM requests WHERE ts >= @from AND ts < @to AND (@client IS NULL OR client = @client) GROUP BY 1, 2 ORDER BY 1, 2`,
      )
      .all({ bucket, from: start, to, client: client ?? null }) as AggregateRow[];
    const durations = this.db
      .prepare(
        `SELECT CAST(ts / @bucket AS INTEGER) * @bucket AS bucket, COALESCE(model, '') AS model, upstream_model, duration_ms
         FROM requests WHERE ts >= @from AND ts < @to AND (@client IS NULL OR client = @client) ORDER BY duration_ms`,
      )
      .all({ bucket, from: start, to, client: client ?? null }) as DurationRow[];
    return buildSeries(aggregates, durations, start, to, bucket);
  }

  /** Writes what is queued and closes the database. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.pruneTimer);
    void this.writer?.worker.terminate();
    this.writer = undefined;
    this.db.close();
  }
}

/**
 * Starts the writer thread for a database file. Should it fail (it cannot open the file, a write throws), `onExit`
 * drops it and the store writes on the main thread from then on: slower answers beat lost usage.
 */
function startWriter(path: string, onExit: () => void): { worker: Worker; acknowledged: Int32Array; sent: number } {
  const shared = new SharedArrayBuffer(4);
  const data: UsageWriterData = { path, acknowledged: shared };
  const worker = new Worker(new URL('./usage-writer.js', import.meta.url), {
    workerData: data,
    // A small heap: it holds one batch of rows at a time.
    resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
  });
  worker.unref();
  worker.once('error', onExit);
  worker.once('exit', onExit);
  return { worker, acknowledged: new Int32Array(shared), sent: 0 };
}
