/**
 * A stream of `n` upstream choices → Gemini candidates of the same index (`candidateCount`, issue 11). Each choice
 * runs through its own single-candidate state machine; their chunks are relabelled with the choice's index and the
 * finals merged into one last response with every candidate's finishReason and the call's usage. Pure.
 */
import type { GenerateContentResponse } from './gemini-types.js';
import {
  OpenAIStreamToGemini,
  type StreamEnd,
  type StreamFinish,
  type StreamTranslationOptions,
} from './openai-stream-to-gemini.js';
import type { OpenAIChunk } from './openai-types.js';

/** What the stream pump needs from a translator, whether it serves one candidate or several. */
export interface StreamTranslator {
  push(chunk: OpenAIChunk): GenerateContentResponse[];
  end(how: StreamEnd): StreamFinish & { before: GenerateContentResponse[] };
  /** Output had started when the upstream failed: what is held back leaves, calls being assembled are dropped. */
  abandon(): GenerateContentResponse[];
  readonly hasEmitted: boolean;
  readonly reasoning: string;
}

function relabel(responses: GenerateContentResponse[], index: number): GenerateContentResponse[] {
  return responses.map((response) => ({
    ...response,
    candidates: (response.candidates ?? []).map((candidate) => ({ ...candidate, index })),
  }));
}

class MultiCandidateStream implements StreamTranslator {
  private readonly machines: OpenAIStreamToGemini[];

  constructor(options: StreamTranslationOptions, count: number) {
    this.machines = Array.from({ length: count }, () => new OpenAIStreamToGemini(options));
  }

  get hasEmitted(): boolean {
    return this.machines.some((machine) => machine.hasEmitted);
  }

  get reasoning(): string {
    return this.machines[0]?.reasoning ?? '';
  }

  push(chunk: OpenAIChunk): GenerateContentResponse[] {
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    const out: GenerateContentResponse[] = [];
    this.machines.forEach((machine, index) => {
      const mine = choices.filter(
        (choice) => typeof choice === 'object' && choice !== null && (choice.index ?? 0) === index,
      );
      // Every machine sees the usage, which counts the whole call; only the first reports it.
      out.push(...relabel(machine.push({ ...chunk, choices: mine.map((choice) => ({ ...choice, index: 0 })) }), index));
    });
    return out;
  }

  abandon(): GenerateContentResponse[] {
    return this.machines.flatMap((machine, index) => relabel(machine.abandon(), index));
  }

  end(how: StreamEnd): StreamFinish & { before: GenerateContentResponse[] } {
    const finishes = this.machines.map((machine) => machine.end(how));
    const before = finishes.flatMap((finish, index) => relabel(finish.before, index));
    const first = finishes[0];
    const base = finishes.find((finish) => finish.response !== undefined)?.response;
    if (first === undefined || base === undefined) return { failed: true, calls: [], reasoning: '', before };
    const candidates = finishes.map((finish, index) => {
      const candidate = finish.response?.candidates?.[0];
      return candidate === undefined
        ? { content: { role: 'model' as const, parts: [{ text: '' }] }, finishReason: 'OTHER' as const, index }
        : { ...candidate, index };
    });
    const usageMetadata = first.response?.usageMetadata ?? base.usageMetadata;
    const response: GenerateContentResponse = { ...base, candidates };
    if (usageMetadata !== undefined) response.usageMetadata = usageMetadata;
    return { response, failed: false, calls: first.calls, reasoning: first.reasoning, before };
  }
}

export function createStreamTranslator(options: StreamTranslationOptions): StreamTranslator {
  const count = options.candidateCount ?? 1;
  return count > 1 ? new MultiCandidateStream(options, count) : new OpenAIStreamToGemini(options);
}
