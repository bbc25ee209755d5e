/**
 * Upstream error bodies → one ProxyError (src/upstream/upstream-errors.ts), row by row from the bodies of
 * docs/providers.md §8.2 and the classes of §8.3: the Gemini status and code a client acts on, the ErrorInfo reason and
 * metadata, and the RetryInfo delay. Messages are checked for what they must name (provider, upstream status) and
 * must not carry (the phrases of [R-ERR-3]); their wording is free.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCode, ProxyError, RpcDetail } from '../../src/errors.js';
import { classifyUpstreamError, retryDelaySeconds } from '../../src/upstream/upstream-errors.js';

type Reason =
  | 'UPSTREAM_INSUFFICIENT_BALANCE'
  | 'UPSTREAM_AUTH_REJECTED'
  | 'UPSTREAM_CONTENT_FILTERED'
  | 'UPSTREAM_CONTEXT_LENGTH'
  | 'UPSTREAM_UNSUPPORTED'
  | 'UPSTREAM_NOT_FOUND'
  | 'UPSTREAM_OVERLOADED'
  | 'UPSTREAM_RATE_LIMITED'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_SERVER_ERROR'
  | 'UPSTREAM_BAD_REQUEST';

/** The Gemini answer per class (docs/providers.md §8.3): code, HTTP status, google.rpc status, ErrorInfo reason. */
const CLASSES: Record<string, { code: ErrorCode; http: number; status: string; reason: Reason }> = {
  balance: {
    code: 'UPSTREAM_INSUFFICIENT_BALANCE',
    http: 400,
    status: 'FAILED_PRECONDITION',
    reason: 'UPSTREAM_INSUFFICIENT_BALANCE',
  },
  auth: { code: 'UPSTREAM_AUTH', http: 403, status: 'PERMISSION_DENIED', reason: 'UPSTREAM_AUTH_REJECTED' },
  contentFilter: {
    code: 'UPSTREAM_REJECTED',
    http: 400,
    status: 'INVALID_ARGUMENT',
    reason: 'UPSTREAM_CONTENT_FILTERED',
  },
  context: { code: 'UPSTREAM_REJECTED', http: 400, status: 'INVALID_ARGUMENT', reason: 'UPSTREAM_CONTEXT_LENGTH' },
  unsupported: { code: 'UPSTREAM_REJECTED', http: 400, status: 'INVALID_ARGUMENT', reason: 'UPSTREAM_UNSUPPORTED' },
  notFound: { code: 'UPSTREAM_NOT_FOUND', http: 404, status: 'NOT_FOUND', reason: 'UPSTREAM_NOT_FOUND' },
  overloaded: { code: 'UPSTREAM_UNAVAILABLE', http: 503, status: 'UNAVAILABLE', reason: 'UPSTREAM_OVERLOADED' },
  rateLimit: {
    code: 'UPSTREAM_RATE_LIMITED',
    http: 429,
    status: 'RESOURCE_EXHAUSTED',
    reason: 'UPSTREAM_RATE_LIMITED',
  },
  timeout: { code: 'UPSTREAM_TIMEOUT', http: 504, status: 'DEADLINE_EXCEEDED', reason: 'UPSTREAM_TIMEOUT' },
  server: { code: 'UPSTREAM_UNAVAILABLE', http: 503, status: 'UNAVAILABLE', reason: 'UPSTREAM_SERVER_ERROR' },
  other: { code: 'UPSTREAM_REJECTED', http: 400, status: 'INVALID_ARGUMENT', reason: 'UPSTREAM_BAD_REQUEST' },
};

const json = (value: unknown): string => JSON.stringify(value);

interface Row {
  case: string;
  provider: string;
  status: number;
  body: string;
  expect: keyof typeof CLASSES;
  retryAfterHeader?: string;
  /** The RetryInfo delay, or null for none. */
  retryDelay?: string | null;
  upstreamCode?: string;
}

