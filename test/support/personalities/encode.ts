/**
 * The common encoder: an Utterance, planned for one request, → a provider's stream bytes or unary body. Each
 * personality describes its dialect as data (where usage lands, which reasoning field, how arguments are streamed,
 * SSE framing) plus a couple of small hooks (the chunk envelope, the usage object, the tool-call id format).
 */
import { isJsonObject, type Json, type JsonObject, type Rng, type UsageReport } from './core.js';

export interface PlannedCall {
  id: string;
  name: string;
  arguments: string;
}

export interface Plan {
  /** Response (chunk) id. */
  id: string;
  created: number;
  /** The model name the provider reports. */
  model: string;
  /** Reasoning the provider shows (empty when hidden or not thinking). */
  reasoning: string;
  /** Where the reasoning goes on this request. */
  reasoningField: ReasoningField;
  text: string;
  calls: PlannedCall[];
  finish: string;
  /** Usage numbers; the dialect decides whether and where they are sent. */
  usage: UsageReport;
  /** Whether the request asked for `stream_options.include_usage`. */
  includeUsage: boolean;
  rng: Rng;
}

export type ChunkPhase = 'preamble' | 'opening' | 'delta' | 'finish' | 'finish-again' | 'usage';

export type ReasoningField = 'reasoning_content' | 'reasoning' | 'reasoning+details' | 'think-tags' | 'hidden';

export interface StreamDialect {
  /** `data: ` (most) or `data:` (DashScope, Kimi Code). */
  readonly dataPrefix: 'data: ' | 'data:';
  /** Comment lines sent before the first event (OpenRouter processing, DeepSeek keep-alive). */
  readonly leadingComments: readonly string[];
  /** A comment sent after the first event and again before the finish (keep-alive while generating). */
  readonly midComment?: string;
  readonly done: boolean;
  /** The top-level chunk object around `choices` (id, object, created, model, provider-specific keys). */
  envelope(choices: Json[], phase: ChunkPhase, plan: Plan): JsonObject;
  /** Keys added to every choice (`logprobs: null`, `content_filter_results`). */
  readonly choiceExtras: JsonObject;
  /** GLM omits `finish_reason` on intermediate chunks. */
  readonly finishKeyMidStream: boolean;
  /** A role-only opening chunk (with these delta keys), or the role merged into the first real delta. */
  readonly opening: { readonly kind: 'separate'; readonly delta: JsonObject } | { readonly kind: 'merged' };
  /** GLM and old Ollama repeat `role` on every delta. */
  readonly roleOnEveryDelta: boolean;
  readonly reasoning: ReasoningField;
  /** Keys that ride along with reasoning deltas (DeepSeek `content:null`, Ollama `content:""`). */
  readonly reasoningDeltaExtras: JsonObject;
  /** Keys that ride along with content deltas (DeepSeek `reasoning_content:null`). */
  readonly contentDeltaExtras: JsonObject;
  /** Incremental (first chunk id+name, then fragments) or whole arguments in one chunk. */
  readonly toolArguments: 'incremental' | 'whole';
  /** Continuation fragments: no id (OpenAI) or `id:""` plus a repeated `type` (DashScope). */
  readonly continuationId: 'omit' | 'empty';
  /** DashScope: a trailing empty fragment, without a finish_reason key, before the finish chunk. */
  readonly trailingEmptyFragment: boolean;
  /** Keys on the first tool-call delta (OpenAI/DashScope `content:null`). */
  readonly toolDeltaExtras: JsonObject;
  /** The finish chunk's delta. */
  readonly finishDelta: JsonObject;
  readonly finishChoiceExtras: (plan: Plan) => JsonObject;
  /** OpenRouter sends the finish chunk twice (usage on the second). */
  readonly finishTwice: boolean;
  /**
   * Where usage lands: a trailing `choices:[]` chunk, the finish chunk, inside `choices[0]` (Kimi), both the finish
   * chunk and a trailing chunk (Groq).
   */
  readonly usage: 'trailing' | 'finish' | 'in-choice' | 'finish+trailing';
  /** Only with `stream_options.include_usage` (OpenAI, Azure, Ollama). */
  readonly usageNeedsOption: boolean;
  usageBody(usage: UsageReport, plan: Plan): JsonObject;
  /** Whether `usageBody` reports reasoning tokens / cached tokens (so tests know what Gemini should see). */
  readonly reportsReasoningTokens: boolean;
  readonly reportsCachedTokens: boolean;
  /** Extra chunks before the opening (Azure's identity-less chunk) and after the text (Azure annotations). */
  preamble?(plan: Plan): JsonObject[];
  afterText?(plan: Plan): JsonObject[];
  /** Tool-call id for the call at `index` of this turn. */
  toolCallId: (name: string, index: number, rng: Rng) => string;
}

