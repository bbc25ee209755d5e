/**
 * Upstream `choices[].logprobs.content[]` → Gemini `logprobsResult` (`chosenCandidates`, `topCandidates`) and
 * `avgLogprobs` on the candidate that carries the finish. Collected over the whole turn, since a stream's tokens
 * arrive in many chunks. Pure.
 */
import type { Candidate, LogprobsCandidate } from './gemini-types.js';
import type { OpenAIChoice } from './openai-types.js';

function candidateOf(token: { token?: string; logprob?: number }): LogprobsCandidate | undefined {
  if (typeof token.token !== 'string' || typeof token.logprob !== 'number' || !Number.isFinite(token.logprob))
    return undefined;
  return { token: token.token, logProbability: token.logprob };
}

export class LogprobsCollector {
  private readonly chosen: LogprobsCandidate[] = [];
  private readonly top: Array<{ candidates: LogprobsCandidate[] }> = [];

  push(logprobs: OpenAIChoice['logprobs']): void {
    const content = logprobs?.content;
    if (!Array.isArray(content)) return;
    for (const token of content) {
      if (typeof token !== 'object' || token === null) continue;
      const chosen = candidateOf(token);
      if (chosen === undefined) continue;
      this.chosen.push(chosen);
      const alternatives = Array.isArray(token.top_logprobs) ? token.top_logprobs : [];
      this.top.push({
        candidates: alternatives.map(candidateOf).filter((item): item is LogprobsCandidate => item !== undefined),
      });
    }
  }

  /** The candidate fields to add; none when the upstream sent no logprobs. */
  result(): Pick<Candidate, 'avgLogprobs' | 'logprobsResult'> {
    if (this.chosen.length === 0) return {};
    const sum = this.chosen.reduce((total, item) => total + item.logProbability, 0);
    return {
      avgLogprobs: sum / this.chosen.length,
      logprobsResult: { topCandidates: this.top, chosenCandidates: this.chosen },
    };
  }
}
