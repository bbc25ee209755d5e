/**
 * DeepSeek (docs/providers.md §10.3): `: keep-alive` comments, an opening delta `{role, content:null,
 * reasoning_content:""}`, `reasoning_content` deltas with `content:null` and content deltas with
 * `reasoning_content:null`, ids `call_00_…`, usage on the finish chunk (which still has choices), blank lines before
 * unary bodies. Rejects (exact bodies from §3.3, §4.2, §3.4, §6, §7): tool names outside `^[a-zA-Z0-9_-]+$`; in
 * thinking mode a follow-up whose assistant tool-call message lacks `reasoning_content`, and `tool_choice` other than
 * auto/none; `image_url` parts; `json_schema`; json_object without "json" in the prompt; list content on tool/assistant
 * messages. Quota: 402 Insufficient Balance.
 */
import {
  checkConversation,
  checkToolNames,
  listContent,
  mentionsJson,
  OPENAI_NAME,
  responseFormatType,
  toolChoiceKind,
  toolTurnWithoutReasoning,
} from './checks.js';
import {
  ALNUM,
  bearerToken,
  imageParts,
  isJsonObject,
  reject,
  UPSTREAM_KEY,
  type JsonObject,
  type Personality,
  type Problem,
} from './core.js';
import { openAIUnaryEnvelope, type Plan } from './encode.js';
import type { UsageReport } from './core.js';

function usage(report: UsageReport): JsonObject {
  const cached = report.cached ?? 0;
  return {
    prompt_tokens: report.prompt,
    completion_tokens: report.completion,
    total_tokens: report.prompt + report.completion,
    prompt_tokens_details: { cached_tokens: cached },
    prompt_cache_hit_tokens: cached,
    prompt_cache_miss_tokens: report.prompt - cached,
    completion_tokens_details: { reasoning_tokens: report.reasoning ?? 0 },
  };
}

const THINKING = { vision: false, thinking: 'default-on' } as const;

