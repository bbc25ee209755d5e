/**
 * Moonshot Kimi (docs/providers.md §10.4): role on the first real delta, `reasoning_content`, ids
 * `functions.<name>:<idx>` (per response, so they recur across turns), usage **inside `choices[0]`** with a top-level
 * `cached_tokens`. Errors are `{"error":{"message","type"}}` without code or param, and carry no rate-limit headers.
 * Rejects: names outside `^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$`; MFJS schema violations (typeless property, `type` beside
 * `anyOf`, `$ref` outside `#/$defs`, siblings of `$ref`, non-object root); with thinking, an assistant tool-call
 * message without `reasoning_content` (§4.2) and tool_choice other than auto/none; `required` tool_choice; images on
 * text models and http(s) image URLs (§7); empty assistant content beside tool calls (§3.6); temperatures the model
 * does not allow (§4.3/§4.4). Quota: 429 "suspended due to insufficient balance".
 */
import {
  checkConversation,
  httpImage,
  hasImages,
  KIMI_NAME,
  mfjsViolation,
  numberField,
  responseFormatSchema,
  responseFormatType,
  toolChoiceKind,
  toolTurnWithoutReasoning,
} from './checks.js';
import {
  ALNUM,
  bearerToken,
  contentText,
  isJsonObject,
  reject,
  UPSTREAM_KEY,
  type ChatRequest,
  type CheckContext,
  type JsonObject,
  type Personality,
  type Problem,
  type UsageReport,
} from './core.js';
import { openAIUnaryEnvelope } from './encode.js';

function usage(report: UsageReport): JsonObject {
  return {
    prompt_tokens: report.prompt,
    completion_tokens: report.completion,
    total_tokens: report.prompt + report.completion,
    cached_tokens: report.cached ?? 0,
  };
}

function kimiProblem(chat: ChatRequest, context: CheckContext): Problem | undefined {
  const conversation = checkConversation(chat);
  if (conversation !== undefined) return conversation;
  if (chat.tools.length > 128)
    return { status: 400, why: 'tools', message: 'Invalid request: too many tools, at most 128 are allowed' }; // composed
  const names = [
    ...chat.tools.map((tool) => tool.name),
    ...chat.messages.flatMap((message) => (message.toolCalls ?? []).map((call) => call.name)),
  ];
  const badName = names.find((name) => !KIMI_NAME.test(name));
  if (badName !== undefined) {
    // composed: the doc gives the pattern, not the text.
    return {
      status: 400,
      why: 'tool-name',
      message: `Invalid request: function name '${badName}' is invalid, it must match ^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$`,
    };
  }
  for (const tool of chat.tools) {
    const violation = mfjsViolation(tool.parameters);
    if (violation !== undefined) {
      return {
        status: 400,
        why: 'mfjs',
        message: `Invalid request: tools.function.parameters is not a valid moonshot flavored json schema, details: ${violation}`,
      };
    }
  }
  if (responseFormatType(chat) === 'json_schema') {
    const violation = mfjsViolation(responseFormatSchema(chat));
    if (violation !== undefined) {
      return {
        status: 400,
        why: 'mfjs',
        message: `Invalid request: response_format.json_schema.schema is not a valid moonshot flavored json schema, details: ${violation}`,
      };
    }
  }
  for (const message of chat.messages) {
    if (
      message.role !== 'assistant' ||
      (message.toolCalls?.length ?? 0) === 0 ||
      message.content === undefined ||
      message.content === null
    )
      continue;
    if (contentText(message.content) === '')
      return { status: 400, why: 'empty-content', message: 'text content is empty' };
  }
  if (hasImages(chat)) {
    if (!context.traits.vision)
      return {
        status: 400,
        why: 'image',
        message: `Invalid request: image input is not supported by model ${chat.model}`,
      }; // composed
    if (httpImage(chat)) return { status: 400, why: 'image-url', message: 'unsupported image url' };
  }
  const choice = toolChoiceKind(chat);
  if (choice === 'required')
    return { status: 400, why: 'tool_choice', message: "Invalid request: tool_choice 'required' is not supported" }; // composed
  if (context.thinking && (choice === 'named' || choice === 'other')) {
    return {
      status: 400,
      why: 'tool_choice',
      message: 'Invalid request: tool_choice must be auto or none when thinking is enabled',
    }; // composed
  }
  if (context.thinking) {
    const index = toolTurnWithoutReasoning(chat);
    if (index !== undefined)
      return {
        status: 400,
        why: 'reasoning-missing',
        message: `thinking is enabled but reasoning_content is missing in assistant tool call message at index ${index}`,
      };
  }
  const temperature = numberField(chat.raw, 'temperature');
  if (temperature !== undefined) {
    if (context.traits.thinking === 'default-on' || context.traits.thinking === 'always') {
      // k2.5/k2.6 and the thinking models use fixed temperatures (1.0 thinking, 0.6 otherwise). composed text.
      const fixed = context.thinking ? 1 : 0.6;
      if (temperature !== fixed)
        return {
          status: 400,
          why: 'temperature',
          message: `invalid temperature: only ${fixed} is allowed for this model`,
        };
    } else if (temperature < 0 || temperature > 1) {
      return {
        status: 400,
        why: 'temperature',
        message: `Invalid request: temperature must be in [0, 1], got ${temperature}`,
      }; // composed
    }
  }
  return undefined;
}

