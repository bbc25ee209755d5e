/**
 * Search grounding: Gemini's `groundingMetadata` (docs/gemini-contract.md §4.2) built from what a search returned and how
 * the answer cites it. Gemini answers carry no citation marks in their text; clients put their own marks at
 * `segment.endIndex`, which Gemini CLI's web-search tool reads as a UTF-8 byte offset. So the marks a model writes
 * (`[2]`, Zhipu's `[ref_2]`) are taken out of the text here, stream-safely, and become supports instead.
 * Pure: the tracker only sees upstream chunks and answer text.
 */
import type { GroundingMetadata } from './gemini-types.js';

export interface GroundingSource {
  uri: string;
  title: string;
}

export type GroundingPlan =
  /** A search the proxy ran itself: its results were given to the model as sources [1]…[n], cited as `[n]`. */
  | { kind: 'numbered-sources'; queries: string[]; sources: GroundingSource[] }
  /** Zhipu's `web_search` tool: results arrive in a top-level `web_search` array and are cited as `[ref_n]`. */
  | { kind: 'zhipu-results'; queries: string[] }
  /** OpenRouter's web plugin and OpenAI's search models: `url_citation` annotations with character indices. */
  | { kind: 'url-citations'; queries: string[] }
  /** Kimi's `$web_search` and DashScope's `enable_search`: grounded answers, but no source comes back. */
  | { kind: 'queries-only'; queries: string[] };

interface Support {
  /** JS string indices into the answer text. */
  start: number;
  end: number;
  indices: number[];
}

interface Citation {
  sourceIndex: number;
  startIndex: number | undefined;
  endIndex: number | undefined;
}