export interface UnaryDialect {
  /** DeepSeek prefixes a unary body with blank lines while queued. */
  readonly rawPrefix: string;
  readonly reasoning: ReasoningField;
  /** Unary ids when they differ from streamed ones (GLM: signed decimal). */
  toolCallId?: (name: string, index: number, rng: Rng) => string;
  envelope(message: JsonObject, plan: Plan): JsonObject;
}

// ---------------------------------------------------------------------------------------------------------------

/** Splits text into about `parts` pieces at word boundaries (never empty pieces). */
export function pieces(text: string, parts = 3): string[] {
  if (text === '') return [];
  const words = text.split(/(?<=\s)/);
  const size = Math.max(1, Math.ceil(words.length / parts));
  const out: string[] = [];
  for (let start = 0; start < words.length; start += size) out.push(words.slice(start, start + size).join(''));
  return out;
}

/** Splits an argument string at fixed character positions (fragments cut through keys and values). */
export function fragments(text: string, parts = 3): string[] {
  if (text.length < parts) return [text];
  const size = Math.ceil(text.length / parts);
  const out: string[] = [];
  for (let start = 0; start < text.length; start += size) out.push(text.slice(start, start + size));
  return out;
}

function event(dialect: StreamDialect, payload: string): string {
  return `${dialect.dataPrefix}${payload}\n\n`;
}

/** The stream bytes, one write per event. */
export function encodeStream(dialect: StreamDialect, plan: Plan): string[] {
  const writes: string[] = dialect.leadingComments.map((comment) => `${comment}\n\n`);
  const chunks: JsonObject[] = [];
  let opened = false;

  const choice = (delta: JsonObject, finish?: string): JsonObject => {
    let full = delta;
    if (!opened && dialect.opening.kind === 'merged') full = { role: 'assistant', ...delta };
    else if (dialect.roleOnEveryDelta) full = { role: 'assistant', ...delta };
    opened = true;
    const out: JsonObject = { index: 0, delta: full, ...dialect.choiceExtras };
    if (finish !== undefined) out['finish_reason'] = finish;
    else if (dialect.finishKeyMidStream) out['finish_reason'] = null;
    return out;
  };
  const push = (delta: JsonObject, phase: ChunkPhase = 'delta'): void => {
    chunks.push(dialect.envelope([choice(delta)], phase, plan));
  };

  chunks.push(...(dialect.preamble?.(plan) ?? []));
  if (dialect.opening.kind === 'separate') {
    chunks.push(
      dialect.envelope(
        [
          {
            index: 0,
            delta: dialect.opening.delta,
            ...dialect.choiceExtras,
            ...(dialect.finishKeyMidStream ? { finish_reason: null } : {}),
          },
        ],
        'opening',
        plan,
      ),
    );
    opened = true;
  }

  // Reasoning, then text (docs/providers.md §4.1).
  if (plan.reasoning !== '') {
    switch (plan.reasoningField) {
      case 'reasoning_content':
        for (const piece of pieces(plan.reasoning)) push({ ...dialect.reasoningDeltaExtras, reasoning_content: piece });
        break;
      case 'reasoning':
        for (const piece of pieces(plan.reasoning)) push({ ...dialect.reasoningDeltaExtras, reasoning: piece });
        break;
      case 'reasoning+details':
        for (const piece of pieces(plan.reasoning)) {
          push({
            ...dialect.reasoningDeltaExtras,
            reasoning: piece,
            reasoning_details: [{ type: 'reasoning.text', text: piece, format: 'unknown', index: 0 }],
          });
        }
        break;
      case 'think-tags': {
        // The tags themselves are cut across deltas, as token streams do.
        const tagged = `<think>\n${plan.reasoning}\n</think>\n\n`;
        for (const piece of fragments(tagged, 5)) push({ ...dialect.contentDeltaExtras, content: piece });
        break;
      }
      case 'hidden':
        break;
    }
  }
  if (plan.text !== '') {
    for (const piece of pieces(plan.text)) push({ ...dialect.contentDeltaExtras, content: piece });
    chunks.push(...(dialect.afterText?.(plan) ?? []));
  }

  plan.calls.forEach((call, index) => {
    if (dialect.toolArguments === 'whole') {
      push({
        ...dialect.toolDeltaExtras,
        tool_calls: [
          { id: call.id, index, type: 'function', function: { name: call.name, arguments: call.arguments } },
        ],
      });
      return;
    }
    push({
      ...dialect.toolDeltaExtras,
      tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
    });
    for (const fragment of fragments(call.arguments)) {
      const continuation: JsonObject =
        dialect.continuationId === 'empty'
          ? { index, id: '', type: 'function', function: { arguments: fragment } }
          : { index, function: { arguments: fragment } };
      push({ ...(dialect.continuationId === 'empty' ? { content: null } : {}), tool_calls: [continuation] });
    }
    if (dialect.trailingEmptyFragment) {
      // DashScope: `{"delta":{"tool_calls":[…arguments:""…]},"index":0}`, no finish_reason key at all.
      chunks.push(
        dialect.envelope(
          [{ delta: { tool_calls: [{ function: { arguments: '' }, index, id: '', type: 'function' }] }, index: 0 }],
          'delta',
          plan,
        ),
      );
    }
  });

  const usageWanted = !dialect.usageNeedsOption || plan.includeUsage;
  const usage = dialect.usageBody(plan.usage, plan);
  const finishChoice = (): JsonObject => ({
    index: 0,
    delta: { ...dialect.finishDelta },
    ...dialect.choiceExtras,
    finish_reason: plan.finish,
    ...dialect.finishChoiceExtras(plan),
  });
  const finish = finishChoice();
  if (usageWanted && dialect.usage === 'in-choice') finish['usage'] = usage;
  if (dialect.finishTwice) finish['delta'] = { ...dialect.finishDelta, reasoning: null };
  const finishChunk = dialect.envelope([finish], 'finish', plan);
  if (dialect.finishTwice) {
    // OpenRouter: the first finish chunk carries `reasoning:null`, the second the usage (docs/providers.md §2.5).
    chunks.push(finishChunk);
    const again = dialect.envelope([finishChoice()], 'finish-again', plan);
    if (usageWanted) again['usage'] = usage;
    chunks.push(again);
  } else {
    if (usageWanted && (dialect.usage === 'finish' || dialect.usage === 'finish+trailing'))
      finishChunk['usage'] = usage;
    chunks.push(finishChunk);
  }
  if (usageWanted && (dialect.usage === 'trailing' || dialect.usage === 'finish+trailing')) {
    chunks.push({ ...dialect.envelope([], 'usage', plan), usage });
  }

  chunks.forEach((chunk, index) => {
    writes.push(event(dialect, JSON.stringify(chunk)));
    if (dialect.midComment !== undefined && (index === 0 || index === chunks.length - 2))
      writes.push(`${dialect.midComment}\n\n`);
  });
  if (dialect.done) writes.push(event(dialect, '[DONE]'));
  return writes;
}

