/**
 * A streamed upstream body, fed by undici's `dispatch` handler and read by the gateway with `for await`. It replaces
 * undici's `request` (a Readable per response, its async iterator, an abort-signal wrapper): chunks are queued as they
 * arrive and handed over in order (all that waited, in one piece, as a Readable's `read()` would), the upstream is
 * paused while too much is queued (a slow client's back-pressure reaches the upstream socket), and a transport failure
 * is thrown only after every byte that arrived before it.
 */

/** Bytes queued before the upstream socket is paused until the reader takes them. */
const HIGH_WATER_BYTES = 64 * 1024;

export class UpstreamBody implements AsyncIterable<Buffer> {
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private paused = false;
  private resumeUpstream: (() => void) | undefined;
  private readonly abortUpstream: (reason: Error) => void;

  /** `abort` stops the upstream request (undici's abort for this dispatch). */
  constructor(abort: (reason: Error) => void) {
    this.abortUpstream = abort;
  }

  /** Bytes received and not yet read. */
  get readableLength(): number {
    return this.queuedBytes;
  }

  /** undici's resume for this response, called when the reader has caught up. */
  setResume(resume: () => void): void {
    this.resumeUpstream = resume;
  }

  /** A chunk from the upstream. False asks undici to pause the socket until `setResume`'s function is called. */
  push(chunk: Buffer): boolean {
    if (this.ended) return true; // destroyed: the rest is dropped
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    this.notify();
    if (this.queuedBytes < HIGH_WATER_BYTES) return true;
    this.paused = true;
    return false;
  }

  /** The upstream finished the body. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  /** The transport failed (drop, idle timeout, abort): thrown to the reader after what is already queued. */
  fail(error: Error): void {
    if (this.ended) return;
    this.failure = error;
    this.ended = true;
    this.notify();
  }

  /** The reader is done with the body: stop the upstream request and drop whatever comes. */
  destroy(reason: Error = new Error('upstream body discarded')): void {
    this.queue.length = 0;
    this.queuedBytes = 0;
    if (this.ended) return;
    this.ended = true;
    this.abortUpstream(reason);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    let finished = false;
    try {
      for (;;) {
        if (this.queue.length > 0) {
          // Everything that arrived since the last read, in one piece: one translation pass and one client write.
          const chunk = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue, this.queuedBytes);
          this.queue.length = 0;
          this.queuedBytes = 0;
          if (this.paused) {
            this.paused = false;
            this.resumeUpstream?.();
          }
          if (chunk !== undefined) yield chunk;
          continue;
        }
        if (this.failure !== undefined) {
          finished = true;
          throw this.failure;
        }
        if (this.ended) {
          finished = true;
          return;
        }
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      // The reader left early (break, or an exception of its own): the upstream is not needed any more.
      if (!finished) this.destroy();
    }
  }
}