const NUMBERED_MARK = /[ \t]?\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g;
const NUMBERED_PREFIX = /[ \t]?(?:\[[\d, ]{0,12})?$/;
const ZHIPU_MARK = /[ \t]?\[ref_(\d{1,3})\]/g;
const ZHIPU_PREFIX = /[ \t]?(?:\[(?:r(?:e(?:f(?:_\d{0,3})?)?)?)?)?$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An http(s) URL, normalised, or undefined: the only links grounding (and the search backends) pass on. */
export function webUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function titleFor(title: unknown, uri: string): string {
  if (typeof title === 'string' && title.trim() !== '') return title.trim();
  return new URL(uri).hostname;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The JS string index of a code-point offset (OpenAI-style annotation indices count characters). */
function indexOfCodePoint(text: string, codePoint: number): number | undefined {
  let index = 0;
  let count = 0;
  while (count < codePoint) {
    if (index >= text.length) return undefined;
    const code = text.codePointAt(index) ?? 0;
    index += code > 0xffff ? 2 : 1;
    count += 1;
  }
  return index;
}

/** Where the sentence holding `end` starts: after the last line break or sentence end, but never before `floor`. */
function sentenceStart(text: string, end: number, floor: number): number {
  let start = floor;
  for (let index = end - 1; index >= floor; index -= 1) {
    const character = text[index] ?? '';
    if (character === '\n' || character === '。' || character === '！' || character === '？') {
      start = index + 1;
      break;
    }
    if (
      (character === '.' || character === '!' || character === '?') &&
      index + 1 < end &&
      /\s/.test(text[index + 1] ?? '')
    ) {
      start = index + 1;
      break;
    }
  }
  while (start < end && /\s/.test(text[start] ?? '')) start += 1;
  return start;
}

/** Whether text ending here is inside a fenced block or an inline code span: `list[1]` in code is no citation. */
function insideCode(before: string): boolean {
  const fences = before.split('```').length - 1;
  if (fences % 2 === 1) return true;
  const line = before.slice(before.lastIndexOf('\n') + 1).replaceAll('```', '');
  return (line.split('`').length - 1) % 2 === 1;
}

/** Follows one candidate's answer: takes citation marks out of the text and builds its groundingMetadata at the end. */
export class GroundingTracker {
  private readonly plan: GroundingPlan;
  private readonly sources: GroundingSource[];
  private readonly sourceByUri = new Map<string, number>();
  private readonly zhipuRefs = new Map<string, number>();
  private readonly supports: Support[] = [];
  private readonly citations: Citation[] = [];
  private text = '';
  private held = '';

  constructor(plan: GroundingPlan) {
    this.plan = plan;
    this.sources = plan.kind === 'numbered-sources' ? [...plan.sources] : [];
  }

  private addSource(uri: string, title: unknown): number {
    const known = this.sourceByUri.get(uri);
    if (known !== undefined) return known;
    this.sources.push({ uri, title: titleFor(title, uri) });
    this.sourceByUri.set(uri, this.sources.length - 1);
    return this.sources.length - 1;
  }

  /** Reads the search evidence some upstreams put beside the answer (Zhipu's results, url_citation annotations). */
  observe(chunk: unknown): void {
    if (!isRecord(chunk)) return;
    if (this.plan.kind === 'zhipu-results' && Array.isArray(chunk['web_search'])) {
      for (const result of chunk['web_search']) {
        if (!isRecord(result)) continue;
        const uri = webUrl(result['link']);
        if (uri === undefined) continue;
        const index = this.addSource(uri, result['title']);
        if (typeof result['refer'] === 'string') this.zhipuRefs.set(result['refer'], index);
      }
    }
    if (this.plan.kind === 'url-citations' && Array.isArray(chunk['choices'])) {
      const choice: unknown = chunk['choices'][0];
      if (!isRecord(choice)) return;
      const message = isRecord(choice['delta'])
        ? choice['delta']
        : isRecord(choice['message'])
          ? choice['message']
          : undefined;
      const annotations = message?.['annotations'];
      if (!Array.isArray(annotations)) return;
      for (const annotation of annotations) {
        if (!isRecord(annotation) || annotation['type'] !== 'url_citation') continue;
        const citation = isRecord(annotation['url_citation']) ? annotation['url_citation'] : annotation;
        const uri = webUrl(citation['url']);
        if (uri === undefined) continue;
        const start = citation['start_index'];
        const end = citation['end_index'];
        this.citations.push({
          sourceIndex: this.addSource(uri, citation['title']),
          startIndex: typeof start === 'number' && Number.isInteger(start) && start >= 0 ? start : undefined,
          endIndex: typeof end === 'number' && Number.isInteger(end) && end >= 0 ? end : undefined,
        });
      }
    }
  }

  private get marks(): { mark: RegExp; prefix: RegExp } | undefined {
    if (this.plan.kind === 'numbered-sources') return { mark: NUMBERED_MARK, prefix: NUMBERED_PREFIX };
    if (this.plan.kind === 'zhipu-results') return { mark: ZHIPU_MARK, prefix: ZHIPU_PREFIX };
    return undefined;
  }

  private indicesOf(captured: string): number[] {
    if (this.plan.kind === 'zhipu-results') {
      const index = this.zhipuRefs.get(`ref_${Number(captured)}`);
      return index === undefined ? [] : [index];
    }
    const indices: number[] = [];
    for (const piece of captured.split(',')) {
      const number = Number(piece.trim());
      if (number >= 1 && number <= this.sources.length && !indices.includes(number - 1)) indices.push(number - 1);
    }
    return indices;
  }

  private process(ready: string): string {
    const marks = this.marks;
    if (marks === undefined) {
      this.text += ready;
      return ready;
    }
    let out = '';
    let last = 0;
    for (const match of ready.matchAll(marks.mark)) {
      const indices = this.indicesOf(match[1] ?? '');
      if (indices.length === 0 || insideCode(this.text + out + ready.slice(last, match.index))) continue;
      out += ready.slice(last, match.index);
      last = match.index + match[0].length;
      const end = this.text.length + out.length;
      const previous = this.supports.at(-1);
      if (previous !== undefined && previous.end === end) {
        for (const index of indices) if (!previous.indices.includes(index)) previous.indices.push(index);
      } else {
        this.supports.push({ start: -1, end, indices });
      }
    }
    out += ready.slice(last);
    this.text += out;
    return out;
  }

  /** Answer text in, the text to send now out; a possible citation mark cut at the end waits for the next piece. */
  transformText(piece: string): string {
    const buffer = this.held + piece;
    const marks = this.marks;
    if (marks === undefined) return this.process(buffer);
    const tail = marks.prefix.exec(buffer);
    const holdFrom = tail === null ? buffer.length : tail.index;
    this.held = buffer.slice(holdFrom);
    return this.process(buffer.slice(0, holdFrom));
  }

  /** Text still held back at the end of the answer. */
  flush(): string {
    const rest = this.held;
    this.held = '';
    return rest === '' ? '' : this.process(rest);
  }

  private citationSupports(): Support[] {
    const supports: Support[] = [];
    for (const citation of this.citations) {
      if (
        citation.startIndex === undefined ||
        citation.endIndex === undefined ||
        citation.endIndex <= citation.startIndex
      )
        continue;
      const start = indexOfCodePoint(this.text, citation.startIndex);
      const end = indexOfCodePoint(this.text, citation.endIndex);
      if (start === undefined || end === undefined) continue;
      const existing = supports.find((support) => support.end === end);
      if (existing !== undefined) {
        if (!existing.indices.includes(citation.sourceIndex)) existing.indices.push(citation.sourceIndex);
      } else supports.push({ start, end, indices: [citation.sourceIndex] });
    }
    return supports.sort((a, b) => a.end - b.end);
  }

  /** The candidate's groundingMetadata; undefined when there is nothing to say. */
  metadata(): GroundingMetadata | undefined {
    const queries = this.plan.queries.filter((query) => query.trim() !== '');
    if (queries.length === 0 && this.sources.length === 0) return undefined;
    const metadata: GroundingMetadata = { webSearchQueries: queries };
    if (this.sources.length === 0) return metadata;
    metadata.groundingChunks = this.sources.map((source) => ({ web: { uri: source.uri, title: source.title } }));
    const supports = this.plan.kind === 'url-citations' ? this.citationSupports() : this.supports;
    const out: NonNullable<GroundingMetadata['groundingSupports']> = [];
    let floor = 0;
    for (const support of supports) {
      // Marks right after one another cite the same sentence; later ones start where the earlier segment ended.
      const from =
        support.start >= 0
          ? sentenceStart(this.text, support.start + 1, Math.min(floor, support.start))
          : sentenceStart(this.text, support.end, floor);
      const start = Math.max(from, Math.min(floor, support.end));
      const end = support.end;
      floor = end;
      if (end <= start) continue;
      const before = this.text.slice(0, start);
      const text = this.text.slice(start, end);
      const startIndex = utf8Length(before);
      out.push({
        segment: { startIndex, endIndex: startIndex + utf8Length(text), text },
        groundingChunkIndices: support.indices,
      });
    }
    if (out.length > 0) metadata.groundingSupports = out;
    return metadata;
  }
}
