/**
 * Secret scan (issue 4 "Proof"): the proxy runs as its own process (`node dist/src/cli.js --config …`, stdout and
 * stderr piped) with detailed logs, access logs and debug logging on, several upstreams with several keys, client
 * keys and an admin key. Requests of every kind go through it — successes, streams, embeddings, countTokens, auth
 * failures, client limits, upstream errors that echo the upstream key back (as JSON, text, SSE events, OpenRouter
 * metadata.raw), a client key pasted into a prompt, the real Gemini CLI — then no configured key may appear in any
 * output: HTTP responses (bodies and headers), the process's stdout/stderr, the Gemini CLI's output, every file under
 * log_directory (detailed logs, the usage database), the dashboard API and /metrics.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { startProxyProcess, type ProxyProcess } from '../fuzz/harness.js';
import { removeTemporaryDirectories, runCli, type CliRun } from '../support/gemini-cli.js';

const UPSTREAM_KEYS = {
  legacy: 'sk-scan-legacy-9d1f0c3b7a5e4d2c',
  primaryA: 'sk-scan-primaryA-4b8e2f6a1c9d3e7f',
  primaryB: 'sk-scan-primaryB-0a7c5e3f9b1d8e2a',
  secondary: 'sk-scan-secondary-6e2d9a4c8f0b5e1d',
  azure: 'azscan0123456789abcdef0123456789',
  kimi: 'sk-scan-kimi-3c7a1e9f5d2b8c4a',
};
const CLIENT = {
  alice: 'client-scan-alice-5f2a8d1c',
  bob: 'client-scan-bob-7e3b9c2d',
  limited: 'client-scan-limited-1a4d7f0e',
  /** The key runCli gives the Gemini CLI. */
  cli: 'test-client-key',
};
const ADMIN_KEY = 'admin-scan-key-8c1e5a9d3f7b';
const SECRETS: readonly string[] = [...Object.values(UPSTREAM_KEYS), ...Object.values(CLIENT), ADMIN_KEY];

/**
 * Every configured key found in `text`, whole or in part: any 16 consecutive characters of a key count (an excerpt of
 * an upstream body cut in the middle of a key is a leak too).
 */
