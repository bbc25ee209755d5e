/**
 * The fuzzer in the default suite: its oracle checked against known-bad answers (so it can fail), regression cases
 * for the bugs it found, and a quick sample of generated requests against the real proxy process. The full run is
 * `npm run fuzz` (test/fuzz/run.ts). FUZZ_SEED=<n> replays the quick sample with another seed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { countInPieces } from '../../src/tokenizer.js';
import { Rng, caseSeed, describeCase, generateCase } from './generator.js';
import {
  ALL_SECRETS,
  CLIENT_KEYS,
  LIMITED_CLIENT_KEY,
  checkErrorBody,
  closedPort,
  formatFailures,
  formatStats,
  fuzzProxyConfig,
  judge,
  parseResponses,
  runFuzz,
  sendHttp,
  sendRaw,
  startFuzzUpstream,
  startProxyProcess,
  type FuzzUpstream,
  type Outcome,
  type ProxyProcess,
} from './harness.js';
import type { FuzzCase } from './generator.js';

const JSON_TYPE = { 'content-type': 'application/json; charset=UTF-8' };

function answer(status: number, body: string, headers: Record<string, string> = JSON_TYPE): Outcome {
  return {
    answers: [{ status, headers, body: Buffer.from(body) }],
    closedWithoutAnswer: false,
    hung: false,
    durationMs: 5,
  };
}

function plainCase(overrides: Partial<FuzzCase> = {}): FuzzCase {
  return {
    index: 0,
    seed: 1,
    method: 'POST',
    path: '/v1beta/models/m:generateContent',
    headers: [],
    body: Buffer.from('{}'),
    upstreamFault: false,
    notes: [],
    ...overrides,
  };
}

describe('fuzz oracle', () => {
  it('accepts a google.rpc.Status whose code is the HTTP status', () => {
    assert.equal(
      checkErrorBody(
        400,
        JSON_TYPE,
        Buffer.from('{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}'),
        'POST',
      ),
      undefined,
    );
    assert.equal(
      checkErrorBody(
        429,
        JSON_TYPE,
        Buffer.from('{"error":{"code":429,"message":"slow","status":"RESOURCE_EXHAUSTED","details":[]}}'),
        'POST',
      ),
      undefined,
    );
  });

  it('rejects every other error shape', () => {
    const bad: Array<[number, Record<string, string>, string]> = [
      [400, { 'content-type': 'text/plain' }, 'Bad Request'],
      [400, JSON_TYPE, '{"error":"Bad Request","code":"FST_ERR_BAD_URL","message":"x","statusCode":400}'],
      [404, JSON_TYPE, '{"error":{"code":400,"message":"x","status":"NOT_FOUND"}}'],
      [404, JSON_TYPE, '{"error":{"code":404,"message":"x","status":"INVALID_ARGUMENT"}}'],
      [500, JSON_TYPE, '{"error":{"code":500,"status":"INTERNAL"}}'],
      [503, JSON_TYPE, '{"error":{"code":503,"message":"x","status":"SERVICE_UNAVAILABLE"}}'],
      [400, JSON_TYPE, '{"error":{"code":400,"message":"x","status":"INVALID_ARGUMENT"},"extra":1}'],
      [400, JSON_TYPE, 'not json'],
    ];
    for (const [status, headers, body] of bad)
      assert.notEqual(checkErrorBody(status, headers, Buffer.from(body), 'POST'), undefined, body);
  });

  it('flags a proxy-caused 5xx, a stack trace, a leaked key, a hang and a silent close', () => {
    const internal = '{"error":{"code":500,"message":"Internal error","status":"INTERNAL"}}';
    assert.deepEqual(
      judge(plainCase(), answer(500, internal), ALL_SECRETS).map((violation) => violation.kind),
      ['proxy-5xx'],
    );
    assert.deepEqual(
      judge(
        plainCase({ upstreamFault: true }),
        answer(503, '{"error":{"code":503,"message":"upstream down","status":"UNAVAILABLE"}}'),
        ALL_SECRETS,
      ),
      [],
    );
    const stack =
      '{"error":{"code":400,"message":"TypeError: x\\n    at normalizeSchema (/app/src/translate/schema.ts:33:32)","status":"INVALID_ARGUMENT"}}';
    assert.ok(
      judge(plainCase(), answer(400, stack), ALL_SECRETS).some((violation) => violation.kind === 'stack-trace'),
    );
    const leak = `{"error":{"code":403,"message":"bad key ${ALL_SECRETS[0] ?? ''}","status":"PERMISSION_DENIED"}}`;
    assert.ok(judge(plainCase(), answer(403, leak), ALL_SECRETS).some((violation) => violation.kind === 'secret-leak'));
    assert.deepEqual(
      judge(plainCase(), { answers: [], closedWithoutAnswer: false, hung: true, durationMs: 20_000 }, ALL_SECRETS).map(
        (violation) => violation.kind,
      ),
      ['hang'],
    );
    assert.deepEqual(
      judge(plainCase(), { answers: [], closedWithoutAnswer: true, hung: false, durationMs: 3 }, ALL_SECRETS).map(
        (violation) => violation.kind,
      ),
      ['no-answer'],
    );
    assert.ok(
      judge(
        plainCase(),
        answer(200, 'data: {"a":1}\r\n\r\ndata: {broken\r\n\r\n', { 'content-type': 'text/event-stream' }),
        ALL_SECRETS,
      ).some((violation) => violation.kind === 'bad-2xx'),
    );
    assert.deepEqual(
      judge(
        plainCase(),
        answer(200, 'data: {"a":1}\r\n\r\n\r\n{"error":{"code":503,"message":"late","status":"UNAVAILABLE"}}', {
          'content-type': 'text/event-stream',
        }),
        ALL_SECRETS,
      ),
      [],
    );
  });

  it('parses raw HTTP/1.1 responses, chunked and interim ones included', () => {
    const bytes = Buffer.from(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\n5\r\n{"a":\r\n2\r\n1}\r\n0\r\n\r\nHTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}',
    );
    const parsed = parseResponses(bytes);
    assert.ok(Array.isArray(parsed));
    assert.deepEqual(
      parsed.map((one) => [one.status, one.body.toString()]),
      [
        [400, '{"a":1}'],
        [404, '{}'],
      ],
    );
    assert.equal(typeof parseResponses(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')), 'string');
  });

  it('generates the same case from the same seed, and different cases from different seeds', () => {
    const options = {
      clientKeys: CLIENT_KEYS,
      limitedKey: LIMITED_CLIENT_KEY,
      bodyLimitBytes: 4 * 1048576,
      faultRate: 0.12,
    };
    for (const index of [0, 17, 999])
      assert.equal(describeCase(generateCase(42, index, options)), describeCase(generateCase(42, index, options)));
    assert.notEqual(describeCase(generateCase(42, 3, options)), describeCase(generateCase(43, 3, options)));
    assert.notEqual(caseSeed(1, 0), caseSeed(1, 1));
    const rng = new Rng(7);
    const rolls = Array.from({ length: 1000 }, () => rng.int(10));
    for (let value = 0; value < 10; value += 1) assert.ok(rolls.includes(value));
  });
});

describe('countInPieces (the tokenizer fix)', () => {
  it('counts ordinary text exactly as the whole-text BPE does, and long runs in linear time', async () => {
    const { countTokens } = await import('gpt-tokenizer/encoding/cl100k_base');
    const samples = [
      'The quick brown fox jumps over the lazy dog. '.repeat(300),
      'function main() {\n  return [1, 2, 3].map((x) => x * 2);\n}\n'.repeat(100),
      '中文测试，混合 English 和 emoji 😀👍🏽 text.\n'.repeat(100),
      `${'='.repeat(64)}\n${'-'.repeat(64)}\n`,
    ];
    for (const text of samples) assert.equal(countInPieces(countTokens, text), countTokens(text), text.slice(0, 40));
    // Runs longer than 64 characters: at most one token more per 64-character piece.
    for (const text of ['-'.repeat(80), 'a'.repeat(5000), '😀'.repeat(3000), '\n'.repeat(3000), 'xY3+/'.repeat(2000)]) {
      const difference = countInPieces(countTokens, text) - countTokens(text);
      assert.ok(difference >= 0 && difference <= Math.ceil(text.length / 64), `${text.slice(0, 10)}…: ${difference}`);
    }
    const started = Date.now();
    countInPieces(countTokens, 'é'.repeat(1_000_000));
    assert.ok(Date.now() - started < 3000, `one million characters took ${Date.now() - started} ms`);
  });
});

describe('fuzz regressions (bugs the fuzzer found), against the proxy process', () => {
  let upstream: FuzzUpstream;
  let proxy: ProxyProcess;
  let pool: Pool;
  let directory: string;
  const key = CLIENT_KEYS[0];

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'gemini-proxy-fuzz-regression-'));
    upstream = await startFuzzUpstream();
    // Detailed logs on: the deep-nesting crash happened when the request's trace was serialised.
    proxy = await startProxyProcess(
      fuzzProxyConfig(upstream.port, await closedPort(), join(directory, 'logs'), true),
      directory,
    );
    pool = new Pool(proxy.url, { connections: 2 });
  });
  after(async () => {
    await pool.close();
    await proxy.stop();
    await upstream.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const send = (
    path: string,
    body: string,
    headers: Array<[string, string]> = [
      ['content-type', 'application/json'],
      ['x-goog-api-key', key],
    ],
  ): Promise<Outcome> => sendHttp(pool, proxy.port, plainCase({ path, body: Buffer.from(body), headers }), 10_000);

  function assertGeminiError(outcome: Outcome, status: number): Record<string, unknown> {
    const [first] = outcome.answers;
    assert.ok(first !== undefined, 'no answer');
    assert.equal(first.status, status, first.body.toString());
    assert.equal(checkErrorBody(first.status, first.headers, first.body, 'POST'), undefined, first.body.toString());
    return (JSON.parse(first.body.toString()) as { error: Record<string, unknown> }).error;
  }

  it('deep nesting (20,000 levels in functionCall.args, 5,000 in a tool schema) is a 400, not a 500 or a crash', async () => {
    const depth = 20_000;
    const deepArgs = `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":${'['.repeat(depth)}1${']'.repeat(depth)}}}}]},{"role":"user","parts":[{"text":"go"}]}]}`;
    const error = assertGeminiError(await send('/v1beta/models/gemini-2.5-pro:generateContent', deepArgs), 400);
    assert.match(String(error['message']), /deeper than 512/);
    const schemaDepth = 5000;
    const deepSchema = `{"contents":[{"parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":[{"name":"deep","parameters":${'{"type":"OBJECT","properties":{"a":'.repeat(schemaDepth)}{"type":"STRING"}${'}}'.repeat(schemaDepth)}}]}]}`;
    assertGeminiError(await send('/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse', deepSchema), 400);
    // Still serving, and nothing logged at error level: once the access line of the last request is out, every line
    // the earlier ones caused is in (stdout is ordered).
    const okLogged = proxy.nextLine(/generateContent - 200 /);
    const ok = await send('/v1beta/models/gemini-2.5-pro:generateContent', '{"contents":[{"parts":[{"text":"hi"}]}]}');
    assert.equal(ok.answers[0]?.status, 200);
    await okLogged;
    assert.equal(proxy.exited, undefined, `the proxy exited: ${proxy.stderr}`);
    assert.deepEqual(proxy.errorLines, []);
  });

  it('a URL Fastify cannot decode is a Gemini 400 that does not echo the URL or its key', async () => {
    const outcome = await send(
      `/v1beta/models/%:generateContent?key=${key}`,
      '{"contents":[{"parts":[{"text":"hi"}]}]}',
      [['content-type', 'application/json']],
    );
    assertGeminiError(outcome, 400);
    assert.ok(!outcome.answers[0]?.body.toString().includes(key), outcome.answers[0]?.body.toString());
    assert.ok(!outcome.answers[0]?.body.toString().includes('FST_ERR'));
  });

  it('an upload over body_limit_mb gets its 413, never a reset connection (EPIPE) the client would retry', async () => {
    const big = Buffer.from(JSON.stringify({ contents: [{ parts: [{ text: 'x'.repeat(6_000_000) }] }] }));
    const uploads = await Promise.all(
      Array.from({ length: 20 }, () =>
        sendHttp(
          pool,
          proxy.port,
          plainCase({
            body: big,
            headers: [
              ['content-type', 'application/json'],
              ['x-goog-api-key', key],
            ],
          }),
          20_000,
        ),
      ),
    );
    const statuses = uploads.map((outcome) => outcome.answers[0]?.status ?? outcome.clientError ?? 'none');
    assert.deepEqual(
      statuses,
      Array.from({ length: 20 }, () => 413),
    );
    for (const outcome of uploads) assertGeminiError(outcome, 413);
  });

  it('countTokens on 300,000 characters without a space answers in seconds (BPE on one huge piece took minutes)', async () => {
    const started = Date.now();
    const pending = send(
      '/v1beta/models/gemini-2.5-pro:countTokens',
      JSON.stringify({ contents: [{ parts: [{ text: '😀'.repeat(150_000) + 'a'.repeat(150_000) }] }] }),
    );
    // The event loop stays free for everyone else meanwhile.
    const health = await sendHttp(
      pool,
      proxy.port,
      plainCase({ method: 'GET', path: '/health', body: Buffer.alloc(0) }),
      10_000,
    );
    assert.equal(health.answers[0]?.status, 200);
    const outcome = await pending;
    assert.equal(outcome.answers[0]?.status, 200, outcome.answers[0]?.body.toString() ?? outcome.clientError);
    const { totalTokens } = JSON.parse(outcome.answers[0]?.body.toString() ?? '{}') as { totalTokens: number };
    assert.ok(totalTokens > 150_000, String(totalTokens));
    assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`);
  });

  it('requests refused while still uploading (bad header bytes, oversized headers, Connection: close over the limit) get their answer, not a reset', async () => {
    const upload = Buffer.alloc(3_000_000, 'x');
    const big = Buffer.alloc(6_000_000, 'x');
    const cases: Array<[number, Buffer]> = [
      [
        400,
        Buffer.concat([
          Buffer.from(
            `POST /v1beta/models/m:generateContent HTTP/1.1\r\nhost: x\r\nx-bad: a\u0001b\r\ncontent-length: ${upload.length}\r\n\r\n`,
            'latin1',
          ),
          upload,
        ]),
      ],
      [
        431,
        Buffer.concat([
          Buffer.from(
            `POST /v1beta/models/m:generateContent HTTP/1.1\r\nhost: x\r\nx-huge: ${'h'.repeat(30_000)}\r\ncontent-length: ${upload.length}\r\n\r\n`,
            'latin1',
          ),
          upload,
        ]),
      ],
      [
        413,
        Buffer.concat([
          Buffer.from(
            `POST /v1beta/models/m:generateContent HTTP/1.1\r\nhost: x\r\nx-goog-api-key: ${key}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${big.length}\r\n\r\n`,
            'latin1',
          ),
          big,
        ]),
      ],
    ];
    for (const [status, bytes] of cases) {
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => sendRaw(proxy.port, bytes, 20_000)));
      assert.deepEqual(
        outcomes.map((outcome) => outcome.answers[0]?.status ?? outcome.clientError ?? 'no answer'),
        Array.from({ length: 8 }, () => status),
      );
      for (const outcome of outcomes) assertGeminiError(outcome, status);
    }
    // The same oversized header block from undici, which gives up on a request whose upload fails (EPIPE).
    const oversized = plainCase({
      body: upload,
      headers: [
        ['content-type', 'application/json'],
        ['x-goog-api-key', key],
        ['x-huge', 'h'.repeat(30_000)],
      ],
    });
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => sendHttp(pool, proxy.port, oversized, 20_000)));
    assert.deepEqual(
      outcomes.map((outcome) => outcome.answers[0]?.status ?? outcome.clientError ?? 'no answer'),
      Array.from({ length: 8 }, () => 431),
    );
  });

  it('CONNECT gets a Gemini 400 instead of a silently closed socket', async () => {
    const outcome = await sendRaw(
      proxy.port,
      Buffer.from('CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n'),
      5000,
    );
    assertGeminiError(outcome, 400);
  });
});

describe('fuzz: keyless sample (Host and Origin guard) against the proxy process', () => {
  it('800 generated requests to a proxy without keys: every foreign Host or Origin refused, no other violation', async (t) => {
    const seed = process.env['FUZZ_SEED'] === undefined ? 20_261_202 : Number(process.env['FUZZ_SEED']);
    const stats = await runFuzz({
      seed,
      count: 800,
      concurrency: 8,
      boundMs: 20_000,
      detailedLogs: false,
      keyless: true,
    });
    for (const line of formatStats(stats).split('\n')) t.diagnostic(line);
    assert.deepEqual(stats.failures, [], `${formatStats(stats)}\n${formatFailures(stats)}`);
    assert.equal(stats.guardBypasses, 0);
    // The guard was exercised, and ordinary requests still went through.
    assert.ok((stats.byStatus['403'] ?? 0) > 10, formatStats(stats));
    assert.ok((stats.byStatus['200'] ?? 0) > 100, formatStats(stats));
  });
});

describe('fuzz: quick sample against the proxy process', () => {
  it('2,500 generated requests: no crash, hang, non-Gemini error, proxy-caused 5xx, stack trace or leaked key', async (t) => {
    const seed = process.env['FUZZ_SEED'] === undefined ? 20_261_127 : Number(process.env['FUZZ_SEED']);
    const stats = await runFuzz({ seed, count: 2500, concurrency: 16, boundMs: 20_000, detailedLogs: true });
    for (const line of formatStats(stats).split('\n')) t.diagnostic(line);
    assert.equal(stats.requests, 2500, formatFailures(stats));
    assert.deepEqual(stats.failures, [], `${formatStats(stats)}\n${formatFailures(stats)}`);
    assert.equal(
      stats.crashes +
        stats.hangs +
        stats.nonGeminiErrors +
        stats.proxyCaused5xx +
        stats.stackTraces +
        stats.secretLeaks +
        stats.bad2xx +
        stats.noAnswer +
        stats.guardBypasses,
      0,
    );
    assert.equal(stats.openConnectionsAfter ?? 0, 0, 'connections left open after every client closed');
    // The sample must reach the success path and the fault paths, not only the validators.
    assert.ok((stats.byStatus['200'] ?? 0) > 200, formatStats(stats));
    assert.ok(stats.upstream5xxPassedOn > 0, formatStats(stats));
  });
});
