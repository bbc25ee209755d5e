/**
 * Chat Completions stream → Gemini stream, as a state machine (docs/gemini-contract.md §4, §5.3). `push` takes one
 * parsed upstream chunk and returns the Gemini responses to send now; `end` is the flush step and returns the single
 * final response carrying the function calls, the one finishReason and the cumulative usage ([R-FIN-1], [R-FC-3],
 * [R-USE-3]). Pure: ids and the model name are passed in; no clock, no I/O.
 */
import { isFailureFinish, mapFinishReason } from './finish-reason.js';
import type { ResponseTextMode } from './gemini-request-to-openai.js';
import type {
  Candidate,
  FinishReason,
  GenerateContentResponse,
  JsonObject,
  ResponsePart,
  UsageMetadata,
} from './gemini-types.js';
import { GroundingTracker, type GroundingPlan } from './grounding.js';
import { extractEnumText, extractJsonText } from './json-text.js';
import type { OpenAIChunk, OpenAIDelta, OpenAIUsage } from './openai-types.js';
import { LogprobsCollector } from './logprobs.js';
import { ThinkTagSplitter } from './think-tags.js';
import { ToolCallTracker } from './tool-call-tracker.js';
import type { ToolNameCodec } from './tool-names.js';
import { estimateUsage, mapUsage } from './usage.js';

/** A thought part is sent once it reaches this size even without a paragraph break. */
const THOUGHT_PART_MAX_CHARACTERS = 1024;

export interface StreamTranslationOptions {
  modelVersion: string;
  responseId: string;
  includeThoughts: boolean;
  textMode: ResponseTextMode;
  toolNames: ToolNameCodec;
  /** Size of the translated request, for the usage estimate when the upstream reports none ([R-USE-4]). */
  promptCharacters: number;
  /** `<think>` tags in content are reasoning (self-hosted and raw-format upstreams). */
  thinkTags?: boolean;
  /** The request was answered with web search: build groundingMetadata (src/translate/grounding.ts). */
  grounding?: GroundingPlan;
  /** Choices the upstream was asked for (`n`); each becomes the Gemini candidate of the same index. */
  candidateCount?: number;
}

/** A finished call as the upstream named it, for the reasoning replay cache. */
export interface UpstreamCall {
  id: string;
  name: string;
  args: JsonObject;
}

/**
 * How the upstream stream ended: `done` ([DONE] seen), `eof` (closed cleanly without [DONE]) or `interrupted`
 * (connection error, idle timeout, or an error event).
 */
export type StreamEnd = 'done' | 'eof' | 'interrupted';

export interface StreamFinish {
  /** The final response, absent when `failed`. */
  response?: GenerateContentResponse;
  /** True when the generation failed before anything reached the client: answer with a retryable error instead. */
  failed: boolean;
  /** The complete calls of this turn, with upstream names. */
  calls: UpstreamCall[];
  /** All reasoning text of the turn (for the reasoning replay cache). */
  reasoning: string;
}

function usageHasCounts(usage: OpenAIUsage | null | undefined): usage is OpenAIUsage {
  return (
    typeof usage === 'object' &&
    usage !== null &&
    (typeof usage.prompt_tokens === 'number' || typeof usage.completion_tokens === 'number')
  );
}

export class OpenAIStreamToGemini {
  private readonly options: StreamTranslationOptions;
  private readonly tracker = new ToolCallTracker();
  private finishReason: string | undefined;
  private usage: OpenAIUsage | undefined;
  private bufferedText = '';
  private outputCharacters = 0;
  private thoughtCharacters = 0;
  private reasoningText = '';
  private emitted = false;
  /** Reasoning not yet sent: thoughts leave paragraph by paragraph ([R-THK-3]). */
  private pendingThought = '';
  /**
   * Text that came with or after the upstream's finish: it goes on the final chunk, so that chunk carries the last
   * text as Gemini's does. Earlier text is never held back (no added latency, and a stalled upstream's words still
   * show). It counts as handed out.
   */
  private heldText: string | undefined;
  private readonly logprobs = new LogprobsCollector();
  private readonly splitter: ThinkTagSplitter | undefined;
  private readonly grounding: GroundingTracker | undefined;