function findSecrets(text: string): string[] {
  return SECRETS.filter((secret) => {
    if (text.includes(secret)) return true;
    for (let start = 0; start + 10 <= secret.length; start += 1)
      if (text.includes(secret.slice(start, start + 10))) return true;
    return false;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// An upstream that echoes the key it was given, in every form an error can take

interface EchoUpstream {
  port: number;
  /** Keys (Authorization bearer or api-key) seen per request. */
  keysSeen: Set<string>;
  echoes: number;
  close(): Promise<void>;
}

async function startEchoUpstream(): Promise<EchoUpstream> {
  const state = { keysSeen: new Set<string>(), echoes: 0 };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const server: Server = createServer((incoming: IncomingMessage, response: ServerResponse) => {
    const parts: Buffer[] = [];
    incoming.on('data', (data: Buffer) => parts.push(data));
    incoming.on('end', () => {
      const key = String(incoming.headers.authorization ?? incoming.headers['api-key'] ?? '').replace(/^Bearer /, '');
      if (key !== '') state.keysSeen.add(key);
      let body: { model?: string; stream?: boolean; input?: unknown } = {};
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8')) as typeof body;
      } catch {
        body = {};
      }
      const url = incoming.url ?? '';
      const json = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(value));
      };
      const model = body.model ?? '';
      if (url.includes('/embeddings')) {
        if (model === 'echo-embed-200') {
          state.echoes += 1;
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(`${key} is not allowed to embed`);
          return;
        }
        if (model.includes('echo')) {
          state.echoes += 1;
          json(401, {
            error: {
              message: `Incorrect API key provided: ${key}`,
              type: 'invalid_request_error',
              code: 'invalid_api_key',
            },
          });
          return;
        }
        const inputs = Array.isArray(body.input) ? body.input : [body.input];
        json(200, {
          data: inputs.map((_input, index) => ({ index, embedding: [0.1, 0.2, 0.3] })),
          usage: { prompt_tokens: 2, total_tokens: 2 },
        });
        return;
      }
      if (/tokeniz/.test(url)) {
        state.echoes += 1;
        if (model === 'kimi-200') {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(`${key} has no tokenizer access`);
        } else json(500, { error: { message: `tokenizer down for key ${key}` } });
        return;
      }
      if (url.endsWith('/models')) {
        json(200, { data: [{ id: 'm' }] });
        return;
      }
      const echo = `Incorrect API key provided: ${key}. Find your key at https://example.com.`;
      switch (model) {
        case 'echo-401':
          state.echoes += 1;
          json(401, { error: { message: echo, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
          return;
        case 'echo-429':
          state.echoes += 1;
          json(
            429,
            {
              error: {
                message: `Rate limit for key ${key}. Please try again in 1s.`,
                type: 'requests',
                code: 'rate_limit_exceeded',
              },
            },
            { 'retry-after': '1' },
          );
          return;
        case 'echo-500-text':
          state.echoes += 1;
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(`upstream exploded; key=${key}`);
          return;
        case 'echo-openrouter':
          state.echoes += 1;
          json(400, {
            error: {
              code: 400,
              message: 'Provider returned error',
              metadata: {
                provider_name: 'X',
                raw: JSON.stringify({ error: { message: `bad key ${key}`, code: 'invalid_api_key' } }),
              },
            },
          });
          return;
        case 'echo-unary-200':
          state.echoes += 1;
          json(200, { error: { message: echo, type: 'invalid_request_error', code: 400 } });
          return;
        case 'echo-sse-first':
          state.echoes += 1;
          response.writeHead(200, { 'content-type': 'text/event-stream' });
          response.end(
            `data: ${JSON.stringify({ error: { message: echo, type: 'server_error', code: null } })}\n\ndata: [DONE]\n\n`,
          );
          return;
        case 'echo-sse-after':
          state.echoes += 1;
          response.writeHead(200, { 'content-type': 'text/event-stream' });
          response.end(
            `${chunk({ role: 'assistant', content: 'partial' })}event: error\ndata: ${JSON.stringify({ error: { message: echo, type: 'server_error', code: 500 } })}\n\n`,
          );
          return;
        default:
          if (body.stream === true) {
            response.writeHead(200, { 'content-type': 'text/event-stream' });
            response.end(
              `${chunk({ role: 'assistant', content: 'Hello' })}${chunk({ content: ' world' }, 'stop')}data: ${JSON.stringify({ id: 'c', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } })}\n\ndata: [DONE]\n\n`,
            );
          } else {
            json(200, {
              id: 'c',
              object: 'chat.completion',
              choices: [{ index: 0, message: { role: 'assistant', content: 'Hello world' }, finish_reason: 'stop' }],
              usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
            });
          }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    keysSeen: state.keysSeen,
    get echoes() {
      return state.echoes;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------------------------------------------------------

function filesUnder(directory: string): string[] {
  if (!existsSync(directory)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(directory)) {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

interface Captured {
  what: string;
  status: number;
  text: string;
}

describe('secret scan: no configured key in any output', () => {
  let upstream: EchoUpstream;
  let proxy: ProxyProcess;
  let directory: string;
  let logDirectory: string;
  const captured: Captured[] = [];
  let cliRuns: CliRun[] = [];

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'gemini-proxy-secret-scan-'));
    logDirectory = join(directory, 'logs');
    upstream = await startEchoUpstream();
    const base = `http://127.0.0.1:${upstream.port}`;
    proxy = await startProxyProcess(
      {
        server: { host: '127.0.0.1', port: 0, log_level: 'debug' },
        openai_base_url: `${base}/v1`,
        openai_api_key: UPSTREAM_KEYS.legacy,
        default_openai_model: 'ok',
        default_embedding_model: 'embed',
        model_mapping: { 'legacy-*': 'ok', 'legacy-echo': 'echo-401' },
        upstreams: {
          primary: {
            provider: 'generic',
            base_url: `${base}/v1`,
            api_keys: [UPSTREAM_KEYS.primaryA, UPSTREAM_KEYS.primaryB],
          },
          secondary: { provider: 'openrouter', base_url: `${base}/v1`, api_key: UPSTREAM_KEYS.secondary },
          azure: { provider: 'azure', base_url: base, api_key: UPSTREAM_KEYS.azure },
          kimi: { provider: 'kimi', base_url: `${base}/v1`, api_key: UPSTREAM_KEYS.kimi },
        },
        routes: {
          'gemini-*': [{ upstream: 'primary', model: 'ok' }],
          'fallback-echo': [
            { upstream: 'primary', model: 'echo-429' },
            { upstream: 'secondary', model: 'echo-openrouter' },
          ],
          'primary-*': [{ upstream: 'primary', model: 'ok' }],
          'kimi-*': [{ upstream: 'kimi', model: 'ok' }],
          'azure-*': [{ upstream: 'azure', model: 'ok' }],
          ...Object.fromEntries(
            [
              'echo-401',
              'echo-429',
              'echo-500-text',
              'echo-openrouter',
              'echo-unary-200',
              'echo-sse-first',
              'echo-sse-after',
            ].flatMap((model) => [
              [`p-${model}`, [{ upstream: 'primary', model }]],
              [`s-${model}`, [{ upstream: 'secondary', model }]],
              [`a-${model}`, [{ upstream: 'azure', model }]],
            ]),
          ),
          'embed-echo': [{ upstream: 'primary', model: 'echo-embed' }],
          'embed-echo-200': [{ upstream: 'primary', model: 'echo-embed-200' }],
          'kimi-count': [{ upstream: 'kimi', model: 'ok' }],
          'kimi-count-200': [{ upstream: 'kimi', model: 'kimi-200' }],
        },
        // Retry-After 1 s is above max_delay_seconds: move on at once instead of waiting (keeps the test fast).
        retries: { attempts_per_target: 2, base_delay_ms: 1, max_delay_seconds: 0.5 },
        client_api_keys: [
          CLIENT.alice,
          { key: CLIENT.bob, name: 'bob' },
          { key: CLIENT.limited, name: 'limited', requests_per_minute: 2 },
          CLIENT.cli,
        ],
        admin_api_key: ADMIN_KEY,
        logging: { enable_detailed_logs: true, enable_access_logs: true, log_directory: logDirectory },
      },
      directory,
      [],
      { keepOutput: true },
    );
  });

  after(async () => {
    await proxy.stop();
    await upstream.close();
    removeTemporaryDirectories();
    rmSync(directory, { recursive: true, force: true });
  });

  async function call(
    what: string,
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<Captured> {
    const response = await request(`${proxy.url}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
    const text = await response.body.text();
    const headerText = Object.entries(response.headers)
      .map(([name, value]) => `${name}: ${String(value)}`)
      .join('\n');
    const entry = { what, status: response.statusCode, text: `${headerText}\n\n${text}` };
    captured.push(entry);
    return entry;
  }

  const prompt = (text: string): unknown => ({ contents: [{ role: 'user', parts: [{ text }] }] });

  it('drives requests of every kind through the proxy', async () => {
    const credentialForms: Array<[string, (key: string) => { query: string; headers: Record<string, string> }]> = [
      ['header', (key) => ({ query: '', headers: { 'x-goog-api-key': key } })],
      ['query', (key) => ({ query: `key=${key}`, headers: {} })],
      ['bearer', (key) => ({ query: '', headers: { authorization: `Bearer ${key}` } })],
    ];
    const models = [
      'gemini-2.5-pro',
      'legacy-model',
      'primary-x',
      'kimi-k2',
      'azure-gpt',
      'fallback-echo',
      'legacy-echo',
    ];
    for (const echo of [
      'echo-401',
      'echo-429',
      'echo-500-text',
      'echo-openrouter',
      'echo-unary-200',
      'echo-sse-first',
      'echo-sse-after',
    ])
      models.push(`p-${echo}`, `s-${echo}`, `a-${echo}`);
    for (const [form, credentials] of credentialForms) {
      const key = form === 'bearer' ? CLIENT.bob : CLIENT.alice;
      const { query, headers } = credentials(key);
      const q = (extra: string): string => [extra, query].filter((part) => part !== '').join('&');
      for (const model of models) {
        await call(
          `${form} unary ${model}`,
          'POST',
          `/v1beta/models/${model}:generateContent${q('') ? `?${q('')}` : ''}`,
          prompt('say hi'),
          headers,
        );
        await call(
          `${form} sse ${model}`,
          'POST',
          `/v1beta/models/${model}:streamGenerateContent?${q('alt=sse')}`,
          prompt('say hi'),
          headers,
        );
      }
      await call(
        `${form} json-array`,
        'POST',
        `/v1beta/models/gemini-2.5-pro:streamGenerateContent${q('') ? `?${q('')}` : ''}`,
        prompt('say hi'),
        headers,
      );
      await call(
        `${form} countTokens`,
        'POST',
        `/v1beta/models/gemini-2.5-pro:countTokens${q('') ? `?${q('')}` : ''}`,
        prompt('count me'),
        headers,
      );
      await call(
        `${form} countTokens kimi (tokenizer endpoint echoes the key)`,
        'POST',
        `/v1beta/models/kimi-count:countTokens${q('') ? `?${q('')}` : ''}`,
        { generateContentRequest: prompt('count me') },
        headers,
      );
      await call(
        `${form} embedContent`,
        'POST',
        `/v1beta/models/gemini-embedding-001:embedContent${q('') ? `?${q('')}` : ''}`,
        { content: { parts: [{ text: 'embed me' }] } },
        headers,
      );
      await call(
        `${form} embedContent echo`,
        'POST',
        `/v1beta/models/embed-echo:embedContent${q('') ? `?${q('')}` : ''}`,
        { content: { parts: [{ text: 'embed me' }] } },
        headers,
      );
      await call(
        `${form} embedContent 200 non-JSON echo`,
        'POST',
        `/v1beta/models/embed-echo-200:embedContent${q('') ? `?${q('')}` : ''}`,
        { content: { parts: [{ text: 'embed me' }] } },
        headers,
      );
      await call(
        `${form} countTokens kimi, 200 non-JSON echo`,
        'POST',
        `/v1beta/models/kimi-count-200:countTokens${q('') ? `?${q('')}` : ''}`,
        prompt('count me'),
        headers,
      );
      await call(
        `${form} batchEmbedContents`,
        'POST',
        `/v1beta/models/gemini-embedding-001:batchEmbedContents${q('') ? `?${q('')}` : ''}`,
        {
          requests: [
            { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] } },
            { model: 'models/embed-echo', content: { parts: [{ text: 'b' }] } },
          ],
        },
        headers,
      );
      await call(`${form} models.list`, 'GET', `/v1beta/models${query ? `?${query}` : ''}`, undefined, headers);
      await call(
        `${form} models.get`,
        'GET',
        `/v1beta/models/gemini-2.5-pro${query ? `?${query}` : ''}`,
        undefined,
        headers,
      );
      await call(
        `${form} bad body`,
        'POST',
        `/v1beta/models/gemini-2.5-pro:generateContent${q('') ? `?${q('')}` : ''}`,
        '{"contents": [',
        headers,
      );
      // A client pasting a key into the prompt: the detailed log redacts configured keys wherever they appear.
      await call(
        `${form} key in the prompt`,
        'POST',
        `/v1beta/models/gemini-2.5-pro:generateContent${q('') ? `?${q('')}` : ''}`,
        prompt(`my keys are ${CLIENT.alice} and ${UPSTREAM_KEYS.primaryA}`),
        headers,
      );
    }
    // Auth failures: a wrong key, no key, a configured key in the wrong case, the admin key as a client key.
    await call('wrong key', 'POST', '/v1beta/models/gemini-2.5-pro:generateContent?key=not-a-real-key', prompt('hi'));
    await call('no key', 'POST', '/v1beta/models/gemini-2.5-pro:generateContent', prompt('hi'));
    await call('upper-cased key', 'POST', '/v1beta/models/gemini-2.5-pro:generateContent', prompt('hi'), {
      'x-goog-api-key': CLIENT.alice.toUpperCase(),
    });
    await call('admin key as a client key', 'POST', '/v1beta/models/gemini-2.5-pro:generateContent', prompt('hi'), {
      'x-goog-api-key': ADMIN_KEY,
    });
    await call('unknown path with a key', 'GET', `/v1beta/nothing?key=${CLIENT.alice}`, undefined);
    await call(
      'bad percent-encoding with a key',
      'POST',
      `/v1beta/models/%:generateContent?key=${CLIENT.alice}`,
      prompt('hi'),
    );
    // Client limits: the third request of the minute is refused.
    for (let index = 0; index < 4; index += 1)
      await call(`limited ${index}`, 'POST', '/v1beta/models/gemini-2.5-pro:generateContent', prompt('hi'), {
        'x-goog-api-key': CLIENT.limited,
      });
    assert.ok(
      captured.some((entry) => entry.what.startsWith('limited') && entry.status === 429),
      'the limited key was never limited',
    );

    // The real Gemini CLI: one success and one upstream error that echoes the key.
    cliRuns = await Promise.all([
      runCli(proxy.url, { prompt: 'say hi', args: ['-m', 'gemini-2.5-pro'] }),
      runCli(proxy.url, { prompt: 'say hi', args: ['-m', 'p-echo-401'] }),
    ]);
    assert.equal(cliRuns[0]?.code, 0, cliRuns[0]?.stderr);
    assert.equal(cliRuns[1]?.code, 147, cliRuns[1]?.stderr);

    // The dashboard API and /metrics, with the admin key.
    const admin = { 'x-goog-api-key': ADMIN_KEY };
    const list = await call('dashboard requests', 'GET', '/ui/api/requests?limit=500', undefined, admin);
    if (list.status === 200) {
      const document = JSON.parse(list.text.slice(list.text.indexOf('\n\n') + 2)) as {
        requests?: Array<{ id?: string; requestId?: string }>;
      };
      for (const entry of document.requests ?? []) {
        const id = entry.id ?? entry.requestId;
        if (id !== undefined)
          await call(`dashboard request ${id}`, 'GET', `/ui/api/requests/${encodeURIComponent(id)}`, undefined, admin);
      }
    }
    await call('dashboard usage', 'GET', '/ui/api/usage?range=15m', undefined, admin);
    await call('dashboard health', 'GET', '/ui/api/health?probe=1', undefined, admin);
    await call('metrics', 'GET', '/metrics', undefined, admin);
    await call('health probe', 'GET', '/health?probe=1', undefined);
    assert.ok(captured.length > 150, `only ${captured.length} requests`);
  });

  it('the keys were really in play: the upstream saw every upstream key and echoed them back', (t) => {
    t.diagnostic(
      `${captured.length} HTTP exchanges (${captured.filter((entry) => entry.what.startsWith('dashboard') || entry.what === 'metrics').length} of them dashboard/metrics), ${upstream.echoes} upstream answers echoing a key, ${captured.filter((entry) => entry.text.includes('[REDACTED]')).length} responses showing [REDACTED]`,
    );
    for (const [name, key] of Object.entries(UPSTREAM_KEYS))
      assert.ok(upstream.keysSeen.has(key), `upstream key ${name} never reached the upstream`);
    assert.ok(upstream.echoes > 50, `only ${upstream.echoes} echoing upstream answers`);
    assert.ok(
      captured.some((entry) => entry.text.includes('[REDACTED]')),
      'no response shows a redaction',
    );
  });

  it('no configured key in any HTTP response (status line, headers, body)', () => {
    const leaks = captured.flatMap((entry) =>
      findSecrets(entry.text).map((secret) => `${entry.what} (HTTP ${entry.status}): ${secret.slice(0, 14)}…`),
    );
    assert.deepEqual(leaks, []);
  });

  it('no configured key in the Gemini CLI output', () => {
    assert.equal(cliRuns.length, 2);
    for (const run of cliRuns)
      assert.deepEqual([...findSecrets(run.stdout), ...findSecrets(run.stderr)], [], `${run.stdout}\n${run.stderr}`);
  });

  it('no configured key in the proxy process stdout/stderr, nor in any file under log_directory', async (t) => {
    await proxy.stop();
    assert.ok(
      proxy.stdout.split('\n').filter((line) => line.includes('Model:')).length > 150,
      'the access log is missing',
    );
    assert.deepEqual(findSecrets(proxy.stdout), [], 'a key in the proxy stdout');
    assert.deepEqual(findSecrets(proxy.stderr), [], 'a key in the proxy stderr');
    const files = filesUnder(logDirectory);
    const detailed = files.filter(
      (file) => file.includes(`${join(logDirectory, 'detailed')}`) && file.endsWith('.json'),
    );
    assert.ok(detailed.length > 150, `only ${detailed.length} detailed-log files`);
    const leaks: string[] = [];
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const text of [bytes.toString('utf8'), bytes.toString('latin1'), bytes.toString('utf16le')])
        for (const secret of findSecrets(text))
          leaks.push(`${file.slice(logDirectory.length)}: ${secret.slice(0, 14)}…`);
    }
    assert.deepEqual([...new Set(leaks)], []);
    t.diagnostic(
      `scanned ${files.length} files under log_directory (${detailed.length} detailed logs), ${proxy.stdout.length} bytes of proxy stdout`,
    );
    // And the scan itself would see a key if one were there.
    assert.deepEqual(findSecrets(`x${UPSTREAM_KEYS.azure}y`), [UPSTREAM_KEYS.azure]);
  });
});