export const deepseek: Personality = {
  name: 'deepseek',
  basePath: '',
  models: {
    'deepseek-v4-pro': THINKING,
    'deepseek-v4-flash': THINKING,
    'deepseek-reasoner': { vision: false, thinking: 'always' },
    'deepseek-chat': { vision: false, thinking: 'off' },
  },
  stream: {
    dataPrefix: 'data: ',
    leadingComments: [': keep-alive', ': keep-alive'],
    done: true,
    envelope: (choices, _phase, plan) => ({
      id: plan.id,
      object: 'chat.completion.chunk',
      created: plan.created,
      model: plan.model,
      system_fingerprint: 'fp_8802369eaa_prod0623',
      choices,
    }),
    choiceExtras: { logprobs: null },
    finishKeyMidStream: true,
    opening: { kind: 'separate', delta: { role: 'assistant', content: null, reasoning_content: '' } },
    roleOnEveryDelta: false,
    reasoning: 'reasoning_content',
    reasoningDeltaExtras: { content: null },
    contentDeltaExtras: { reasoning_content: null },
    toolArguments: 'incremental',
    continuationId: 'omit',
    trailingEmptyFragment: false,
    toolDeltaExtras: {},
    finishDelta: { content: '', reasoning_content: null },
    finishChoiceExtras: () => ({}),
    finishTwice: false,
    usage: 'finish',
    usageNeedsOption: true,
    usageBody: (report) => usage(report),
    reportsReasoningTokens: true,
    reportsCachedTokens: true,
    toolCallId: (_name, index, rng) => `call_${String(index).padStart(2, '0')}_${rng.string(24, ALNUM)}`,
  },
  unary: {
    rawPrefix: '\n\n\n',
    reasoning: 'reasoning_content',
    envelope: openAIUnaryEnvelope({
      choice: { logprobs: null },
      top: { system_fingerprint: 'fp_8802369eaa_prod0623' },
      usage: (plan: Plan) => usage(plan.usage),
    }),
  },
  quota: {
    rejection: {
      status: 402,
      why: 'quota',
      body: {
        error: { message: 'Insufficient Balance', type: 'unknown_error', param: null, code: 'invalid_request_error' },
      },
    },
    expect: { httpStatus: 400, status: 'FAILED_PRECONDITION', reason: 'UPSTREAM_INSUFFICIENT_BALANCE' },
  },
  route: (url) =>
    url.pathname === '/chat/completions' || url.pathname === '/v1/chat/completions' ? { kind: 'chat' } : undefined,
  authenticate(headers) {
    const key = bearerToken(headers);
    if (key === UPSTREAM_KEY) return undefined;
    return {
      status: 401,
      why: 'auth',
      body: {
        error: {
          message: `Authentication Fails, Your api key: ****${(key ?? '').slice(-4)} is invalid`,
          type: 'authentication_error',
          param: null,
          code: 'invalid_request_error',
        },
      },
    };
  },
  envelope: (problem: Problem) => ({
    error: {
      message: problem.message,
      type: problem.type ?? 'invalid_request_error',
      param: problem.param ?? null,
      code: problem.code ?? 'invalid_request_error',
    },
  }),
  notFound(url) {
    return reject(this, { status: 404, why: 'path', message: `Not Found: ${url.pathname}` });
  },
  unknownModel() {
    return reject(this, { status: 400, why: 'model', message: 'Model Not Exist' });
  },
  thinking(chat, traits) {
    if (traits.thinking === 'always') return true;
    if (traits.thinking === 'off') return false;
    const thinking = chat.raw['thinking'];
    if (isJsonObject(thinking) && thinking['type'] === 'disabled') return false;
    if (isJsonObject(thinking) && thinking['type'] === 'enabled') return true;
    return traits.thinking === 'default-on';
  },
  validate(chat, context) {
    const problem = ((): Problem | undefined => {
      const thinking = chat.raw['thinking'];
      if (
        thinking !== undefined &&
        (!isJsonObject(thinking) || (thinking['type'] !== 'enabled' && thinking['type'] !== 'disabled'))
      ) {
        return {
          status: 422,
          why: 'thinking',
          message:
            'Failed to deserialize the JSON body into the target type: thinking: unknown variant, expected `enabled` or `disabled`',
        };
      }
      const conversation = checkConversation(chat);
      if (conversation !== undefined) return conversation;
      const names = checkToolNames(chat, OPENAI_NAME);
      if (names !== undefined) return names;
      const list = listContent(chat, ['system', 'assistant', 'tool']);
      if (list !== undefined) {
        return {
          status: 422,
          why: 'list-content',
          message: `Failed to deserialize the JSON body into the target type: messages[${list}]: invalid type: sequence, expected a string`,
        };
      }
      const image = imageParts(chat)[0];
      if (image !== undefined) {
        const column = chat.rawText.indexOf('"image_url"') + 1;
        return {
          status: 400,
          why: 'image',
          message: `Failed to deserialize the JSON body into the target type: messages[${image.messageIndex}]: unknown variant \`image_url\`, expected \`text\` at line 1 column ${column}`,
        };
      }
      const format = responseFormatType(chat);
      if (format === 'json_schema')
        return { status: 400, why: 'json_schema', message: 'This response_format type is unavailable now' };
      if (format === 'json_object' && !mentionsJson(chat)) {
        return {
          status: 400,
          why: 'json-word',
          message: "Prompt must contain the word 'json' in some form to use 'response_format' of type 'json_object'",
        };
      }
      if (context.thinking) {
        const choice = toolChoiceKind(chat);
        if (choice === 'required' || choice === 'named' || choice === 'other')
          return { status: 400, why: 'tool_choice', message: 'Thinking mode does not support this tool_choice' };
        if (toolTurnWithoutReasoning(chat) !== undefined) {
          return {
            status: 400,
            why: 'reasoning-missing',
            message: 'The `reasoning_content` in the thinking mode must be passed back to the API.',
          };
        }
      }
      return undefined;
    })();
    return problem === undefined ? undefined : reject(this, problem);
  },
  responseId: (rng) => rng.uuid(),
};
