/**
 * Qwen on DashScope compatible mode (docs/providers.md §10.6, §3.2): **`data:` without a space** (also on `[DONE]`),
 * tool continuations with `id:""` and a repeated `type`, a trailing empty fragment without a finish_reason key, usage
 * on a trailing `choices:[]` chunk, `reasoning_content` with `content:null`, `top_k` accepted.
 * Rejects: a non-streaming call unless `enable_thinking:false` (§4.3, exact body), images on non-VL models.
 * Quota: DashScope's balance error is not documented in docs/providers.md; a plain 429 rate limit stands in
 * (retryable).
 */
import { checkConversation, hasImages } from './checks.js';
import { bearerToken, HEX, reject, UPSTREAM_KEY, type Json, type Personality, type Problem } from './core.js';
import { basicUsage, openAIUnaryEnvelope } from './encode.js';

const BASE = '/compatible-mode/v1';
const TEXT = { vision: false, thinking: 'default-off' } as const;

/** Error bodies carry the response and request ids (fixed here: errors are not planned with the seeded generator). */
const ERROR_IDS = {
  id: 'chatcmpl-5b7e0c1d-9f2a-4c3b-8d1e-7a6f5e4d3c2b',
  request_id: '5b7e0c1d-9f2a-4c3b-8d1e-7a6f5e4d3c2b',
} as const;

export const dashscope: Personality = {
  name: 'dashscope',
  basePath: BASE,
  models: {
    'qwen3-max': TEXT,
    'qwen-plus': TEXT,
    'qwen-flash': TEXT,
    'qwen3-vl-plus': { vision: true, thinking: 'default-off' },
  },
  stream: {
    dataPrefix: 'data:',
    leadingComments: [],
    done: true,
    envelope: (choices, _phase, plan) => ({
      choices,
      object: 'chat.completion.chunk',
      usage: null,
      created: plan.created,
      system_fingerprint: null,
      model: plan.model,
      id: plan.id,
    }),
    choiceExtras: { logprobs: null },
    finishKeyMidStream: true,
    opening: { kind: 'separate', delta: { content: '', role: 'assistant' } },
    roleOnEveryDelta: false,
    reasoning: 'reasoning_content',
    reasoningDeltaExtras: { content: null },
    contentDeltaExtras: { reasoning_content: null },
    toolArguments: 'incremental',
    continuationId: 'empty',
    trailingEmptyFragment: true,
    toolDeltaExtras: { content: null },
    finishDelta: {},
    finishChoiceExtras: () => ({}),
    finishTwice: false,
    usage: 'trailing',
    usageNeedsOption: true,
    usageBody: (usage) => basicUsage(usage, { cached: true }),
    reportsReasoningTokens: false,
    reportsCachedTokens: true,
    toolCallId: (_name, _index, rng) => `call_${rng.string(24, HEX)}`,
  },
  unary: {
    rawPrefix: '',
    reasoning: 'reasoning_content',
    envelope: openAIUnaryEnvelope({
      choice: { logprobs: null },
      top: { system_fingerprint: null },
      usage: (plan) => basicUsage(plan.usage, { cached: true }),
    }),
  },
  quota: {
    rejection: {
      status: 429,
      why: 'rate-limit',
      body: {
        error: {
          message: 'Requests rate limit exceeded, please try again later.',
          type: 'limit_requests',
          param: null,
          code: 'limit_requests',
        },
        ...ERROR_IDS,
      },
    },
    expect: { httpStatus: 429, status: 'RESOURCE_EXHAUSTED', reason: 'UPSTREAM_RATE_LIMITED' },
  },
  route: (url) => (url.pathname === `${BASE}/chat/completions` ? { kind: 'chat' } : undefined),
  authenticate(headers) {
    if (bearerToken(headers) === UPSTREAM_KEY) return undefined;
    return reject(this, {
      status: 401,
      why: 'auth',
      type: 'invalid_request_error',
      code: 'invalid_api_key',
      message: 'Incorrect API key provided. ',
    });
  },
  envelope: (problem: Problem): Json => ({
    error: {
      code: problem.code ?? 'invalid_parameter_error',
      param: problem.param ?? null,
      message: problem.message,
      type: problem.type ?? 'invalid_request_error',
    },
    ...ERROR_IDS,
  }),
  notFound(url) {
    return reject(this, { status: 404, why: 'path', code: 'not_found', message: `Not Found: ${url.pathname}` }); // composed
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
    const flag = chat.raw['enable_thinking'];
    if (typeof flag === 'boolean') return flag;
    return traits.thinking === 'default-on' || traits.thinking === 'always';
  },
  validate(chat, context) {
    const conversation = checkConversation(chat);
    if (conversation !== undefined) return reject(this, conversation);
    if (!chat.stream && chat.raw['enable_thinking'] !== false) {
      return reject(this, {
        status: 400,
        why: 'enable_thinking',
        message: 'parameter.enable_thinking must be set to false for non-streaming calls',
      });
    }
    if (hasImages(chat) && !context.traits.vision) {
      return reject(this, {
        status: 400,
        why: 'image',
        message: `The model ${chat.model} does not support image input.`,
      }); // composed
    }
    return undefined;
  },
  responseId: (rng) => `chatcmpl-${rng.uuid()}`,
};
