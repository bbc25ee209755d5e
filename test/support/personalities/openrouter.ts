/**
 * OpenRouter (docs/providers.md §10.8, §2.1, §2.5), routed to Chutes' Kimi K2.5: `: OPENROUTER PROCESSING` comments
 * before and between events, `provider` and `native_finish_reason` keys, `role` on every delta, `reasoning` plus
 * `reasoning_details[]`, ids `functions.<name>:<idx>` (the routed provider's), the finish chunk **twice** (the first
 * with `reasoning:null`, the second with usage and `cost`). Errors carry an int `code`; a routed provider's error is
 * wrapped as a string in `metadata.raw`.
 * Rejects: a malformed `reasoning` object; images on text-only routed models (wrapped). Quota: 402 insufficient
 * credits.
 */
import { checkConversation, hasImages } from './checks.js';
import {
  ALNUM,
  bearerToken,
  DIGITS,
  isJsonObject,
  type JsonObject,
  type Personality,
  type Problem,
  type Rejection,
  UPSTREAM_KEY,
  type UsageReport,
} from './core.js';
import { openAIUnaryEnvelope } from './encode.js';

function usage(report: UsageReport): JsonObject {
  return {
    prompt_tokens: report.prompt,
    completion_tokens: report.completion,
    total_tokens: report.prompt + report.completion,
    cost: 0.000217,
    is_byok: false,
    prompt_tokens_details: { cached_tokens: report.cached ?? 0 },
    cost_details: { upstream_inference_cost: null },
    completion_tokens_details: { reasoning_tokens: report.reasoning ?? 0 },
  };
}

function error(code: number, message: string, why: string, metadata?: JsonObject): Rejection {
  return {
    status: code,
    why,
    body: { error: metadata === undefined ? { code, message } : { code, message, metadata } },
  };
}

/** A routed provider's rejection, wrapped the OpenRouter way. */
function wrapped(problem: Problem, providerName: string): Rejection {
  const raw = JSON.stringify({
    error: {
      message: problem.message,
      type: problem.type ?? 'invalid_request_error',
      param: problem.param ?? null,
      code: problem.code ?? null,
    },
  });
  return error(problem.status, 'Provider returned error', problem.why, { provider_name: providerName, raw });
}

const EFFORTS = ['minimal', 'low', 'medium', 'high'];

export const openrouter: Personality = {
  name: 'openrouter',
  basePath: '/api/v1',
  models: {
    'moonshotai/kimi-k2.5': { vision: true, thinking: 'default-on' },
    'moonshotai/kimi-k2-0905': { vision: false, thinking: 'off' },
    'z-ai/glm-5': { vision: false, thinking: 'default-on' },
  },
  stream: {
    dataPrefix: 'data: ',
    leadingComments: [': OPENROUTER PROCESSING', ': OPENROUTER PROCESSING'],
    midComment: ': OPENROUTER PROCESSING',
    done: true,
    envelope: (choices, _phase, plan) => ({
      id: plan.id,
      object: 'chat.completion.chunk',
      created: plan.created,
      model: plan.model,
      provider: 'Chutes',
      choices,
    }),
    choiceExtras: { native_finish_reason: null },
    finishKeyMidStream: true,
    opening: { kind: 'separate', delta: { role: 'assistant', content: '' } },
    roleOnEveryDelta: true,
    reasoning: 'reasoning+details',
    reasoningDeltaExtras: { content: '' },
    contentDeltaExtras: {},
    toolArguments: 'incremental',
    continuationId: 'omit',
    trailingEmptyFragment: false,
    toolDeltaExtras: { content: '' },
    finishDelta: { content: '', role: 'assistant' },
    finishChoiceExtras: (plan) => ({ native_finish_reason: plan.finish }),
    finishTwice: true,
    usage: 'finish',
    usageNeedsOption: false,
    usageBody: usage,
    reportsReasoningTokens: true,
    reportsCachedTokens: true,
    toolCallId: (name, index) => `functions.${name}:${index}`,
  },
  unary: {
    rawPrefix: '',
    reasoning: 'reasoning',
    envelope: openAIUnaryEnvelope({
      choice: { logprobs: null, native_finish_reason: 'stop' },
      top: { provider: 'Chutes' },
      usage: (plan) => usage(plan.usage),
    }),
  },
  quota: {
    rejection: error(402, 'Insufficient credits. Add more using https://openrouter.ai/settings/credits', 'quota'),
    expect: { httpStatus: 400, status: 'FAILED_PRECONDITION', reason: 'UPSTREAM_INSUFFICIENT_BALANCE' },
  },
  route: (url) => (url.pathname === '/api/v1/chat/completions' ? { kind: 'chat' } : undefined),
  authenticate: (headers) =>
    bearerToken(headers) === UPSTREAM_KEY ? undefined : error(401, 'No auth credentials found', 'auth'),
  envelope: (problem) => ({ error: { code: problem.status, message: problem.message } }),
  notFound: () => error(404, 'Not Found', 'path'),
  unknownModel: (model) => error(400, `${model} is not a valid model ID`, 'model'),
  thinking(chat, traits) {
    if (traits.thinking === 'off') return false;
    const reasoning = chat.raw['reasoning'];
    if (isJsonObject(reasoning) && (reasoning['enabled'] === false || reasoning['effort'] === 'none')) return false;
    return true;
  },
  validate(chat, context) {
    const conversation = checkConversation(chat, ['system', 'developer', 'user', 'assistant', 'tool']);
    if (conversation !== undefined) return error(400, conversation.message, conversation.why);
    const reasoning = chat.raw['reasoning'];
    if (reasoning !== undefined) {
      const valid =
        isJsonObject(reasoning) &&
        Object.keys(reasoning).every((key) => ['effort', 'max_tokens', 'enabled', 'exclude'].includes(key)) &&
        (reasoning['effort'] === undefined ||
          (typeof reasoning['effort'] === 'string' && EFFORTS.includes(reasoning['effort']))) &&
        (reasoning['max_tokens'] === undefined ||
          (typeof reasoning['max_tokens'] === 'number' && Number.isInteger(reasoning['max_tokens']))) &&
        (reasoning['enabled'] === undefined || typeof reasoning['enabled'] === 'boolean');
      if (!valid) return error(400, `Invalid reasoning parameter: ${JSON.stringify(reasoning)}`, 'reasoning'); // composed
    }
    if (hasImages(chat) && !context.traits.vision) {
      return wrapped({ status: 400, why: 'image', message: 'image input is not supported for this model' }, 'Chutes'); // composed inner text
    }
    return undefined;
  },
  responseId: (rng) => `gen-${rng.string(10, DIGITS)}-${rng.string(20, ALNUM)}`,
};
