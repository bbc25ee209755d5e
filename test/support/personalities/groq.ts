/**
 * Groq (docs/providers.md §10.7, §2.3): `x_groq` on the first and finish chunks, whole arguments per chunk, 9-character
 * ids, usage **twice** (finish chunk with `x_groq.usage`, then a trailing `choices:[]` chunk). Reasoning models answer
 * in `reasoning` with `reasoning_format:"parsed"`, inside `<think>` tags in content by default (`raw`), not at all with
 * `hidden`.
 * Rejects: `reasoning_content` or `reasoning` on any message (exact wording, §4.2); tool names outside
 * `^[a-zA-Z0-9_-]+$`; `reasoning_format` on non-reasoning models; image parts on text models. Quota: Groq has no
 * balance error; its documented 429 is a TPM rate limit with `retry-after` (retryable).
 */
import { checkConversation, checkToolNames, hasImages, OPENAI_NAME } from './checks.js';
import {
  bearerToken,
  imageParts,
  LOWER_ALNUM,
  reject,
  UPSTREAM_KEY,
  type JsonObject,
  type Personality,
  type Problem,
  type UsageReport,
} from './core.js';
import { openAIUnaryEnvelope, type Plan } from './encode.js';

function usage(report: UsageReport): JsonObject {
  const body: JsonObject = {
    queue_time: 0.052,
    prompt_tokens: report.prompt,
    prompt_time: 0.011,
    completion_tokens: report.completion,
    completion_time: 0.09,
    total_tokens: report.prompt + report.completion,
    total_time: 0.101,
  };
  if (report.reasoning !== undefined && report.reasoning > 0)
    body['completion_tokens_details'] = { reasoning_tokens: report.reasoning };
  return body;
}

function xGroq(plan: Plan, withUsage: boolean): JsonObject {
  const id = `req_01${plan.id.slice(-22)}`;
  return withUsage ? { id, usage: usage(plan.usage) } : { id };
}

export const groq: Personality = {
  name: 'groq',
  basePath: '/openai/v1',
  models: {
    'moonshotai/kimi-k2-instruct-0905': { vision: false, thinking: 'off' },
    'llama-3.1-8b-instant': { vision: false, thinking: 'off' },
    'llama-3.3-70b-versatile': { vision: false, thinking: 'off' },
    'qwen/qwen3-32b': { vision: false, thinking: 'default-on' },
    'meta-llama/llama-4-scout-17b-16e-instruct': { vision: true, thinking: 'off' },
  },
  stream: {
    dataPrefix: 'data: ',
    leadingComments: [],
    done: true,
    envelope(choices, phase, plan) {
      const chunk: JsonObject = {
        id: plan.id,
        object: 'chat.completion.chunk',
        created: plan.created,
        model: plan.model,
        system_fingerprint: 'fp_4cfc2deea6',
        choices,
      };
      if (phase === 'opening') chunk['x_groq'] = xGroq(plan, false);
      if (phase === 'finish') chunk['x_groq'] = xGroq(plan, true);
      if (phase === 'usage') chunk['service_tier'] = 'on_demand';
      return chunk;
    },
    choiceExtras: { logprobs: null },
    finishKeyMidStream: true,
    opening: { kind: 'separate', delta: { role: 'assistant', content: '' } },
    roleOnEveryDelta: false,
    reasoning: 'reasoning',
    reasoningDeltaExtras: {},
    contentDeltaExtras: {},
    toolArguments: 'whole',
    continuationId: 'omit',
    trailingEmptyFragment: false,
    toolDeltaExtras: {},
    finishDelta: {},
    finishChoiceExtras: () => ({}),
    finishTwice: false,
    usage: 'finish+trailing',
    usageNeedsOption: false,
    usageBody: usage,
    reportsReasoningTokens: true,
    reportsCachedTokens: false,
    toolCallId: (_name, _index, rng) => rng.string(9, LOWER_ALNUM),
  },
  unary: {
    rawPrefix: '',
    reasoning: 'reasoning',
    envelope: openAIUnaryEnvelope({
      choice: { logprobs: null },
      top: { system_fingerprint: 'fp_4cfc2deea6', x_groq: { id: 'req_01k5d0s0v2e7d9r2m1x8c4a6b3' } },
      usage: (plan) => usage(plan.usage),
    }),
  },
  quota: {
    rejection: {
      status: 429,
      why: 'rate-limit',
      headers: { 'retry-after': '9' },
      body: {
        error: {
          message:
            'Rate limit reached for model `moonshotai/kimi-k2-instruct-0905` in organization `org_01k2x` service tier `on_demand` on tokens per minute (TPM): Limit 10000, Used 9800, Requested 1630. Please try again in 8.58s. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing',
          type: 'tokens',
          code: 'rate_limit_exceeded',
        },
      },
    },
    expect: { httpStatus: 429, status: 'RESOURCE_EXHAUSTED', reason: 'UPSTREAM_RATE_LIMITED', retryDelay: '9s' },
  },
  route: (url) => (url.pathname === '/openai/v1/chat/completions' ? { kind: 'chat' } : undefined),
  authenticate(headers) {
    return bearerToken(headers) === UPSTREAM_KEY
      ? undefined
      : reject(this, { status: 401, why: 'auth', code: 'invalid_api_key', message: 'Invalid API Key' });
  },
  envelope: (problem: Problem) => {
    const error: JsonObject = { message: problem.message, type: problem.type ?? 'invalid_request_error' };
    if (problem.code !== undefined) error['code'] = problem.code;
    if (problem.param !== undefined) error['param'] = problem.param;
    return { error };
  },
  notFound(url) {
    return reject(this, {
      status: 404,
      why: 'path',
      code: 'unknown_url',
      message: `Unknown request URL: POST ${url.pathname}. Please check the URL for typos, or see the docs at https://console.groq.com/docs/`,
    });
  },
  unknownModel(model) {
    return reject(this, {
      status: 404,
      why: 'model',
      code: 'model_not_found',
      message: `The model \`${model}\` does not exist or you do not have access to it.`,
    });
  },
  thinking(chat, traits) {
    if (traits.thinking === 'off') return false;
    return chat.raw['reasoning_effort'] !== 'none';
  },
  reasoningFor(chat) {
    const format = chat.raw['reasoning_format'];
    return format === 'parsed' ? 'reasoning' : format === 'hidden' ? 'hidden' : 'think-tags';
  },
  validate(chat, context) {
    for (const message of chat.messages) {
      for (const field of ['reasoning_content', 'reasoning']) {
        if (field in message.raw) {
          const at = `messages.${message.index}`;
          return reject(this, {
            status: 400,
            why: 'reasoning-field',
            message: `'${at}' : for 'role:${message.role}' the following must be satisfied[('${at}' : property '${field}' is unsupported)]`,
          });
        }
      }
    }
    const problem = checkConversation(chat) ?? checkToolNames(chat, OPENAI_NAME);
    if (problem !== undefined) return reject(this, problem);
    if ('reasoning_format' in chat.raw && context.traits.thinking === 'off') {
      return reject(this, {
        status: 400,
        why: 'reasoning_format',
        message: 'reasoning_format is not supported with this model',
      });
    }
    if (hasImages(chat) && !context.traits.vision) {
      const at = `messages.${imageParts(chat)[0]?.messageIndex ?? 0}`;
      return reject(this, {
        status: 400,
        why: 'image',
        message: `'${at}' : for 'role:user' the following must be satisfied[('${at}.content' : value must be a string)]`,
      });
    }
    return undefined;
  },
  responseId: (rng) => `chatcmpl-${rng.uuid()}`,
};
