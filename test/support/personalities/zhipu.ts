/**
 * Zhipu GLM / Z.ai (docs/providers.md §10.5): base URL `…/api/paas/v4` (append `/chat/completions`, no `/v1`), no
 * `object` key, `role` repeated on every delta, **no `finish_reason` key** until the finish chunk, whole arguments per
 * chunk with `call_` + 24 hex ids (unary: signed decimal), `reasoning_content`, usage on the finish chunk.
 * Rejects: `tool_choice` other than `auto` (§3.4), `json_schema` (json_object only, §6), images on non-`v` models.
 * Silently drops list content in tool/assistant messages and ignores `max_completion_tokens` (recorded as ignored).
 * Errors `{"error":{"code":"<digits>","message"}}`. Quota: 429 code "1113".
 */
import { checkConversation, hasImages, listContent, responseFormatType, toolChoiceKind } from './checks.js';
import {
  bearerToken,
  DIGITS,
  HEX,
  isJsonObject,
  reject,
  UPSTREAM_KEY,
  type JsonObject,
  type Personality,
  type Problem,
  type UsageReport,
} from './core.js';

function usage(report: UsageReport): JsonObject {
  return {
    prompt_tokens: report.prompt,
    completion_tokens: report.completion,
    total_tokens: report.prompt + report.completion,
    prompt_tokens_details: { cached_tokens: report.cached ?? 0 },
    completion_tokens_details: { reasoning_tokens: report.reasoning ?? 0 },
  };
}

const BASE = '/api/paas/v4';

export const zhipu: Personality = {
  name: 'zhipu',
  basePath: BASE,
  models: {
    'glm-5': { vision: false, thinking: 'default-on' },
    'glm-4.7-flash': { vision: false, thinking: 'default-on' },
    'glm-4.5v': { vision: true, thinking: 'default-on' },
  },
  stream: {
    dataPrefix: 'data: ',
    leadingComments: [],
    done: true,
    envelope: (choices, _phase, plan) => ({ id: plan.id, created: plan.created, model: plan.model, choices }),
    choiceExtras: {},
    finishKeyMidStream: false,
    opening: { kind: 'merged' },
    roleOnEveryDelta: true,
    reasoning: 'reasoning_content',
    reasoningDeltaExtras: {},
    contentDeltaExtras: {},
    toolArguments: 'whole',
    continuationId: 'omit',
    trailingEmptyFragment: false,
    toolDeltaExtras: {},
    finishDelta: { role: 'assistant', content: '' },
    finishChoiceExtras: () => ({}),
    finishTwice: false,
    usage: 'finish',
    usageNeedsOption: false,
    usageBody: usage,
    reportsReasoningTokens: true,
    reportsCachedTokens: true,
    toolCallId: (_name, _index, rng) => `call_${rng.string(24, HEX)}`,
  },
  unary: {
    rawPrefix: '',
    reasoning: 'reasoning_content',
    toolCallId: (_name, _index, rng) => `call_-${rng.string(1, '123456789')}${rng.string(18, DIGITS)}`,
    envelope: (message, plan) => ({
      choices: [{ finish_reason: plan.finish, index: 0, message }],
      created: plan.created,
      id: plan.id,
      model: plan.model,
      object: 'chat.completion',
      request_id: plan.id,
      usage: usage(plan.usage),
    }),
  },
  quota: {
    rejection: {
      status: 429,
      why: 'quota',
      body: {
        error: { code: '1113', message: 'Insufficient balance or no resource package. Please recharge.' },
        request_id: '20260912153000a1b2c3d4e5f6',
      },
    },
    expect: { httpStatus: 400, status: 'FAILED_PRECONDITION', reason: 'UPSTREAM_INSUFFICIENT_BALANCE' },
  },
  route(url) {
    if (url.pathname === `${BASE}/chat/completions`) return { kind: 'chat' };
    if (url.pathname === `${BASE}/tokenizer`) return { kind: 'tokens' };
    return undefined;
  },
  authenticate(headers) {
    return bearerToken(headers) === UPSTREAM_KEY
      ? undefined
      : { status: 401, why: 'auth', body: { error: { code: '1000', message: 'Authentication Failed' } } }; // composed text
  },
  envelope: (problem) => ({
    error: { code: typeof problem.code === 'string' ? problem.code : '1210', message: problem.message },
  }),
  notFound: () => ({ status: 404, why: 'path', body: { error: { code: '404', message: 'Not Found' } } }), // composed
  unknownModel: () => ({
    status: 400,
    why: 'model',
    body: { error: { code: '1211', message: 'Unknown Model, please check the model code.' } },
  }), // composed text
  thinking(chat, traits) {
    const thinking = chat.raw['thinking'];
    if (isJsonObject(thinking) && thinking['type'] === 'disabled') return false;
    if (isJsonObject(thinking) && thinking['type'] === 'enabled') return true;
    return traits.thinking === 'default-on' || traits.thinking === 'always';
  },
  validate(chat, context) {
    const problem = ((): Problem | undefined => {
      const conversation = checkConversation(chat);
      if (conversation !== undefined) return conversation;
      const choice = toolChoiceKind(chat);
      if (choice !== undefined && choice !== 'auto')
        return { status: 400, why: 'tool_choice', message: 'Tool choice must be auto' };
      if (responseFormatType(chat) === 'json_schema')
        return {
          status: 400,
          why: 'json_schema',
          message: 'response_format type json_schema is not supported, use json_object',
        }; // composed
      if (hasImages(chat) && !context.traits.vision)
        return { status: 400, why: 'image', message: `model ${chat.model} does not support image input` }; // composed
      const thinking = chat.raw['thinking'];
      if (
        thinking !== undefined &&
        (!isJsonObject(thinking) || (thinking['type'] !== 'enabled' && thinking['type'] !== 'disabled'))
      ) {
        return { status: 400, why: 'thinking', message: 'thinking.type must be enabled or disabled' }; // composed
      }
      return undefined;
    })();
    return problem === undefined ? undefined : reject(this, problem);
  },
  ignored(chat) {
    const ignored: string[] = [];
    const list = listContent(chat, ['assistant', 'tool']);
    if (list !== undefined) ignored.push(`list content of messages[${list}] (dropped by the chat template)`);
    if ('max_completion_tokens' in chat.raw) ignored.push('max_completion_tokens');
    return ignored;
  },
  countTokens(body, rawText) {
    if (!isJsonObject(body) || typeof body['model'] !== 'string' || !Array.isArray(body['messages'])) {
      return { rejection: reject(this, { status: 400, why: 'tokens', message: 'model and messages are required' }) };
    }
    return {
      reply: {
        id: '20260912153001',
        created: 1779730001,
        usage: { prompt_tokens: Math.ceil(rawText.length / 4), total_tokens: Math.ceil(rawText.length / 4) },
      },
    };
  },
  responseId: (rng) => `2026091215${rng.string(10, DIGITS)}`,
};
