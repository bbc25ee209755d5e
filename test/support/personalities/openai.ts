/**
 * OpenAI (docs/providers.md §10.1): role-only opening chunk, incremental arguments, usage on a trailing `choices:[]`
 * chunk only with include_usage, `obfuscation` and `service_tier` keys, reasoning hidden (only `reasoning_tokens`).
 * Rejects: unknown request arguments (`top_k`, other providers' thinking controls), tool names outside
 * `^[a-zA-Z0-9_-]+$`, `max_tokens`, `top_p` and temperature ≠ 1 on reasoning models, `reasoning_effort` on other models,
 * images on non-vision models, json_object without the word "json". Quota: 429 `insufficient_quota`.
 */
import {
  checkConversation,
  checkToolNames,
  hasImages,
  mentionsJson,
  numberField,
  OPENAI_NAME,
  responseFormatType,
} from './checks.js';
import {
  ALNUM,
  bearerToken,
  imageParts,
  isJsonObject,
  openAIEnvelope,
  reject,
  UPSTREAM_KEY,
  type ChatRequest,
  type CheckContext,
  type Personality,
  type Problem,
  type Rejection,
} from './core.js';
import { basicUsage, openAIUnaryEnvelope, type StreamDialect, type UnaryDialect } from './encode.js';

/** Request arguments the Chat Completions API knows; anything else is "Unrecognized request argument supplied". */
export const OPENAI_REQUEST_KEYS = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'stop',
  'n',
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'response_format',
  'reasoning_effort',
  'user',
  'logprobs',
  'top_logprobs',
  'logit_bias',
  'metadata',
  'store',
  'service_tier',
  'modalities',
  'audio',
  'prediction',
  'web_search_options',
  'verbosity',
  'prompt_cache_key',
  'safety_identifier',
]);

export const openAIStream: StreamDialect = {
  dataPrefix: 'data: ',
  leadingComments: [],
  done: true,
  envelope: (choices, phase, plan) => ({
    id: plan.id,
    object: 'chat.completion.chunk',
    created: plan.created,
    model: plan.model,
    service_tier: 'default',
    system_fingerprint: null,
    choices,
    usage: null,
    obfuscation: phase === 'usage' ? 'b' : plan.rng.string(4, ALNUM),
  }),
  choiceExtras: {},
  finishKeyMidStream: true,
  opening: { kind: 'separate', delta: { role: 'assistant', content: '', refusal: null } },
  roleOnEveryDelta: false,
  reasoning: 'hidden',
  reasoningDeltaExtras: {},
  contentDeltaExtras: {},
  toolArguments: 'incremental',
  continuationId: 'omit',
  trailingEmptyFragment: false,
  toolDeltaExtras: {},
  finishDelta: {},
  finishChoiceExtras: () => ({}),
  finishTwice: false,
  usage: 'trailing',
  usageNeedsOption: true,
  usageBody: (usage) => basicUsage(usage, { reasoning: true, cached: true }),
  reportsReasoningTokens: true,
  reportsCachedTokens: true,
  toolCallId: (_name, _index, rng) => `call_${rng.string(24, ALNUM)}`,
};

export const openAIUnary: UnaryDialect = {
  rawPrefix: '',
  reasoning: 'hidden',
  envelope: openAIUnaryEnvelope({
    choice: { logprobs: null },
    top: { service_tier: 'default', system_fingerprint: null },
    usage: (plan) => basicUsage(plan.usage, { reasoning: true, cached: true }),
  }),
};

const REASONING_EFFORTS = ['minimal', 'low', 'medium', 'high'];

