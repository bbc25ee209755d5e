/**
 * A lenient Server-Sent Events decoder for upstream streams (docs/providers.md §2.1): lines end in `\n`, `\r\n` or `\r`
 * (a `\r\n` may be split across reads), UTF-8 may be split across reads, the space after `data:` is optional,
 * comment lines count only as liveness, multi-line data is joined with `\n`, `id:` and `retry:` are ignored, and a
 * final event without its blank line is still delivered at end of stream.
 */

export interface SseEvent {
  /** The `event:` field, when the upstream sent one (Groq's `event: error`). */
  event?: string;
  data: string;
}

export class SseDecoder {
  private readonly decoder = new TextDecoder('utf-8');
  private carry = '';
  private skipLeadingNewline = false;
  private dataLines: string[] = [];
  private eventName: string | undefined;

  push(chunk: Uint8Array): SseEvent[] {
    return this.consume(this.decoder.decode(chunk, { stream: true }), false);
  }

  end(): SseEvent[] {
    const events = this.consume(this.decoder.decode(), true);
    const last = this.dispatch();
    if (last !== undefined) events.push(last);
    return events;
  }

  private consume(text: string, final: boolean): SseEvent[] {
    let input = text;
    if (this.skipLeadingNewline && input.length > 0) {
      if (input.charCodeAt(0) === 10) input = input.slice(1);
      this.skipLeadingNewline = false;
    }
    const buffer = this.carry + input;
    const events: SseEvent[] = [];
    let start = 0;
    for (let position = 0; position < buffer.length; position += 1) {
      const code = buffer.charCodeAt(position);
      if (code !== 10 && code !== 13) continue;
      this.line(buffer.slice(start, position), events);
      if (code === 13) {
        if (position + 1 < buffer.length) {
          if (buffer.charCodeAt(position + 1) === 10) position += 1;
        } else {
          // A lone \r at the end of this read: its \n may arrive first thing in the next read.
          this.skipLeadingNewline = true;
        }
      }
      start = position + 1;
    }
    this.carry = buffer.slice(start);
    if (final && this.carry !== '') {
      this.line(this.carry, events);
      this.carry = '';
    }
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      const event = this.dispatch();
      if (event !== undefined) events.push(event);
      return;
    }
    const first = line.charCodeAt(0);
    if (first === 58) return; // ':' comment / keep-alive
    if (first === 123) {
      // Some servers write bare JSON lines without the `data:` field; accept them as data.
      this.dataLines.push(line);
      return;
    }
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (name === 'data') this.dataLines.push(value);
    else if (name === 'event') this.eventName = value;
  }

  private dispatch(): SseEvent | undefined {
    if (this.dataLines.length === 0) {
      this.eventName = undefined;
      return undefined;
    }
    const event: SseEvent = {
      data: this.dataLines.length === 1 ? (this.dataLines[0] ?? '') : this.dataLines.join('\n'),
    };
    if (this.eventName !== undefined) event.event = this.eventName;
    this.dataLines = [];
    this.eventName = undefined;
    return event;
  }
}