  constructor(options: StreamTranslationOptions) {
    this.options = options;
    this.splitter = options.thinkTags === true ? new ThinkTagSplitter() : undefined;
    this.grounding = options.grounding === undefined ? undefined : new GroundingTracker(options.grounding);
  }

  /** Whether any content has been handed out (decides error form and finish on failure, [R-FIN-5]). */
  get hasEmitted(): boolean {
    return this.emitted;
  }

  /** The upstream reasoning text seen so far (for a reasoning replay cache). */
  get reasoning(): string {
    return this.reasoningText;
  }

  private response(parts: ResponsePart[]): GenerateContentResponse {
    return {
      candidates: [{ content: { role: 'model', parts }, index: 0 }],
      modelVersion: this.options.modelVersion,
      responseId: this.options.responseId,
    };
  }

  push(chunk: OpenAIChunk): GenerateContentResponse[] {
    if (usageHasCounts(chunk.usage)) this.usage = chunk.usage;
    this.grounding?.observe(chunk);
    const out: GenerateContentResponse[] = [];
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    for (const choice of choices) {
      if (typeof choice !== 'object' || choice === null) continue;
      if (usageHasCounts(choice.usage)) this.usage = choice.usage;
      if ((choice.index ?? 0) !== 0) continue;
      this.logprobs.push(choice.logprobs);
      // Keep the first finish: OpenRouter and Avian send the finish chunk twice. Known before this chunk's delta, so
      // text that comes with the finish rides on the final chunk.
      if (typeof choice.finish_reason === 'string' && choice.finish_reason !== '' && this.finishReason === undefined) {
        this.finishReason = choice.finish_reason;
      }
      const delta: OpenAIDelta | null | undefined = choice.delta ?? choice.message;
      if (typeof delta === 'object' && delta !== null) this.pushDelta(delta, out);
    }
    return out;
  }

  private pushReasoning(reasoning: string, out: GenerateContentResponse[]): void {
    if (reasoning === '') return;
    this.reasoningText += reasoning;
    this.thoughtCharacters += reasoning.length;
    if (!this.options.includeThoughts) return;
    // [R-THK-2]: thoughts travel in chunks of their own. DeepSeek and Kimi stream reasoning a word per delta; Gemini
    // sends paragraphs, and Gemini CLI renders each thought part as one paragraph, so deltas are gathered up to a
    // paragraph break (or a size bound, so a long unbroken paragraph still shows progress).
    this.pendingThought += reasoning;
    let start = 0;
    for (
      let cut = this.pendingThought.indexOf('\n\n');
      cut !== -1;
      cut = this.pendingThought.indexOf('\n\n', cut + 2)
    ) {
      const end = cut + 2;
      if (this.pendingThought.slice(start, end).trim() === '') continue;
      this.emitThought(this.pendingThought.slice(start, end), out);
      start = end;
    }
    this.pendingThought = this.pendingThought.slice(start);
    if (this.pendingThought.length >= THOUGHT_PART_MAX_CHARACTERS) this.flushThought(out);
  }

  /** Sends the reasoning gathered so far; runs before any text or call, and at the end. */
  private flushThought(out: GenerateContentResponse[]): void {
    if (this.pendingThought === '') return;
    this.emitThought(this.pendingThought, out);
    this.pendingThought = '';
  }

  private emitThought(text: string, out: GenerateContentResponse[]): void {
    out.push(this.response([{ text, thought: true }]));
    this.emitted = true;
  }

  private pushText(piece: string, out: GenerateContentResponse[], grounded = true): void {
    const text =
      grounded && this.grounding !== undefined && this.options.textMode === 'text'
        ? this.grounding.transformText(piece)
        : piece;
    if (text === '') return;
    this.outputCharacters += text.length;
    if (this.options.textMode !== 'text') {
      this.bufferedText += text;
    } else if (this.tracker.size > 0 && text.trim() === '') {
      // Whitespace some upstreams interleave between tool calls ([R-FC-3]).
    } else if (this.finishReason !== undefined) {
      this.heldText = (this.heldText ?? '') + text;
      this.emitted = true;
    } else {
      this.flushThought(out);
      out.push(this.response([{ text }]));
      this.emitted = true;
    }
  }

