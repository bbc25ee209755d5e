/**
 * Ollama `/v1` (docs/providers.md §10.9): `role` on the first delta only, `reasoning` deltas with `content:""`, whole
 * arguments, ids `call_` + 8 `[a-z0-9]`, finish on its own chunk, usage on a trailing `choices:[]` chunk only with
 * include_usage. Any key (or none) is accepted.
 * Rejects: http(s) image URLs and image types other than jpeg/png/webp (§7, exact texts), images on text models,
 * tools on models without tool support (`… does not support tools`), `reasoning_effort` outside its allow-list.
 * Ignores `tool_choice` and `max_completion_tokens` (recorded). Quota: none on a local server; a plain 429 stands in.
 */
import { checkConversation, hasImages, httpImage, imageMimeTypes } from './checks.js';
import { DIGITS, LOWER_ALNUM, reject, type Personality } from './core.js';
import { basicUsage, openAIUnaryEnvelope } from './encode.js';

const IMAGE_TYPES = ['image/jpeg', 'image/jpg', 'image/png', 'image/webp', ''];
const EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'max', 'xhigh', 'ultra'];

export const ollama: Personality = {
  name: 'ollama',
  basePath: '/v1',
  models: {
    'qwen3:8b': { vision: false, thinking: 'default-on' },
    'qwen3-vl:8b': { vision: true, thinking: 'default-on' },
    'gemma3:12b': { vision: true, thinking: 'off', tools: false },
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
      system_fingerprint: 'fp_ollama',
      choices,
    }),
    choiceExtras: {},
    finishKeyMidStream: true,
    opening: { kind: 'merged' },
    roleOnEveryDelta: false,
    reasoning: 'reasoning',
    reasoningDeltaExtras: { content: '' },
    contentDeltaExtras: {},
    toolArguments: 'whole',
    continuationId: 'omit',
    trailingEmptyFragment: false,
    toolDeltaExtras: {},
    finishDelta: {},
    finishChoiceExtras: () => ({}),
    finishTwice: false,
    usage: 'trailing',
    usageNeedsOption: true,
    usageBody: (usage) => basicUsage(usage),
    reportsReasoningTokens: false,
    reportsCachedTokens: false,
    toolCallId: (_name, _index, rng) => `call_${rng.string(8, LOWER_ALNUM)}`,
  },
  unary: {
    rawPrefix: '',
    reasoning: 'reasoning',
    envelope: openAIUnaryEnvelope({
      top: { system_fingerprint: 'fp_ollama' },
      usage: (plan) => basicUsage(plan.usage),
    }),
  },
  quota: {
    rejection: {
      status: 429,
      why: 'rate-limit',
      body: {
        error: { message: 'too many requests, please try again later', type: 'api_error', param: null, code: null },
      },
    }, // composed
    expect: { httpStatus: 429, status: 'RESOURCE_EXHAUSTED', reason: 'UPSTREAM_RATE_LIMITED' },
  },
  route: (url) => (url.pathname === '/v1/chat/completions' ? { kind: 'chat' } : undefined),
  authenticate: () => undefined,
  envelope: (problem) => ({
    error: {
      message: problem.message,
      type: problem.status === 400 ? 'invalid_request_error' : problem.status === 404 ? 'not_found_error' : 'api_error',
      param: null,
      code: null,
    },
  }),
  notFound(url) {
    return reject(this, { status: 404, why: 'path', message: `404 page not found: ${url.pathname}` });
  },
  unknownModel(model) {
    return reject(this, { status: 404, why: 'model', message: `model "${model}" not found, try pulling it first` });
  },
  thinking(chat, traits) {
    if (traits.thinking === 'off') return false;
    return chat.raw['reasoning_effort'] !== 'none';
  },
  validate(chat, context) {
    const conversation = checkConversation(chat);
    if (conversation !== undefined) return reject(this, conversation);
    if (chat.tools.length > 0 && context.traits.tools === false) {
      return reject(this, {
        status: 400,
        why: 'tools',
        message: `registry.ollama.ai/library/${chat.model} does not support tools`,
      });
    }
    if (hasImages(chat)) {
      if (httpImage(chat))
        return reject(this, {
          status: 400,
          why: 'image-url',
          message: 'image URLs are not currently supported, please use base64 encoded data instead',
        });
      if (imageMimeTypes(chat).some((type) => !IMAGE_TYPES.includes(type)))
        return reject(this, { status: 400, why: 'image-type', message: 'invalid image input' });
      if (!context.traits.vision)
        return reject(this, {
          status: 500,
          why: 'image',
          message: 'this model is missing data required for image input',
        }); // composed
    }
    const effort = chat.raw['reasoning_effort'];
    if (effort !== undefined && (typeof effort !== 'string' || !EFFORTS.includes(effort))) {
      return reject(this, {
        status: 400,
        why: 'reasoning_effort',
        message: `invalid reasoning value: "${String(effort)}"`,
      });
    }
    return undefined;
  },
  ignored(chat) {
    return ['tool_choice', 'max_completion_tokens'].filter((key) => key in chat.raw);
  },
  responseId: (rng) => `chatcmpl-${rng.string(3, DIGITS)}`,
};
