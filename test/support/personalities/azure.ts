/**
 * Azure OpenAI (docs/providers.md §10.2, §2.2, §2.4, §8.2):
 * `/openai/deployments/<deployment>/chat/completions?api-version=…` with an `api-key` header (the body `model` is
 * ignored); an identity-less first chunk with `prompt_filter_results`, `content_filter_results` on every choice, a
 * delta-less annotation chunk after the text, usage on a trailing chunk. Rejects `stream_options` on api-versions
 * before 2024-09-01-preview, plus every OpenAI rule. Quota: 429 with a string `code` and "Please retry after 86400
 * seconds", which is a rate limit with a day-long delay, not a balance error.
 */
import { isJsonObject, openAIEnvelope, reject, UPSTREAM_KEY, type JsonObject, type Personality } from './core.js';
import { openai, openAIRules, openAIStream, openAIUnary } from './openai.js';

const FILTER_OK: JsonObject = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};

/** The first api-version that accepts `stream_options` (docs/providers.md §2.4). */
const STREAM_OPTIONS_SINCE = '2024-09-01';

function azureError(code: string, message: string): JsonObject {
  return { error: { code, message } };
}

export const azure: Personality = {
  ...openai,
  name: 'azure',
  basePath: '',
  models: {
    'o4-mini': { vision: true, thinking: 'always', reasoningModel: true, reportedAs: 'o4-mini-2025-04-16' },
    'gpt-4o': { vision: true, thinking: 'off', reportedAs: 'gpt-4o-2024-11-20' },
  },
  stream: {
    ...openAIStream,
    envelope: (choices, _phase, plan) => ({
      choices,
      created: plan.created,
      id: plan.id,
      model: plan.model,
      obfuscation: plan.rng.string(3, 'abcdefghijklmnopqrstuvwxyz'),
      object: 'chat.completion.chunk',
      service_tier: 'default',
      system_fingerprint: null,
      usage: null,
    }),
    choiceExtras: { content_filter_results: {}, logprobs: null },
    opening: { kind: 'separate', delta: { content: '', refusal: null, role: 'assistant' } },
    preamble: () => [
      {
        choices: [],
        created: 0,
        id: '',
        model: '',
        object: '',
        prompt_filter_results: [
          {
            prompt_index: 0,
            content_filter_results: { ...FILTER_OK, jailbreak: { detected: false, filtered: false } },
          },
        ],
      },
    ],
    afterText: (plan) => [
      {
        id: '',
        object: '',
        created: 0,
        model: '',
        choices: [
          {
            index: 0,
            finish_reason: null,
            content_filter_results: FILTER_OK,
            content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: plan.text.length },
          },
        ],
        usage: null,
      },
    ],
  },
  unary: openAIUnary,
  quota: {
    rejection: {
      status: 429,
      why: 'quota',
      body: azureError(
        '429',
        'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 86400 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.',
      ),
    },
    expect: { httpStatus: 429, status: 'RESOURCE_EXHAUSTED', reason: 'UPSTREAM_RATE_LIMITED', retryDelay: '86400s' },
  },
  route(url) {
    const match = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(url.pathname);
    if (match?.[1] === undefined || !url.searchParams.has('api-version')) return undefined;
    return { kind: 'chat', model: decodeURIComponent(match[1]) };
  },
  authenticate(headers) {
    if (headers['api-key'] === UPSTREAM_KEY) return undefined;
    return {
      status: 401,
      why: 'auth',
      body: azureError(
        '401',
        'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
      ),
    };
  },
  envelope: openAIEnvelope,
  notFound: () => ({ status: 404, why: 'path', body: azureError('404', 'Resource not found') }),
  unknownModel: () => ({
    status: 404,
    why: 'model',
    body: azureError(
      'DeploymentNotFound',
      'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
    ),
  }),
  validate(chat, context) {
    const version = context.url.searchParams.get('api-version') ?? '';
    const options = chat.raw['stream_options'];
    if (options !== undefined && version < STREAM_OPTIONS_SINCE) {
      return reject(this, {
        status: 400,
        why: 'stream_options',
        message: 'Unrecognized request argument supplied: stream_options',
      });
    }
    const problem = openAIRules(chat, context);
    if (problem !== undefined) return reject(this, problem);
    if (isJsonObject(options) && typeof options['include_usage'] !== 'boolean') {
      return reject(this, {
        status: 400,
        why: 'stream_options',
        message: "Invalid type for 'stream_options.include_usage': expected a boolean.",
      });
    }
    return undefined;
  },
};
