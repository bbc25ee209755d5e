/**
 * The local BPE tokenizer (cl100k_base from gpt-tokenizer), loaded on first use: it costs ~40 MB and ~0.2 s, and
 * Gemini CLI calls countTokens only for requests with media, so most processes never load it.
 */
export type CountTokens = (text: string) => number;

let loading: Promise<CountTokens> | undefined;

export function loadTokenizer(): Promise<CountTokens> {
  loading ??= import('gpt-tokenizer/encoding/cl100k_base').then(
    (module) => (text: string) => countInPieces(module.countTokens, text),
  );
  return loading;
}

/** Longest run of non-space (or space) characters handed to the BPE in one piece. */
export const MAX_RUN = 64;
const LONG_RUN = new RegExp(`\\S{${MAX_RUN + 1},}|\\s{${MAX_RUN + 1},}`, 'g');

/**
 * BPE work grows with the square of a pre-token's length: one countTokens request holding 280,000 characters without
 * a space (a base64 blob, a minified line, "aaaa…") blocked the event loop for minutes, and every other request with
 * it (found by the fuzzer). Runs longer than MAX_RUN characters are counted in MAX_RUN-character pieces: linear time,
 * and the same count for ordinary text (no cl100k token is that long; a piece boundary can add at most one token).
 */
export function countInPieces(count: CountTokens, text: string): number {
  if (text.length <= MAX_RUN) return count(text);
  let total = 0;
  let last = 0;
  for (const match of text.matchAll(LONG_RUN)) {
    const start = match.index;
    if (start > last) total += count(text.slice(last, start));
    const run = match[0];
    for (let offset = 0; offset < run.length;) {
      let end = Math.min(run.length, offset + MAX_RUN);
      // Never split a surrogate pair.
      const code = run.charCodeAt(end - 1);
      if (end < run.length && code >= 0xd800 && code <= 0xdbff) end -= 1;
      total += count(run.slice(offset, end));
      offset = end;
    }
    last = start + run.length;
  }
  if (last < text.length) total += count(text.slice(last));
  return total;
}

/** Longest stretch of text counted between two looks at the clock. */
const SLICE_CHARACTERS = 8192;

/**
 * Where to cut a long text near `limit`: before a space that starts a word (the BPE pre-tokenizer keeps " word"
 * together, so the count does not change), else at `limit` (inside a run, which costs at most one token).
 */
function cutPoint(text: string, start: number, limit: number): number {
  const space = text.lastIndexOf(' ', limit);
  if (space > start + SLICE_CHARACTERS / 2 && text.charCodeAt(space - 1) !== 0x20) return space;
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}

/**
 * Counts `texts` in slices of at most SLICE_CHARACTERS and gives the event loop back every `sliceMs`: a 30 MB
 * countTokens body took 4.7 s of BPE work, and in one piece that blocked every other request (and /health) as long.
 */
export async function countTextsInSlices(count: CountTokens, texts: readonly string[], sliceMs = 10): Promise<number> {
  let total = 0;
  let sliceStarted = performance.now();
  for (const text of texts) {
    for (let start = 0; start < text.length;) {
      const end =
        text.length - start <= SLICE_CHARACTERS ? text.length : cutPoint(text, start, start + SLICE_CHARACTERS);
      total += countInPieces(count, start === 0 && end === text.length ? text : text.slice(start, end));
      start = end;
      if (performance.now() - sliceStarted >= sliceMs) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStarted = performance.now();
      }
    }
  }
  return total;
}
