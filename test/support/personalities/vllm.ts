/**
 * vLLM (docs/providers.md §10.10): a role-only opening chunk, `logprobs:null` on every choice, `reasoning` (the field
 * was renamed from `reasoning_content` in Oct 2025), incremental arguments, ids `chatcmpl-tool-<hex>`, usage on a
 * trailing chunk (include_usage defaults to true), errors with an **int** `code`, `/tokenize` (outside `/v1`).
 * Rejects: images on text-only models, a non-object `chat_template_kwargs`. Qwen3 templates think unless
 * `chat_template_kwargs.enable_thinking` is false. Quota: none on a self-hosted server; a plain 429 stands in.
 */
import { checkConversation, hasImages } from './checks.js';
import { bearerToken, HEX, isJsonObject, reject, UPSTREAM_KEY, type Personality } from './core.js';
import { basicUsage, openAIUnaryEnvelope } from './encode.js';

const ERROR_TYPES: Record<number, string> = {
  400: 'BadRequestError',
  401: 'Unauthorized',
  404: 'NotFoundError',
  429: 'TooManyRequestsError',
};

export const vllm: Personality = {
  name: 'vllm',
  basePath: '/v1',
  models: {
    'Qwen/Qwen3-32B': { vision: false, thinking: 'default-on' },
    'Qwen/Qwen2.5-VL-7B-Instruct': { vision: true, thinking: 'off' },
  },
  stream: {
    dataPrefix: 'data: ',
    leadingComments: [],
    done: true,
    envelope: (choices, _phase, plan) => ({
      id: plan.id,
      object: 'chat.completion.chunk',
      created: plan.created,
      model: plan.model,
      choices,
    }),
    choiceExtras: { logprobs: null },
    finishKeyMidStream: true,
    opening: { kind: 'separate', delta: { role: 'assistant', content: '' } },
    roleOnEveryDelta: false,
    reasoning: 'reasoning',
    reasoningDeltaExtras: {},
    contentDeltaExtras: {},
    toolArguments: 'incremental',
    continuationId: 'omit',
    trailingEmptyFragment: false,
    toolDeltaExtras: {},
    finishDelta: { content: '' },
    finishChoiceExtras: () => ({ stop_reason: null }),
    finishTwice: false,
    usage: 'trailing',
    usageNeedsOption: false,
    usageBody: (usage) => ({ ...basicUsage(usage), prompt_tokens_details: null }),
    reportsReasoningTokens: false,
    reportsCachedTokens: false,
    toolCallId: (_name, _index, rng) => `chatcmpl-tool-${rng.string(32, HEX)}`,
  },
  unary: {
    rawPrefix: '',
    reasoning: 'reasoning',
    envelope: openAIUnaryEnvelope({
      choice: { logprobs: null, stop_reason: null },
      top: { prompt_logprobs: null },
      usage: (plan) => ({ ...basicUsage(plan.usage), prompt_tokens_details: null }),
    }),
  },
  quota: {
    rejection: {
      status: 429,
      why: 'rate-limit',
      body: {
        error: {
          message: 'Too many requests: the server is at capacity, please retry later',
          type: 'TooManyRequestsError',
          param: null,
          code: 429,
        },
      },
    }, // composed
    expect: { httpStatus: 429, status: 'RESOURCE_EXHAUSTED', reason: 'UPSTREAM_RATE_LIMITED' },
  },
  route(url) {
    if (url.pathname === '/v1/chat/completions') return { kind: 'chat' };
    if (url.pathname === '/tokenize') return { kind: 'tokens' };
    return undefined;
  },
  authenticate: (headers) =>
    bearerToken(headers) === UPSTREAM_KEY ? undefined : { status: 401, why: 'auth', body: { error: 'Unauthorized' } },
  envelope: (problem) => ({
    error: {
      message: problem.message,
      type: ERROR_TYPES[problem.status] ?? 'InternalServerError',
      param: problem.param ?? null,
      code: problem.status,
    },
  }),
  notFound(url) {
    return reject(this, { status: 404, why: 'path', message: `Not Found: ${url.pathname}` });
  },
  unknownModel(model) {
    return reject(this, {
      status: 404,
      why: 'model',
      param: 'model',
      message: `The model \`${model}\` does not exist.`,
    });
  },
  thinking(chat, traits) {
    if (traits.thinking === 'off') return false;
    const kwargs = chat.raw['chat_template_kwargs'];
    return !(isJsonObject(kwargs) && kwargs['enable_thinking'] === false);
  },
  validate(chat, context) {
    const conversation = checkConversation(chat);
    if (conversation !== undefined) return reject(this, conversation);
    const kwargs = chat.raw['chat_template_kwargs'];
    if (kwargs !== undefined && !isJsonObject(kwargs))
      return reject(this, {
        status: 400,
        why: 'chat_template_kwargs',
        message: 'chat_template_kwargs: Input should be a valid dictionary',
      });
    if (hasImages(chat) && !context.traits.vision) {
      return reject(this, { status: 400, why: 'image', message: `${chat.model} is not a multimodal model` }); // composed
    }
    return undefined;
  },
  ignored(chat) {
    // vLLM ignores parallel_tool_calls (docs/providers.md §3.7).
    return 'parallel_tool_calls' in chat.raw ? ['parallel_tool_calls'] : [];
  },
  countTokens(body, rawText) {
    if (!isJsonObject(body) || typeof body['model'] !== 'string')
      return { rejection: reject(this, { status: 400, why: 'tokens', message: 'model is required' }) };
    if (!Object.hasOwn(this.models, body['model'])) return { rejection: this.unknownModel(body['model']) };
    const count = Math.ceil(rawText.length / 4);
    return {
      reply: {
        count,
        max_model_len: 32768,
        tokens: Array.from({ length: Math.min(count, 8) }, (_, index) => 151644 + index),
      },
    };
  },
  responseId: (rng) => `chatcmpl-${rng.string(32, HEX)}`,
};