const ROWS: Row[] = [
  {
    case: 'OpenAI: a general 400',
    provider: 'openai',
    status: 400,
    body: json({
      error: { message: "Invalid value: 'tool'.", type: 'invalid_request_error', param: 'messages', code: null },
    }),
    expect: 'other',
  },
  {
    case: 'OpenAI: rate limit with Retry-After seconds',
    provider: 'openai',
    status: 429,
    body: json({ error: { message: 'Rate limit reached for gpt-5', type: 'requests', code: 'rate_limit_exceeded' } }),
    retryAfterHeader: '7',
    expect: 'rateLimit',
    retryDelay: '7s',
    upstreamCode: 'rate_limit_exceeded',
  },
  {
    case: 'OpenAI: no credit is a 429 that must not be retried',
    provider: 'openai',
    status: 429,
    body: json({
      error: { message: 'You exceeded your current quota.', type: 'insufficient_quota', code: 'insufficient_quota' },
    }),
    expect: 'balance',
  },
  {
    case: 'most: context too long',
    provider: 'openai',
    status: 400,
    body: json({
      error: {
        message: "This model's maximum context length is 128000 tokens.",
        type: 'invalid_request_error',
        code: 'context_length_exceeded',
      },
    }),
    expect: 'context',
  },
  {
    case: 'Azure: content filter with an innererror',
    provider: 'azure',
    status: 400,
    body: json({
      error: {
        message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        code: 'content_filter',
        innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: { hate: { filtered: true } } },
      },
    }),
    expect: 'contentFilter',
  },
  {
    case: 'Azure: rate limit with a string code and "retry after N seconds" in the text',
    provider: 'azure',
    status: 429,
    body: json({
      error: { code: '429', message: 'Requests have exceeded the limit. Please retry after 86400 seconds.' },
    }),
    expect: 'rateLimit',
    retryDelay: '86400s',
    upstreamCode: '429',
  },
  {
    case: 'Azure: "Try again in N seconds"',
    provider: 'azure',
    status: 429,
    body: json({ error: { code: '429', message: 'Rate limit is exceeded. Try again in 2 seconds.' } }),
    expect: 'rateLimit',
    retryDelay: '2s',
  },
  {
    case: 'DeepSeek: 402 Insufficient Balance',
    provider: 'deepseek',
    status: 402,
    body: json({
      error: { message: 'Insufficient Balance', type: 'unknown_error', param: null, code: 'invalid_request_error' },
    }),
    expect: 'balance',
  },
  {
    case: 'DeepSeek: overloaded 503',
    provider: 'deepseek',
    status: 503,
    body: json({ error: { message: 'Server overloaded, please try again later.', type: 'server_error' } }),
    expect: 'overloaded',
    retryDelay: null,
  },
  {
    case: 'Kimi: engine_overloaded_error arrives as a 429 but is an outage',
    provider: 'kimi',
    status: 429,
    body: json({
      error: { message: 'The engine is currently overloaded, please try again later', type: 'engine_overloaded_error' },
    }),
    expect: 'overloaded',
  },
  {
    case: 'Kimi: rate limit',
    provider: 'kimi',
    status: 429,
    body: json({
      error: { message: 'Your account org-1 request reached max RPM: 3', type: 'rate_limit_reached_error' },
    }),
    expect: 'rateLimit',
  },
  {
    case: 'Kimi: 403 exceeded_current_quota_error is balance, not auth',
    provider: 'kimi',
    status: 403,
    body: json({ error: { message: 'You exceeded your current token quota', type: 'exceeded_current_quota_error' } }),
    expect: 'balance',
  },
  {
    case: 'Kimi: a suspended account arrives as a 429',
    provider: 'kimi',
    status: 429,
    body: json({
      error: { message: 'Your account is suspended due to insufficient balance', type: 'rate_limit_reached_error' },
    }),
    expect: 'balance',
  },
  {
    case: 'Kimi: bad key',
    provider: 'kimi',
    status: 401,
    body: json({ error: { message: 'Invalid Authentication', type: 'invalid_authentication_error' } }),
    expect: 'auth',
  },
  {
    case: 'Kimi: permission_denied_error',
    provider: 'kimi',
    status: 403,
    body: json({ error: { message: 'The API you are accessing is not open', type: 'permission_denied_error' } }),
    expect: 'auth',
  },
  {
    case: 'Kimi: resource_not_found_error',
    provider: 'kimi',
    status: 404,
    body: json({
      error: { message: 'Not found the model kimi-x or Permission denied', type: 'resource_not_found_error' },
    }),
    expect: 'notFound',
  },
  {
    case: 'Zhipu: no balance is a 429 with the digit string 1113',
    provider: 'zhipu',
    status: 429,
    body: json({ error: { code: '1113', message: '余额不足或无可用资源包,请充值。' } }),
    expect: 'balance',
    upstreamCode: '1113',
  },
  {
    case: 'Zhipu: content safety 1301',
    provider: 'zhipu',
    status: 400,
    body: json({ error: { code: '1301', message: '系统检测到输入或生成内容可能包含不安全或敏感内容' } }),
    expect: 'contentFilter',
  },
  {
    case: 'DashScope: data_inspection_failed',
    provider: 'dashscope',
    status: 400,
    body: json({
      error: {
        message: 'Input data may contain inappropriate content.',
        type: 'data_inspection_failed',
        code: 'data_inspection_failed',
      },
    }),
    expect: 'contentFilter',
  },
  {
    case: 'DashScope: the newer DataInspectionFailed',
    provider: 'dashscope',
    status: 400,
    body: json({ code: 'DataInspectionFailed', message: 'Input text data may contain inappropriate content.' }),
    expect: 'contentFilter',
  },
  {
    case: 'Groq: a bad generated call is a plain 400',
    provider: 'groq',
    status: 400,
    body: json({
      error: { message: 'Failed to call a function.', type: 'invalid_request_error', code: 'tool_use_failed' },
    }),
    expect: 'other',
  },
  {
    case: 'Groq: no such endpoint (unknown_url) is unsupported, not a missing model',
    provider: 'groq',
    status: 404,
    body: json({
      error: {
        message: 'Unknown request URL: POST /openai/v1/embeddings.',
        type: 'invalid_request_error',
        code: 'unknown_url',
      },
    }),
    expect: 'unsupported',
  },
  {
    case: 'OpenRouter: 402 for credits',
    provider: 'openrouter',
    status: 402,
    body: json({ error: { code: 402, message: 'Insufficient credits. Add more using https://openrouter.ai/credits' } }),
    expect: 'balance',
  },
  {
    case: "OpenRouter: the routed provider's body in metadata.raw is classified, both messages kept",
    provider: 'openrouter',
    status: 400,
    body: json({
      error: {
        code: 400,
        message: 'Provider returned error',
        metadata: {
          provider_name: 'DeepSeek',
          raw: json({
            error: {
              message: "This model's maximum context length is 65536 tokens.",
              type: 'invalid_request_error',
              code: 'context_length_exceeded',
            },
          }),
        },
      },
    }),
    expect: 'context',
    upstreamCode: 'context_length_exceeded',
  },
  {
    case: 'OpenRouter: 503 with Retry-After',
    provider: 'openrouter',
    status: 503,
    body: json({ error: { code: 503, message: 'No instances available' } }),
    retryAfterHeader: '3',
    expect: 'overloaded',
    retryDelay: '3s',
  },
  {
    case: 'vLLM: an integer code in the error object',
    provider: 'vllm',
    status: 400,
    body: json({
      error: { message: 'max_tokens must be at least 1', type: 'BadRequestError', param: null, code: 400 },
    }),
    expect: 'other',
    upstreamCode: '400',
  },
  {
    case: 'vLLM (older): a top-level {"object":"error"}',
    provider: 'vllm',
    status: 400,
    body: json({
      object: 'error',
      message: "This model's maximum context length is 32768 tokens.",
      type: 'BadRequestError',
      code: 400,
    }),
    expect: 'context',
  },
  {
    case: 'Ollama: a model that was never pulled',
    provider: 'ollama',
    status: 404,
    body: json({ error: { message: 'model "qwen3:8b" not found, try pulling it first', type: 'api_error' } }),
    expect: 'notFound',
  },
  {
    case: 'Ollama: a model without tools',
    provider: 'ollama',
    status: 400,
    body: json({ error: { message: 'registry.ollama.ai/library/gemma:2b does not support tools', type: 'api_error' } }),
    expect: 'unsupported',
  },
  {
    case: 'llama.cpp: context overflow',
    provider: 'llamacpp',
    status: 400,
    body: json({
      error: {
        code: 400,
        message: 'the request exceeds the available context size',
        type: 'exceed_context_size_error',
        n_prompt_tokens: 9000,
        n_ctx: 4096,
      },
    }),
    expect: 'context',
  },
  {
    case: 'llama.cpp: tools without --jinja arrive as a 500 but are deterministic',
    provider: 'llamacpp',
    status: 500,
    body: json({ error: { code: 500, message: 'tools param requires --jinja flag', type: 'server_error' } }),
    expect: 'unsupported',
  },
  {
    case: 'llama.cpp: images without --mmproj arrive as a 500 but are deterministic',
    provider: 'llamacpp',
    status: 500,
    body: json({ error: { code: 500, message: 'image input is not supported by this server', type: 'server_error' } }),
    expect: 'unsupported',
  },
  {
    case: 'DeepSeek: json_schema refused',
    provider: 'deepseek',
    status: 400,
    body: json({ error: { message: 'This response_format type is unavailable now', type: 'invalid_request_error' } }),
    expect: 'unsupported',
  },
  {
    case: 'Anthropic-style envelope, 529 overloaded',
    provider: 'generic',
    status: 529,
    body: json({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    expect: 'overloaded',
  },
  {
    case: 'a proxy in between: 502 with an HTML body',
    provider: 'generic',
    status: 502,
    body: '\n<html><body><h1>502 Bad Gateway</h1></body></html>',
    expect: 'server',
  },
  { case: 'a 500 without a body', provider: 'generic', status: 500, body: '', expect: 'server' },
  { case: 'a 408', provider: 'generic', status: 408, body: 'Request Timeout', expect: 'timeout' },
  {
    case: 'a 422 validation error',
    provider: 'generic',
    status: 422,
    body: json({ detail: 'temperature: value is not a valid float' }),
    expect: 'other',
  },
  { case: 'a bare 403 without a body is auth', provider: 'generic', status: 403, body: '', expect: 'auth' },
];

function errorInfoOf(error: ProxyError): Extract<RpcDetail, { reason: string }> | undefined {
  return error.details.find(
    (detail): detail is Extract<RpcDetail, { reason: string }> =>
      detail['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo',
  );
}

function retryDelayOf(error: ProxyError): string | undefined {
  for (const detail of error.details)
    if (detail['@type'] === 'type.googleapis.com/google.rpc.RetryInfo') return detail.retryDelay;
  return undefined;
}

describe('upstream error classification (docs/providers.md §8)', () => {
  for (const row of ROWS) {
    const expected = CLASSES[row.expect];
    it(`${row.case} → ${expected?.http ?? '?'} ${expected?.reason ?? '?'}`, () => {
      assert.ok(expected !== undefined);
      const error = classifyUpstreamError({
        provider: row.provider,
        status: row.status,
        body: row.body,
        retryAfterHeader: row.retryAfterHeader,
      });
      assert.equal(error.code, expected.code);
      assert.equal(error.httpStatus, expected.http);
      assert.equal(error.status, expected.status);
      const info = errorInfoOf(error);
      assert.equal(info?.reason, expected.reason);
      assert.equal(info?.metadata?.['provider'], row.provider);
      assert.equal(info?.metadata?.['upstream_status'], String(row.status));
      if (row.upstreamCode !== undefined) assert.equal(info?.metadata?.['upstream_code'], row.upstreamCode);
      if (row.retryDelay !== undefined) assert.equal(retryDelayOf(error), row.retryDelay ?? undefined);
      assert.ok(error.message.includes(row.provider), error.message);
      assert.ok(error.message.includes(String(row.status)), error.message);
      // The client's body is the Google error shape with the same status and code.
      const body = error.toGoogleStatus();
      assert.equal(body.error.code, expected.http);
      assert.equal(body.error.status, expected.status);
    });
  }

  it('keeps the upstream message, and both messages of an OpenRouter relay', () => {
    const relayed = classifyUpstreamError({
      provider: 'openrouter',
      status: 400,
      body: json({
        error: { message: 'Provider returned error', metadata: { raw: json({ error: { message: 'inner detail' } }) } },
      }),
    });
    assert.match(relayed.message, /Provider returned error/);
    assert.match(relayed.message, /inner detail/);
    const plain = classifyUpstreamError({ provider: 'vllm', status: 400, body: 'plain words from the server' });
    assert.match(plain.message, /plain words from the server/);
  });

  it('screens phrases that would make Gemini CLI misread the error ([R-ERR-3]); the delay is still read', () => {
    const error = classifyUpstreamError({
      provider: 'generic',
      status: 429,
      body: json({ error: { message: 'Quota exceeded, limit: 0. Please retry in 12s. MODEL_CAPACITY_EXHAUSTED' } }),
    });
    assert.doesNotMatch(error.message, /limit:\s*0|please retry in|MODEL_CAPACITY_EXHAUSTED/i);
    assert.equal(retryDelayOf(error), '12s');
  });

  it('a very long non-JSON body is cut, not copied whole', () => {
    const error = classifyUpstreamError({ provider: 'generic', status: 500, body: 'x'.repeat(100_000) });
    assert.ok(error.message.length < 4096, `message of ${error.message.length} characters`);
  });

  it('no retry delay on deterministic classes, even with a Retry-After header', () => {
    for (const [status, body] of [
      [400, json({ error: { message: 'bad' } })],
      [401, json({ error: { message: 'bad key' } })],
      [402, json({ error: { message: 'Insufficient Balance' } })],
    ] as const) {
      const error = classifyUpstreamError({ provider: 'generic', status, body, retryAfterHeader: '5' });
      assert.equal(retryDelayOf(error), undefined, `${status}`);
    }
  });
});

describe('retry delay', () => {
  const now = Date.parse('2026-05-01T12:00:00Z');
  const rows: Array<[header: string | undefined, message: string, seconds: number | undefined]> = [
    ['3', '', 3],
    ['0', 'retry after 9 seconds', 0],
    ['1.5', '', 1.5],
    ['Fri, 01 May 2026 12:00:10 GMT', '', 10],
    ['Fri, 01 May 2026 11:59:00 GMT', '', 0],
    ['soon', 'Please retry after 20 seconds.', 20],
    ['  ', 'Try again in 2 seconds.', 2],
    [undefined, 'Rate limit reached. Please try again in 500ms.', 0.5],
    [undefined, 'try again after 4 s', 4],
    [undefined, 'retry in 1.25 secs', 1.25],
    [undefined, 'Retry after 30', 30],
    [undefined, 'Rate limit reached.', undefined],
    [undefined, '', undefined],
  ];
  for (const [header, message, seconds] of rows) {
    it(`header ${JSON.stringify(header)}, message ${JSON.stringify(message)} → ${String(seconds)}`, () => {
      assert.equal(retryDelaySeconds(header, message, now), seconds);
    });
  }
});