export const kimi: Personality = {
  name: 'kimi',
  basePath: '/v1',
  models: {
    'kimi-k2.5': { vision: true, thinking: 'default-on' },
    'kimi-k2-thinking': { vision: false, thinking: 'always' },
    'kimi-k2-turbo-preview': { vision: false, thinking: 'off' },
    'kimi-k2-0905-preview': { vision: false, thinking: 'off' },
    'moonshot-v1-8k-vision-preview': { vision: true, thinking: 'off' },
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
      system_fingerprint: 'fpv0_77c4e1a0',
    }),
    choiceExtras: {},
    finishKeyMidStream: true,
    opening: { kind: 'merged' },
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
    usage: 'in-choice',
    usageNeedsOption: false,
    usageBody: usage,
    reportsReasoningTokens: false,
    reportsCachedTokens: true,
    toolCallId: (name, index) => `functions.${name}:${index}`,
  },
  unary: {
    rawPrefix: '',
    reasoning: 'reasoning_content',
    envelope: openAIUnaryEnvelope({ usage: (plan) => usage(plan.usage) }),
  },
  quota: {
    rejection: {
      status: 429,
      why: 'quota',
      body: {
        error: {
          message:
            'Your account org-4f1c2a <ak-f9e8d7> is suspended due to insufficient balance, please recharge your account or check your plan and billing details',
          type: 'exceeded_current_quota_error',
        },
      },
    },
    expect: { httpStatus: 400, status: 'FAILED_PRECONDITION', reason: 'UPSTREAM_INSUFFICIENT_BALANCE' },
  },
  route(url) {
    if (url.pathname === '/v1/chat/completions') return { kind: 'chat' };
    if (url.pathname === '/v1/tokenizers/estimate-token-count') return { kind: 'tokens' };
    return undefined;
  },
  authenticate(headers) {
    return bearerToken(headers) === UPSTREAM_KEY
      ? undefined
      : {
          status: 401,
          why: 'auth',
          body: { error: { message: 'Invalid Authentication', type: 'invalid_authentication_error' } },
        };
  },
  envelope: (problem) => ({
    error: {
      message: problem.message,
      type: problem.type ?? (problem.status === 400 ? 'invalid_request_error' : 'server_error'),
    },
  }),
  notFound: () => ({
    status: 404,
    why: 'path',
    body: { error: { message: 'Not Found', type: 'resource_not_found_error' } },
  }),
  unknownModel: (model) => ({
    status: 404,
    why: 'model',
    body: { error: { message: `Not found the model ${model} or Permission denied`, type: 'resource_not_found_error' } },
  }),
  thinking(chat, traits) {
    if (traits.thinking === 'always') return true;
    if (traits.thinking === 'off') return false;
    const thinking = chat.raw['thinking'];
    if (isJsonObject(thinking) && thinking['type'] === 'disabled') return false;
    if (isJsonObject(thinking) && thinking['type'] === 'enabled') return true;
    return traits.thinking === 'default-on';
  },
  validate(chat, context) {
    const problem = kimiProblem(chat, context);
    return problem === undefined ? undefined : reject(this, problem);
  },
  countTokens(body, rawText) {
    if (!isJsonObject(body) || typeof body['model'] !== 'string' || !Array.isArray(body['messages'])) {
      return {
        rejection: reject(this, {
          status: 400,
          why: 'tokens',
          message: 'Invalid request: model and messages are required',
        }),
      };
    }
    if (!Object.hasOwn(this.models, body['model'])) return { rejection: this.unknownModel(body['model']) };
    return { reply: { data: { total_tokens: Math.ceil(rawText.length / 4) } } };
  },
  responseId: (rng) => `chatcmpl-${rng.string(24, ALNUM)}`,
};