  private pushDelta(delta: OpenAIDelta, out: GenerateContentResponse[]): void {
    const reasoning =
      typeof delta.reasoning_content === 'string' && delta.reasoning_content !== ''
        ? delta.reasoning_content
        : delta.reasoning;
    if (typeof reasoning === 'string') this.pushReasoning(reasoning, out);
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls) {
        if (typeof call !== 'object' || call === null) continue;
        this.flushThought(out);
        this.tracker.push(call);
        this.outputCharacters += call.function?.arguments?.length ?? 0;
      }
    }
    const text = delta.content;
    if (typeof text === 'string' && text !== '') {
      if (this.splitter === undefined) this.pushText(text, out);
      else {
        const split = this.splitter.push(text);
        this.pushReasoning(split.reasoning, out);
        this.pushText(split.text, out);
      }
    }
  }

  /** Text held back by the tag splitter, released at the end of the stream. */
  private flushSplitter(): GenerateContentResponse[] {
    const out: GenerateContentResponse[] = [];
    if (this.splitter !== undefined) {
      const split = this.splitter.flush();
      this.pushReasoning(split.reasoning, out);
      this.pushText(split.text, out);
    }
    const held = this.grounding?.flush();
    if (held !== undefined) this.pushText(held, out, false);
    this.flushThought(out);
    return out;
  }

  /**
   * The upstream failed after output started: what was already said leaves (held-back text and reasoning), while
   * tool calls still being assembled and buffered JSON-mode text are dropped, never sent half-built ([R-FIN-5]).
   */
  abandon(): GenerateContentResponse[] {
    return this.flushSplitter();
  }

  /**
   * The final response. Text the tag splitter still held comes first as its own responses (`before`), so the final
   * chunk keeps its shape.
   */
  end(how: StreamEnd): StreamFinish & { before: GenerateContentResponse[] } {
    const before = this.flushSplitter();
    const finish = this.finish(how);
    return { ...finish, before };
  }

  private finish(how: StreamEnd): StreamFinish {
    const upstreamReason = this.finishReason;
    const failedUpstream = upstreamReason !== undefined && isFailureFinish(upstreamReason);
    const interrupted =
      how === 'interrupted' || failedUpstream || (how === 'eof' && upstreamReason === undefined && !this.hasContent());

    const parts: ResponsePart[] = [];
    if (this.heldText !== undefined) parts.push({ text: this.heldText });
    this.heldText = undefined;
    if (this.bufferedText !== '') {
      const text =
        this.options.textMode === 'enum' ? extractEnumText(this.bufferedText) : extractJsonText(this.bufferedText);
      if (text !== '') parts.push({ text });
    }
    const calls = this.tracker.finalize();
    let finish: FinishReason;
    if (!calls.ok) {
      finish = 'MALFORMED_FUNCTION_CALL';
    } else {
      const seen = new Set<string>();
      for (const call of calls.calls) {
        const functionCall: NonNullable<ResponsePart['functionCall']> = {
          name: this.options.toolNames.toGemini(call.name),
          args: call.args,
        };
        // [R-FC-4]: the upstream id when present and unique; otherwise none, and Gemini CLI invents one.
        if (call.id !== '' && !seen.has(call.id)) {
          functionCall.id = call.id;
          seen.add(call.id);
        }
        parts.push({ functionCall });
      }
      if (interrupted) {
        if (!this.emitted && parts.length === 0) return { failed: true, calls: [], reasoning: this.reasoningText };
        // [R-FIN-5]: a call cut off mid-assembly makes the CLI retry the turn.
        finish =
          how === 'interrupted' && this.tracker.size > 0 && calls.calls.length === 0
            ? 'MALFORMED_FUNCTION_CALL'
            : 'OTHER';
        if (failedUpstream && upstreamReason !== undefined) finish = 'OTHER';
      } else if (
        calls.calls.length > 0 &&
        (upstreamReason === undefined || mapFinishReason(upstreamReason) === 'STOP')
      ) {
        finish = 'STOP';
      } else {
        finish = upstreamReason === undefined ? 'STOP' : mapFinishReason(upstreamReason);
      }
    }

    // The chunk with the finishReason always carries content: @google/genai 2.x keeps a streamed turn in chat history
    // only when it does (issue 11). With no text or call left for it, an empty text part is the least it can hold,
    // which Gemini CLI merely skips ([R-FIN-3]).
    if (parts.length === 0) parts.push({ text: '' });
    const candidate: Candidate = {
      content: { role: 'model', parts },
      finishReason: finish,
      ...this.logprobs.result(),
      index: 0,
    };
    const grounding = this.grounding?.metadata();
    if (grounding !== undefined) candidate.groundingMetadata = grounding;
    const response: GenerateContentResponse = {
      candidates: [candidate],
      usageMetadata: this.finalUsage(),
      modelVersion: this.options.modelVersion,
      responseId: this.options.responseId,
    };
    return { response, failed: false, calls: calls.ok ? calls.calls : [], reasoning: this.reasoningText };
  }

  private hasContent(): boolean {
    return this.emitted || this.bufferedText !== '' || this.tracker.size > 0 || this.reasoningText !== '';
  }

  private finalUsage(): UsageMetadata {
    if (this.usage !== undefined) return mapUsage(this.usage);
    return estimateUsage(this.options.promptCharacters, this.outputCharacters, this.thoughtCharacters);
  }
}

