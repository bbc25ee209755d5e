/**
 * What a Gemini CLI user reads when the upstream fails ([R-ERR-8]): one sentence per error class, built from the
 * upstream's status and body or from the network error, with the machine-readable rest in the ErrorInfo detail.
 * Pure functions, so every class is checked here; test/faults/fault-matrix.test.ts checks the same form over HTTP.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors as undiciErrors } from 'undici';
import { ProxyError, quoteForMessage, type RpcDetail } from '../../src/errors.js';
import { circuitOpenError, shortReason } from '../../src/gateway/failover.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { networkError } from '../../src/upstream/client.js';
import type { UpstreamTarget } from '../../src/upstream/endpoints.js';
import { classifyUpstreamError } from '../../src/upstream/upstream-errors.js';
import { assertOneSentence } from '../support/error-sentence.js';

function errorInfoOf(error: ProxyError): Extract<RpcDetail, { reason: string }> {
  const info = error.details.find(
    (detail): detail is Extract<RpcDetail, { reason: string }> =>
      detail['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo',
  );
  assert.ok(info !== undefined, `no ErrorInfo in ${JSON.stringify(error.details)}`);
  return info;
}

const classify = (provider: string, status: number, body: unknown, retryAfterHeader?: string): ProxyError =>
  classifyUpstreamError({
    provider,
    status,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    retryAfterHeader,
    now: 0,
  });

describe('upstream HTTP errors: one sentence, the rest in ErrorInfo', () => {
  const cases: Array<{
    name: string;
    error: ProxyError;
    httpStatus: number;
    reason: string;
    message: RegExp;
    metadata: Record<string, string>;
  }> = [
    {
      name: 'bad request: the upstream words quoted',
      error: classify('kimi', 400, {
        error: { message: "Invalid request: tool_choice 'required' is not supported", type: 'invalid_request_error' },
      }),
      httpStatus: 400,
      reason: 'UPSTREAM_BAD_REQUEST',
      message:
        /^Upstream kimi rejected the request \(400: "Invalid request: tool_choice 'required' is not supported"\)\.$/,
      metadata: { provider: 'kimi', upstream_status: '400', upstream_type: 'invalid_request_error' },
    },
    {
      name: 'server error',
      error: classify('generic', 500, { error: { message: 'The server had an error.', type: 'server_error' } }),
      httpStatus: 503,
      reason: 'UPSTREAM_SERVER_ERROR',
      message: /^Upstream generic failed with a server error \(500: "The server had an error"\)\.$/,
      metadata: { provider: 'generic', upstream_status: '500', upstream_type: 'server_error' },
    },
    {
      name: 'no balance: says what to do',
      error: classify('deepseek', 402, { error: { message: 'Insufficient Balance', type: 'unknown_error' } }),
      httpStatus: 400,
      reason: 'UPSTREAM_INSUFFICIENT_BALANCE',
      message: /no balance or quota left \(402: "Insufficient Balance"\), so retrying will not help: top up/,
      metadata: { provider: 'deepseek', upstream_status: '402', upstream_type: 'unknown_error' },
    },
    {
      name: 'bad upstream key: names the setting',
      error: classify('openai', 401, {
        error: { message: 'Incorrect API key provided: sk-[REDACTED].', code: 'invalid_api_key' },
      }),
      httpStatus: 403,
      reason: 'UPSTREAM_AUTH_REJECTED',
      message: /rejected the proxy's credentials \(401: .*\): check the api_key configured for upstream openai\.$/,
      metadata: { provider: 'openai', upstream_status: '401', upstream_code: 'invalid_api_key' },
    },
    {
      name: 'context window: says /compress',
      error: classify('openai', 400, {
        error: { message: "This model's maximum context length is 32768 tokens.", code: 'context_length_exceeded' },
      }),
      httpStatus: 400,
      reason: 'UPSTREAM_CONTEXT_LENGTH',
      message: /longer than its model's context window \(400: .*32768 tokens"\): run \/compress or \/clear\.$/,
      metadata: { provider: 'openai', upstream_status: '400', upstream_code: 'context_length_exceeded' },
    },
    {
      name: 'rate limit with a delay: RetryInfo, and the wait in the sentence',
      error: classify('kimi', 429, { error: { message: 'rate limited', type: 'rate_limit_reached_error' } }, '17'),
      httpStatus: 429,
      reason: 'UPSTREAM_RATE_LIMITED',
      message: /^Upstream kimi is rate-limiting the proxy \(429: "rate limited"\); it asks to wait 17 s\.$/,
      metadata: { provider: 'kimi', upstream_status: '429', upstream_type: 'rate_limit_reached_error' },
    },
    {
      name: 'content filter: says the text stays in history',
      error: classify('dashscope', 400, {
        error: { message: 'Input data may contain inappropriate content.', code: 'data_inspection_failed' },
      }),
      httpStatus: 400,
      reason: 'UPSTREAM_CONTENT_FILTERED',
      message: /refused the content .* stays in the conversation history/,
      metadata: { provider: 'dashscope', upstream_status: '400', upstream_code: 'data_inspection_failed' },
    },
    {
      name: 'an HTML error page: its title in the sentence, the page in the metadata',
      error: classify(
        'edge',
        502,
        '<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1></body></html>',
      ),
      httpStatus: 503,
      reason: 'UPSTREAM_SERVER_ERROR',
      message: /^Upstream edge failed with a server error \(502: "502 Bad Gateway"\)\.$/,
      metadata: {
        provider: 'edge',
        upstream_status: '502',
        upstream_message:
          '<html><head><title>502 Bad Gateway</title></head> <body><h1>502 Bad Gateway</h1></body></html>',
      },
    },
    {
      name: 'JSON inside the upstream message: cut from the sentence, kept in the metadata',
      error: classify('vllm', 400, {
        error: { message: 'Invalid schema: {"type":"object"}\nis not valid', type: 'BadRequestError' },
      }),
      httpStatus: 400,
      reason: 'UPSTREAM_BAD_REQUEST',
      message: /^Upstream vllm rejected the request \(400: "Invalid schema…"\)\.$/,
      metadata: {
        provider: 'vllm',
        upstream_status: '400',
        upstream_type: 'BadRequestError',
        upstream_message: 'Invalid schema: {"type":"object"} is not valid',
      },
    },
    {
      name: 'no message at all',
      error: classify('generic', 503, ''),
      httpStatus: 503,
      reason: 'UPSTREAM_OVERLOADED',
      message: /^Upstream generic is overloaded or unavailable \(503\)\.$/,
      metadata: { provider: 'generic', upstream_status: '503' },
    },
  ];
  for (const testCase of cases) {
    it(testCase.name, () => {
      assert.equal(testCase.error.httpStatus, testCase.httpStatus);
      assert.match(testCase.error.message, testCase.message);
      assertOneSentence(testCase.error.message);
      const info = errorInfoOf(testCase.error);
      assert.equal(info.reason, testCase.reason);
      assert.equal(info.domain, 'gemini-proxy');
      assert.deepEqual(info.metadata, testCase.metadata);
    });
  }

  it('the access line keeps the upstream type and words (never sent to the client)', () => {
    const error = classify('generic', 500, { error: { message: 'database on fire', type: 'server_error' } });
    assert.equal(shortReason(error), 'server_error: database on fire');
    assert.ok(!JSON.stringify(error.toGoogleStatus()).includes('server_error: database'));
  });

  it("phrases that change Gemini CLI's retry behaviour are screened out of the sentence ([R-ERR-3])", () => {
    const error = classify('generic', 429, { error: { message: 'Quota limit: 0. Please retry in 5s.' } });
    assert.doesNotMatch(error.message, /limit:\s*0|Please retry in/);
  });
});

describe('network errors: one sentence naming the upstream and the fix', () => {
  const target = (provider: keyof typeof PROVIDERS, baseUrl: string): UpstreamTarget => ({
    provider,
    profile: PROVIDERS[provider],
    baseUrl,
    apiKey: 'sk-secret-never-shown',
    azureApiVersion: '2024-10-21',
    timeouts: { idleSeconds: 60, headersSeconds: 45, unarySeconds: 300, connectSeconds: 10 },
  });
  const withCode = (code: string): Error => Object.assign(new Error(`connect ${code}`), { code });

  it('nothing listens at a local Ollama: how to start it', () => {
    const error = networkError(withCode('ECONNREFUSED'), target('ollama', 'http://user:pw@127.0.0.1:11434/v1?key=x'));
    assert.equal(error.httpStatus, 400);
    assert.equal(error.status, 'FAILED_PRECONDITION');
    assert.equal(
      error.message,
      'Upstream ollama at http://127.0.0.1:11434/v1 refused the connection (nothing listens there): start Ollama with `ollama serve`, and fetch the model once with `ollama pull <model>`.',
    );
    assertOneSentence(error.message, 'refused', ['pw', 'key=x', 'sk-secret']);
    assert.equal(errorInfoOf(error).reason, 'UPSTREAM_UNREACHABLE');
    assert.deepEqual(errorInfoOf(error).metadata, { provider: 'ollama', network_error: 'ECONNREFUSED' });
  });

  it('timeouts name the setting and its value, for streams and unary calls', () => {
    const stream = networkError(
      new undiciErrors.HeadersTimeoutError(),
      target('kimi', 'https://api.moonshot.ai/v1'),
      true,
    );
    assert.equal(stream.httpStatus, 504);
    assert.match(stream.message, /sent no response headers in time \(45 s\): raise timeouts\.upstream_headers_seconds/);
    assert.deepEqual(errorInfoOf(stream).metadata, {
      provider: 'kimi',
      network_error: 'UND_ERR_HEADERS_TIMEOUT',
      timeout_seconds: '45',
    });
    const unary = networkError(
      new undiciErrors.HeadersTimeoutError(),
      target('kimi', 'https://api.moonshot.ai/v1'),
      false,
    );
    assert.match(unary.message, /in time \(300 s\): raise timeouts\.upstream_unary_seconds/);
    const idle = networkError(new undiciErrors.BodyTimeoutError(), target('kimi', 'https://api.moonshot.ai/v1'));
    assert.match(idle.message, /stopped sending data for 60 s: raise timeouts\.upstream_idle_seconds/);
    for (const error of [stream, unary, idle]) assertOneSentence(error.message);
  });

  it('reset, unknown host, TLS failure, anything else', () => {
    const generic = target('generic', 'https://llm.example.test/v1');
    const reset = networkError(withCode('ECONNRESET'), generic);
    assert.equal(reset.httpStatus, 503);
    assert.match(reset.message, /closed the connection unexpectedly\.$/);
    const dns = networkError(withCode('ENOTFOUND'), generic);
    assert.match(dns.message, /could not be resolved: check the host name in the base URL\.$/);
    const tls = networkError(withCode('ERR_TLS_CERT_ALTNAME_INVALID'), generic);
    assert.match(tls.message, /failed the TLS handshake \(ERR_TLS_CERT_ALTNAME_INVALID\): check the URL scheme/);
    const other = networkError(new Error('something\nodd {"at":1}'), generic);
    assert.match(other.message, /is unreachable \(something odd…\)\.$/);
    for (const error of [reset, dns, tls, other]) assertOneSentence(error.message);
  });
});

describe('the circuit-open answer and the message helpers', () => {
  it('the last failure and the breaker in one sentence; the counts in ErrorInfo', () => {
    const last = classify('generic', 500, { error: { message: 'boom', type: 'server_error' } });
    const error = circuitOpenError(
      { upstream: 'primary', model: 'big' },
      { lastFailure: last.message, lastFailureCode: last.code, consecutiveFailures: 3, remainingSeconds: 10 },
      30,
    );
    assert.equal(error.httpStatus, 400);
    assert.equal(
      error.message,
      'Upstream generic failed with a server error (500: "boom"); after 3 failures in a row for big on upstream primary, the proxy stops calling it for 30 s (circuit_breaker).',
    );
    assertOneSentence(error.message);
    assert.deepEqual(errorInfoOf(error).metadata, {
      upstream: 'primary',
      model: 'big',
      consecutive_failures: '3',
      cooldown_seconds: '30',
    });
  });

  it('a ProxyError message is always one line', () => {
    assert.equal(new ProxyError('INVALID_REQUEST', 'first line\n  second line\r\n').message, 'first line second line');
  });

  it('mapText redacts the message, the metadata and the log reason', () => {
    const error = new ProxyError(
      'UPSTREAM_REJECTED',
      'Upstream x rejected sk-live.',
      [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'R', domain: 'd', metadata: { m: 'sk-live' } }],
      'sk-live',
    );
    const redacted = error.mapText((text) => text.replaceAll('sk-live', '[REDACTED]'));
    assert.equal(redacted.message, 'Upstream x rejected [REDACTED].');
    assert.equal(redacted.logReason, '[REDACTED]');
    assert.deepEqual(errorInfoOf(redacted).metadata, { m: '[REDACTED]' });
  });

  it('quoteForMessage: one line, no markup, no JSON, bounded, no closing full stop', () => {
    assert.equal(quoteForMessage('  a\n b.  '), 'a b');
    assert.equal(quoteForMessage('say "hi"'), "say 'hi'");
    assert.equal(quoteForMessage('{"error":"x"}'), '');
    assert.equal(quoteForMessage('bad value [{"a":1}] here'), 'bad value…');
    assert.equal(quoteForMessage('<html><body><h1>Oops</h1></body></html>'), 'Oops');
    assert.equal(quoteForMessage('x'.repeat(300), 50), `${'x'.repeat(49)}…`);
  });
});
