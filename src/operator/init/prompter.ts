/**
 * The wizard's terminal: line-by-line prompts that also work with piped input, the streams and environment it runs
 * with, and the error that ends it with an exit code.
 */
import { createInterface, type Interface } from 'node:readline';
import { Writable } from 'node:stream';

export interface InitIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Ends `init` with a message on stderr and `exitCode` (2: a usage error, also printing the usage). */
export class InitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Line-by-line prompts that also work with piped input (lines that arrive early are queued, not lost). */
export class Prompter {
  private readonly lines: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private closed = false;
  private muted = false;
  private readonly rl: Interface;

  constructor(
    private readonly input: NodeJS.ReadableStream & { isTTY?: boolean },
    private readonly out: NodeJS.WritableStream,
  ) {
    const echo = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        if (!this.muted) this.out.write(chunk);
        callback();
      },
    });
    this.rl = createInterface({ input, output: echo, terminal: input.isTTY === true });
    this.rl.on('line', (line) => {
      if (this.waiting !== undefined) {
        const resolveLine = this.waiting;
        this.waiting = undefined;
        resolveLine(line);
      } else this.lines.push(line);
    });
    this.rl.on('close', () => {
      this.closed = true;
      const resolveLine = this.waiting;
      this.waiting = undefined;
      resolveLine?.(undefined);
    });
  }

  private nextLine(): Promise<string | undefined> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolveLine) => (this.waiting = resolveLine));
  }

  /** Asks; an empty answer (or end of input) takes the default. */
  async ask(question: string, fallback?: string, secret = false): Promise<string> {
    const shown = fallback === undefined || fallback === '' ? '' : secret ? ' [keep]' : ` [${fallback}]`;
    this.out.write(`${question}${shown}: `);
    this.muted = secret && this.input.isTTY === true;
    const line = await this.nextLine();
    if (this.muted) this.out.write('\n');
    this.muted = false;
    if (line === undefined) this.out.write('\n');
    const answer = (line ?? '').trim();
    return answer === '' ? (fallback ?? '') : answer;
  }

  async confirm(question: string, fallback: boolean): Promise<boolean> {
    for (;;) {
      const answer = (await this.ask(`${question} (${fallback ? 'Y/n' : 'y/N'})`)).toLowerCase();
      if (answer === '') return fallback;
      if (answer === 'y' || answer === 'yes') return true;
      if (answer === 'n' || answer === 'no') return false;
      if (this.closed && this.lines.length === 0) return fallback;
      this.out.write('Please answer y or n.\n');
    }
  }

  /** True once the input has ended and every line it held was read. */
  ended(): boolean {
    return this.closed && this.lines.length === 0;
  }

  close(): void {
    this.rl.close();
  }
}

/**
 * Asks until `accept` takes the answer: it returns the value, or throws an Error whose message is printed before
 * asking again.
 */
export async function askUntilValid<T>(
  prompter: Prompter,
  out: NodeJS.WritableStream,
  question: string,
  fallback: string,
  accept: (answer: string) => T,
): Promise<T> {
  for (;;) {
    const answer = await prompter.ask(question, fallback);
    try {
      return accept(answer);
    } catch (error) {
      out.write(`${(error as Error).message}\n`);
    }
  }
}