/**
 * A unary Chat Completions body → one GenerateContentResponse ([R-UN-1]): the message is run through the same state
 * machine as a one-chunk stream, so finish, usage and call handling live in one place; the parts are then merged into
 * thoughts first, one text part, then calls.
 */
export function openAICompletionToGemini(completion: OpenAIChunk, options: StreamTranslationOptions): StreamFinish {
  const count = options.candidateCount ?? 1;
  if (count <= 1) return singleCompletionToGemini(completion, options);
  // `n` choices: each is translated on its own, then the candidates are merged by index; usage is the call's.
  const choices = Array.isArray(completion.choices) ? completion.choices : [];
  const finishes = Array.from({ length: count }, (_unused, index) =>
    singleCompletionToGemini(
      {
        ...completion,
        choices: choices.filter((choice) => (choice.index ?? 0) === index).map((choice) => ({ ...choice, index: 0 })),
      },
      options,
    ),
  );
  const first = finishes[0];
  const base = finishes.find((finish) => finish.response !== undefined)?.response;
  if (first === undefined || base === undefined) return { failed: true, calls: [], reasoning: '' };
  const candidates = finishes.map((finish, index) => {
    const candidate = finish.response?.candidates?.[0];
    return candidate === undefined ? { finishReason: 'OTHER' as const, index } : { ...candidate, index };
  });
  return { response: { ...base, candidates }, failed: false, calls: first.calls, reasoning: first.reasoning };
}

function singleCompletionToGemini(completion: OpenAIChunk, options: StreamTranslationOptions): StreamFinish {
  const machine = new OpenAIStreamToGemini(options);
  const streamed = machine.push(completion);
  const finish = machine.end('done');
  streamed.push(...finish.before);
  if (finish.response === undefined) return finish;
  const thoughts: string[] = [];
  const texts: string[] = [];
  for (const response of streamed) {
    for (const part of response.candidates?.[0]?.content?.parts ?? []) {
      if (part.text !== undefined) (part.thought === true ? thoughts : texts).push(part.text);
    }
  }
  const finalCandidate = finish.response.candidates?.[0];
  const finalParts = finalCandidate?.content?.parts ?? [];
  for (const part of finalParts) if (part.text !== undefined && part.text !== '') texts.push(part.text);
  const parts: ResponsePart[] = [];
  if (thoughts.length > 0) parts.push({ text: thoughts.join(''), thought: true });
  if (texts.length > 0) parts.push({ text: texts.join('') });
  for (const part of finalParts) if (part.functionCall !== undefined) parts.push(part);
  const candidate: Candidate = { index: 0 };
  if (parts.length > 0) candidate.content = { role: 'model', parts };
  if (finalCandidate?.finishReason !== undefined) candidate.finishReason = finalCandidate.finishReason;
  if (finalCandidate?.logprobsResult !== undefined) candidate.logprobsResult = finalCandidate.logprobsResult;
  if (finalCandidate?.avgLogprobs !== undefined) candidate.avgLogprobs = finalCandidate.avgLogprobs;
  if (finalCandidate?.groundingMetadata !== undefined) candidate.groundingMetadata = finalCandidate.groundingMetadata;
  return {
    response: { ...finish.response, candidates: [candidate] },
    failed: false,
    calls: finish.calls,
    reasoning: finish.reasoning,
  };
}
