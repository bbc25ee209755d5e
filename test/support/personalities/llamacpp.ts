/**
 * llama.cpp server (docs/providers.md §10.11): an opening delta `{role, content:null}`, `reasoning_content` (with
 * `--reasoning-format deepseek`), incremental arguments, 32-character ids, usage plus `timings` on a trailing
 * `choices:[]` chunk, `/tokenize` (outside `/v1`) counting raw text; the `model` name is ignored.
 * Deterministic failures come back as **500**: tools without `--jinja` ("tools param requires --jinja flag") and images
 * without `--mmproj` ("image input is not supported by this server"). Parallel calls only with
 * `parallel_tool_calls:true` (§3.7): otherwise the server returns the first call only. Quota: none locally; a plain
 * 429 stands in.
 */
import { checkConversation, hasImages } from './checks.js';
import { ALNUM, bearerToken, isJsonObject, reject, UPSTREAM_KEY, type Personality } from './core.js';
import { basicUsage, openAIUnaryEnvelope } from './encode.js';

export interface LlamacppOptions {
  /** Started with `--mmproj` (images). */
  mmproj: boolean;
  /** Started with `--jinja` (tools). */
  jinja: boolean;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
};

export function createLlamacpp(options: LlamacppOptions): Personality {
  return {
    name: 'llamacpp',
    basePath: '/v1',
    models: {},
    anyModel: { vision: options.mmproj, thinking: 'always' },
    stream: {
      dataPrefix: 'data: ',
      leadingComments: [],
      done: true,
      envelope: (choices, phase, plan) => ({
        choices,
        created: plan.created,
        id: plan.id,
        model: plan.model,
        system_fingerprint: 'b6100-2b0c1c7e',
        object: 'chat.completion.chunk',
        ...(phase === 'usage'
          ? {
              timings: {
                prompt_n: plan.usage.prompt,
                prompt_ms: 412.5,
                predicted_n: plan.usage.completion,
                predicted_ms: 955.1,
              },
            }
          : {}),
      }),
      choiceExtras: {},
      finishKeyMidStream: true,
      opening: { kind: 'separate', delta: { role: 'assistant', content: null } },
      roleOnEveryDelta: false,
      reasoning: 'reasoning_content',
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
      usageBody: (usage) => basicUsage(usage),
      reportsReasoningTokens: false,
      reportsCachedTokens: false,
      toolCallId: (_name, _index, rng) => rng.string(32, ALNUM),
    },
    unary: {
      rawPrefix: '',
      reasoning: 'reasoning_content',
      envelope: openAIUnaryEnvelope({
        top: { system_fingerprint: 'b6100-2b0c1c7e' },
        usage: (plan) => basicUsage(plan.usage),
      }),
    },
    quota: {
      rejection: {
        status: 429,
        why: 'rate-limit',
        body: { error: { code: 429, message: 'too many requests, all slots are busy', type: 'rate_limit_error' } },
      }, // composed
      expect: { httpStatus: 429, status: 'RESOURCE_EXHAUSTED', reason: 'UPSTREAM_RATE_LIMITED' },
    },
    route(url) {
      if (url.pathname === '/v1/chat/completions') return { kind: 'chat' };
      if (url.pathname === '/tokenize') return { kind: 'tokens' };
      return undefined;
    },
    authenticate(headers) {
      return bearerToken(headers) === UPSTREAM_KEY
        ? undefined
        : reject(this, { status: 401, why: 'auth', message: 'Invalid API Key' });
    },
    envelope: (problem) => ({
      error: { code: problem.status, message: problem.message, type: ERROR_TYPES[problem.status] ?? 'server_error' },
    }),
    notFound(url) {
      return reject(this, { status: 404, why: 'path', message: `File Not Found: ${url.pathname}` });
    },
    unknownModel(model) {
      return reject(this, { status: 404, why: 'model', message: `model ${model} not found` });
    },
    thinking: () => true,
    validate(chat) {
      if (chat.tools.length > 0 && !options.jinja)
        return reject(this, { status: 500, why: 'jinja', message: 'tools param requires --jinja flag' });
      if (hasImages(chat) && !options.mmproj)
        return reject(this, { status: 500, why: 'image', message: 'image input is not supported by this server' });
      const conversation = checkConversation(chat);
      return conversation === undefined ? undefined : reject(this, conversation);
    },
    callLimit: (chat) => (chat.raw['parallel_tool_calls'] === true ? undefined : 1),
    countTokens(body) {
      if (!isJsonObject(body) || typeof body['content'] !== 'string')
        return { rejection: reject(this, { status: 400, why: 'tokens', message: '"content" must be provided' }) };
      const count = Math.ceil(body['content'].length / 4);
      return { reply: { tokens: Array.from({ length: count }, (_, index) => 1000 + index) } };
    },
    responseId: (rng) => `chatcmpl-${rng.string(32, ALNUM)}`,
  };
}

export const llamacpp: Personality = createLlamacpp({ mmproj: true, jinja: true });
