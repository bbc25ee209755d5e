/**
 * Splits reasoning written inside `content` as `<think>…</think>` (or Kimi's `◁think▷…◁/think▷`) from the answer
 * (docs/providers.md §4.1). Tags may be split across deltas, so a tail that could begin a marker is held back until the
 * next delta shows what it is. The blank lines models put after the closing tag (`</think>\n\n`) are dropped, so the
 * answer does not start with empty lines. Pure.
 */

const MARKERS: ReadonlyArray<readonly [open: string, close: string]> = [
  ['<think>', '</think>'],
  ['◁think▷', '◁/think▷'],
];
const OPEN_MARKERS = MARKERS.map(([open]) => open);

/** Length of the longest suffix of `text` that is a proper prefix of one of `markers`. */
function partialMarkerLength(text: string, markers: readonly string[]): number {
  let longest = 0;
  for (const marker of markers) {
    for (let length = Math.min(marker.length - 1, text.length); length > longest; length -= 1) {
      if (text.endsWith(marker.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

export interface SplitText {
  reasoning: string;
  text: string;
}

export class ThinkTagSplitter {
  private buffer = '';
  private closeMarker: string | undefined;
  /** Right after a closing marker: whitespace is separator, not answer. */
  private afterClose = false;

  push(delta: string): SplitText {
    this.buffer += delta;
    return this.drain(false);
  }

  flush(): SplitText {
    return this.drain(true);
  }

  private drain(final: boolean): SplitText {
    let reasoning = '';
    let text = '';
    for (;;) {
      if (this.closeMarker !== undefined) {
        const end = this.buffer.indexOf(this.closeMarker);
        if (end === -1) break;
        reasoning += this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + this.closeMarker.length);
        this.closeMarker = undefined;
        this.afterClose = true;
        continue;
      }
      let found: { index: number; open: string; close: string } | undefined;
      for (const [open, close] of MARKERS) {
        const index = this.buffer.indexOf(open);
        if (index !== -1 && (found === undefined || index < found.index)) found = { index, open, close };
      }
      if (found === undefined) break;
      text += this.answer(this.buffer.slice(0, found.index));
      this.buffer = this.buffer.slice(found.index + found.open.length);
      this.closeMarker = found.close;
    }
    // Hold back only a tail that could be the start of a marker.
    const hold = final
      ? 0
      : partialMarkerLength(this.buffer, this.closeMarker === undefined ? OPEN_MARKERS : [this.closeMarker]);
    const ready = this.buffer.slice(0, this.buffer.length - hold);
    this.buffer = this.buffer.slice(this.buffer.length - hold);
    if (this.closeMarker !== undefined) reasoning += ready;
    else text += this.answer(ready);
    return { reasoning, text };
  }

  private answer(text: string): string {
    if (!this.afterClose) return text;
    const trimmed = text.replace(/^\s+/, '');
    if (trimmed !== '') this.afterClose = false;
    return trimmed;
  }
}
