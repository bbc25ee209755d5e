/**
 * A generic OpenAI-compatible gateway in front of a self-hosted reasoning model: OpenAI's chunk shapes and rules
 * (tool-name pattern, conversation order, images only on vision models), but reasoning arrives as `<think>…</think>`
 * inside `content` (docs/providers.md §4.1), cut across deltas. Quota: an OpenAI-style request-rate 429 (retryable).
 */
import { checkConversation, checkToolNames, hasImages, OPENAI_NAME } from './checks.js';
import { ALNUM, bearerToken, openAIEnvelope, reject, UPSTREAM_KEY, type Personality } from './core.js';
import { basicUsage, openAIUnaryEnvelope } from './encode.js';
import { openAIStream, openAIUnary } from './openai.js';

export const generic: Personality = {
  name: 'generic',
  basePath: '/v1',
  models: {
    'r1-distill-qwen-32b': { vision: false, thinking: 'always' },
    'qwen2.5-vl-72b-instruct': { vision: true, thinking: 'off' },
  },
  stream: {
    ...openAIStream,
    envelope: (choices, _phase, plan) => ({
      id: plan.id,
      object: 'chat.completion.chunk',
      created: plan.created,
      model: plan.model,
      choices,
      usage: null,
    }),
    reasoning: 'think-tags',
    usageBody: (usage) => basicUsage(usage),
    reportsReasoningTokens: false,
    reportsCachedTokens: false,
  },
  unary: {
    ...openAIUnary,
    reasoning: 'think-tags',
    envelope: openAIUnaryEnvelope({ usage: (plan) => basicUsage(plan.usage) }),
  },
  quota: {
    rejection: {
      status: 429,
      why: 'rate-limit',
      body: {
        error: {
          message: 'Rate limit reached for requests',
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
      },
    },
    expect: { httpStatus: 429, status: 'RESOURCE_EXHAUSTED', reason: 'UPSTREAM_RATE_LIMITED' },
  },
  route: (url) => (url.pathname === '/v1/chat/completions' ? { kind: 'chat' } : undefined),
  authenticate(headers) {
    return bearerToken(headers) === UPSTREAM_KEY
      ? undefined
      : reject(this, { status: 401, why: 'auth', code: 'invalid_api_key', message: 'Invalid API key' });
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
      message: `The model \`${model}\` does not exist.`,
    });
  },
  thinking: (_chat, traits) => traits.thinking !== 'off',
  validate(chat, context) {
    const problem = checkConversation(chat) ?? checkToolNames(chat, OPENAI_NAME);
    if (problem !== undefined) return reject(this, problem);
    if (hasImages(chat) && !context.traits.vision)
      return reject(this, {
        status: 400,
        why: 'image',
        message: 'Invalid content type. image_url is only supported by certain models.',
      });
    return undefined;
  },
  responseId: (rng) => `chatcmpl-${rng.string(24, ALNUM)}`,
};
