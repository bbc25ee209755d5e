/**
 * The usage database's writer thread. Inserting a batch of rows, and now and then a WAL checkpoint, blocks for
 * milliseconds (200 rows: ~2.5 ms, a checkpoint: tens of ms on a busy machine); on the event loop that was the proxy's
 * p99 (docs/performance.md). This worker owns the inserts; the main thread keeps its own connection for the schema,
 * reads and pruning. After each batch it stores the batch's sequence number in the shared `acknowledged` cell and
 * notifies, so that a read can wait (Atomics.wait) until every row queued before it is in the file.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'libsql';
import { INSERT_SQL, type UsageWriterData, type UsageWriterMessage } from './usage-sql.js';

const data = workerData as UsageWriterData;
const db = new Database(data.path);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
const insert = db.prepare(INSERT_SQL);
const insertMany = db.transaction((rows: ReadonlyArray<Record<string, unknown>>) => {
  for (const row of rows) insert.run(row);
});
const acknowledged = new Int32Array(data.acknowledged);

parentPort?.on('message', (message: UsageWriterMessage) => {
  try {
    insertMany(message.rows);
  } finally {
    Atomics.store(acknowledged, 0, message.sequence);
    Atomics.notify(acknowledged, 0);
  }
});