/** The request rules OpenAI and Azure share (docs/providers.md §3.3, §4.4, §6, §7). */
export function openAIRules(chat: ChatRequest, context: CheckContext): Problem | undefined {
  for (const key of Object.keys(chat.raw)) {
    if (!OPENAI_REQUEST_KEYS.has(key))
      return { status: 400, why: `unknown-argument:${key}`, message: `Unrecognized request argument supplied: ${key}` };
  }
  const conversation = checkConversation(chat, ['system', 'developer', 'user', 'assistant', 'tool']);
  if (conversation !== undefined) return conversation;
  const names = checkToolNames(chat, OPENAI_NAME);
  if (names !== undefined) return names;
  const { traits } = context;
  const effort = chat.raw['reasoning_effort'];
  if (traits.reasoningModel === true) {
    if ('max_tokens' in chat.raw) {
      return {
        status: 400,
        why: 'max_tokens',
        param: 'max_tokens',
        code: 'unsupported_parameter',
        message:
          "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      };
    }
    if ('top_p' in chat.raw) {
      return {
        status: 400,
        why: 'top_p',
        param: 'top_p',
        code: 'unsupported_parameter',
        message: "Unsupported parameter: 'top_p' is not supported with this model.",
      };
    }
    const temperature = numberField(chat.raw, 'temperature');
    if (temperature !== undefined && temperature !== 1) {
      return {
        status: 400,
        why: 'temperature',
        param: 'temperature',
        code: 'unsupported_value',
        message: `Unsupported value: 'temperature' does not support ${temperature} with this model. Only the default (1) value is supported.`,
      };
    }
    if (effort !== undefined && (typeof effort !== 'string' || !REASONING_EFFORTS.includes(effort))) {
      return {
        status: 400,
        why: 'reasoning_effort',
        param: 'reasoning_effort',
        code: 'invalid_value',
        message: `Invalid value: '${String(effort)}'. Supported values are: ${REASONING_EFFORTS.map((value) => `'${value}'`).join(', ')}.`,
      };
    }
  } else if (effort !== undefined) {
    return {
      status: 400,
      why: 'reasoning_effort',
      param: 'reasoning_effort',
      code: 'unsupported_parameter',
      message: "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
    };
  }
  if (!traits.vision && hasImages(chat)) {
    const image = imageParts(chat)[0];
    return {
      status: 400,
      why: 'image',
      param: `messages.[${image?.messageIndex ?? 0}].content.[${image?.partIndex ?? 0}].type`,
      message: 'Invalid content type. image_url is only supported by certain models.',
    };
  }
  const format = responseFormatType(chat);
  if (format === 'json_object' && !mentionsJson(chat)) {
    return {
      status: 400,
      why: 'json-word',
      param: 'messages',
      message: "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
    };
  }
  if (format === 'json_schema') {
    const spec = chat.raw['response_format'];
    const jsonSchema = isJsonObject(spec) ? spec['json_schema'] : undefined;
    const name = isJsonObject(jsonSchema) ? jsonSchema['name'] : undefined;
    if (typeof name !== 'string' || !OPENAI_NAME.test(name)) {
      return {
        status: 400,
        why: 'json_schema',
        param: 'response_format.json_schema.name',
        code: 'invalid_value',
        message:
          "Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
      };
    }
    if (!isJsonObject(jsonSchema) || !isJsonObject(jsonSchema['schema'])) {
      return {
        status: 400,
        why: 'json_schema',
        param: 'response_format.json_schema.schema',
        message: "Invalid type for 'response_format.json_schema.schema': expected an object.",
      };
    }
  }
  return undefined;
}

export const OPENAI_QUOTA: Rejection = {
  status: 429,
  why: 'quota',
  body: {
    error: {
      message:
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
      type: 'insufficient_quota',
      param: null,
      code: 'insufficient_quota',
    },
  },
};

const GPT5 = { vision: true, thinking: 'always', reasoningModel: true } as const;

export const openai: Personality = {
  name: 'openai',
  basePath: '/v1',
  models: {
    'gpt-5': { ...GPT5, reportedAs: 'gpt-5-2025-08-07' },
    'gpt-5-mini': { ...GPT5, reportedAs: 'gpt-5-mini-2025-08-07' },
    'o4-mini': { ...GPT5, reportedAs: 'o4-mini-2025-04-16' },
    'gpt-4o': { vision: true, thinking: 'off' },
    'gpt-3.5-turbo': { vision: false, thinking: 'off' },
  },
  stream: openAIStream,
  unary: openAIUnary,
  quota: {
    rejection: OPENAI_QUOTA,
    expect: { httpStatus: 400, status: 'FAILED_PRECONDITION', reason: 'UPSTREAM_INSUFFICIENT_BALANCE' },
  },
  route: (url) => (url.pathname === '/v1/chat/completions' ? { kind: 'chat' } : undefined),
  authenticate(headers) {
    const key = bearerToken(headers);
    if (key === UPSTREAM_KEY) return undefined;
    const message =
      key === undefined
        ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        : `Incorrect API key provided: ${key.slice(0, 3)}****${key.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`;
    return reject(this, { status: 401, why: 'auth', code: 'invalid_api_key', message });
  },
  envelope: openAIEnvelope,
  notFound(url) {
    return reject(this, { status: 404, why: 'path', message: `Invalid URL (POST ${url.pathname})` });
  },
  unknownModel(model) {
    return reject(this, {
      status: 404,
      why: 'model',
      code: 'model_not_found',
      message: `The model \`${model}\` does not exist or you do not have access to it.`,
    });
  },
  thinking: (_chat, traits) => traits.reasoningModel === true,
  validate(chat, context) {
    const problem = openAIRules(chat, context);
    return problem === undefined ? undefined : reject(this, problem);
  },
  responseId: (rng) => `chatcmpl-${rng.string(29, ALNUM)}`,
};
