/**
 * candidateCount on an upstream without `n` (issue 11): N parallel calls of the same request, one candidate each,
 * merged by candidate index. Unary: one response with every candidate. Stream: each call's chunks go out as they come,
 * relabelled with its candidate index; each call's final chunk is held back, and once all calls are over one last
 * response carries every candidate's finish and the usage summed over the calls. A call that fails before anything
 * reached the client fails the whole attempt (so the gateway may retry); one that fails later ends the whole stream
 * with its raw error object ([R-FIN-5]), like a single call.
 */
import type { Candidate, GenerateContentResponse, UsageMetadata } from '../translate/gemini-types.js';
import type { UpstreamTarget } from '../upstream/endpoints.js';
import {
  attemptUpstream,
  type AttemptOutcome,
  type AttemptSetup,
  type ResponseSink,
  type UpstreamCallRequest,
} from './upstream-attempt.js';

function relabel(response: GenerateContentResponse, index: number): GenerateContentResponse {
  return { ...response, candidates: (response.candidates ?? []).map((candidate) => ({ ...candidate, index })) };
}

function sumUsage(usages: UsageMetadata[]): UsageMetadata | undefined {
  if (usages.length === 0) return undefined;
  const total: UsageMetadata = { promptTokenCount: 0, candidatesTokenCount: 0, totalTokenCount: 0 };
  for (const usage of usages) {
    total.promptTokenCount += usage.promptTokenCount;
    total.candidatesTokenCount += usage.candidatesTokenCount;
    total.totalTokenCount += usage.totalTokenCount;
    if (usage.cachedContentTokenCount !== undefined)
      total.cachedContentTokenCount = (total.cachedContentTokenCount ?? 0) + usage.cachedContentTokenCount;
    if (usage.thoughtsTokenCount !== undefined)
      total.thoughtsTokenCount = (total.thoughtsTokenCount ?? 0) + usage.thoughtsTokenCount;
  }
  return total;
}

/** Every candidate of `finals` (index i for call i) in one response, usage summed; OTHER for a call without one. */
function mergeFinals(finals: Array<GenerateContentResponse | undefined>): GenerateContentResponse | undefined {
  const base = finals.find((response) => response !== undefined);
  if (base === undefined) return undefined;
  const candidates: Candidate[] = finals.map((response, index) => {
    const candidate = response?.candidates?.[0];
    return candidate === undefined
      ? { content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'OTHER', index }
      : { ...candidate, index };
  });
  const merged: GenerateContentResponse = { ...base, candidates };
  const usage = sumUsage(
    finals.flatMap((response) => (response?.usageMetadata === undefined ? [] : [response.usageMetadata])),
  );
  if (usage !== undefined) merged.usageMetadata = usage;
  return merged;
}

/** The sink one call writes to: chunks forwarded relabelled, the final one kept for the merge. */
class CandidateSink implements ResponseSink {
  final: GenerateContentResponse | undefined;
  unary: GenerateContentResponse | undefined;

  constructor(
    private readonly shared: SharedStream,
    private readonly index: number,
  ) {}

  commit(heartbeatSeconds: number, firstEventBuffered?: boolean): void {
    this.shared.commit(heartbeatSeconds, firstEventBuffered);
  }

  async send(responses: GenerateContentResponse[], heartbeatSeconds: number): Promise<void> {
    const now: GenerateContentResponse[] = [];
    for (const response of responses) {
      if (response.candidates?.[0]?.finishReason !== undefined) this.final = response;
      else now.push(relabel(response, this.index));
    }
    await this.shared.send(now, heartbeatSeconds);
  }

  sendUnary(response: GenerateContentResponse): void {
    this.unary = response;
  }

  end(): void {
    // The merged final response ends the client's stream, once every call is over.
  }
}

/** The client's sink, committed once and written by all calls. */
class SharedStream {
  private committed = false;
  forwarded = false;

  constructor(private readonly sink: ResponseSink) {}

  commit(heartbeatSeconds: number, firstEventBuffered?: boolean): void {
    if (this.committed) return;
    this.committed = true;
    this.sink.commit(heartbeatSeconds, firstEventBuffered);
  }

  async send(responses: GenerateContentResponse[], heartbeatSeconds: number): Promise<void> {
    if (responses.length === 0) return;
    this.forwarded = true;
    await this.sink.send(responses, heartbeatSeconds);
  }
}

export async function attemptFanOut(
  setup: AttemptSetup,
  request: UpstreamCallRequest,
  target: UpstreamTarget,
  calls: number,
): Promise<AttemptOutcome> {
  const shared = new SharedStream(setup.sink);
  const sinks = Array.from({ length: calls }, (_unused, index) => new CandidateSink(shared, index));
  const outcomes = await Promise.all(sinks.map((sink) => attemptUpstream({ ...setup, sink }, request, target)));
  const firstFailure = outcomes.find(
    (outcome): outcome is Extract<AttemptOutcome, { kind: 'failed' }> => outcome.kind === 'failed',
  );
  if (firstFailure !== undefined && !shared.forwarded) return firstFailure;
  const first = outcomes[0];
  const base = {
    calls: first?.kind === 'done' ? first.calls : [],
    reasoning: first?.kind === 'done' ? first.reasoning : '',
  };
  if (!setup.stream) {
    const merged = mergeFinals(sinks.map((sink) => sink.unary));
    if (merged === undefined) return firstFailure ?? { kind: 'done', ...base };
    setup.sink.sendUnary(merged);
    return { kind: 'done', unary: merged, ...base };
  }
  const lateError = outcomes
    .map((item) => (item.kind === 'done' ? undefined : item.error))
    .find((error) => error !== undefined);
  if (lateError !== undefined) return { kind: 'broken', error: lateError };
  const merged = mergeFinals(sinks.map((sink) => sink.final));
  if (merged !== undefined) await setup.sink.send([merged], setup.heartbeatSeconds);
  setup.sink.end();
  return { kind: 'done', ...base };
}