/** What the usage body told the client, for the test's expected usageMetadata. */
export function reportedUsage(dialect: StreamDialect, plan: Plan, sent: boolean): UsageReport | undefined {
  if (!sent) return undefined;
  const report: UsageReport = { prompt: plan.usage.prompt, completion: plan.usage.completion };
  if (dialect.reportsReasoningTokens && plan.usage.reasoning !== undefined && plan.usage.reasoning > 0)
    report.reasoning = plan.usage.reasoning;
  if (dialect.reportsCachedTokens && plan.usage.cached !== undefined && plan.usage.cached > 0)
    report.cached = plan.usage.cached;
  return report;
}

export function streamSendsUsage(dialect: StreamDialect, plan: Plan): boolean {
  return !dialect.usageNeedsOption || plan.includeUsage;
}

/** The unary body (and raw prefix). */
export function encodeUnary(dialect: UnaryDialect, plan: Plan): { body: JsonObject; rawPrefix: string } {
  const message: JsonObject = { role: 'assistant' };
  let content = plan.text;
  if (plan.reasoning !== '') {
    const field = plan.reasoningField;
    if (field === 'think-tags') content = `<think>\n${plan.reasoning}\n</think>\n\n${content}`;
    else if (field === 'reasoning_content') message['reasoning_content'] = plan.reasoning;
    else if (field === 'reasoning' || field === 'reasoning+details') message['reasoning'] = plan.reasoning;
  }
  message['content'] = content === '' && plan.calls.length > 0 ? null : content;
  if (plan.calls.length > 0) {
    message['tool_calls'] = plan.calls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  return { body: dialect.envelope(message, plan), rawPrefix: dialect.rawPrefix };
}

/** The OpenAI unary envelope most providers share. */
export function openAIUnaryEnvelope(extras: {
  top?: JsonObject;
  choice?: JsonObject;
  usage: (plan: Plan) => JsonObject;
}): (message: JsonObject, plan: Plan) => JsonObject {
  return (message, plan) => ({
    id: plan.id,
    object: 'chat.completion',
    created: plan.created,
    model: plan.model,
    choices: [{ index: 0, message, ...(extras.choice ?? {}), finish_reason: plan.finish }],
    usage: extras.usage(plan),
    ...(extras.top ?? {}),
  });
}

/** The common usage object: prompt, completion, total, plus optional details. */
export function basicUsage(usage: UsageReport, details: { reasoning?: boolean; cached?: boolean } = {}): JsonObject {
  const body: JsonObject = {
    prompt_tokens: usage.prompt,
    completion_tokens: usage.completion,
    total_tokens: usage.prompt + usage.completion,
  };
  if (details.cached === true) body['prompt_tokens_details'] = { cached_tokens: usage.cached ?? 0 };
  if (details.reasoning === true) body['completion_tokens_details'] = { reasoning_tokens: usage.reasoning ?? 0 };
  return body;
}

export function withoutKeys(object: JsonObject, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(object)) if (!keys.includes(key)) out[key] = value;
  return out;
}

export function asObject(value: Json | undefined): JsonObject {
  return isJsonObject(value) ? value : {};
}
