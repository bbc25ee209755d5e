/**
 * The fuzzer's machinery: a lean upstream that answers OK (and, for the fault models, errors, garbage, resets), the
 * real proxy as a separate process (`node dist/src/cli.js --config …`), a client that sends each generated case over
 * a real socket, and the invariants checked on every answer:
 *
 *  - the proxy process never exits;
 *  - every request is answered (or, for malformed HTTP, the connection closed) within a bound: no hang;
 *  - every non-2xx response is `application/json` holding a google.rpc.Status: `{"error":{"code":<the HTTP status>,
 *    "message":<string>,"status":<a google.rpc code name matching the HTTP status>}}`;
 *  - no response contains a stack trace, a source path, or a configured upstream key;
 *  - no 5xx unless the case addressed an upstream fault (an upstream 5xx, garbage, a reset, an unreachable upstream);
 *  - 2xx Gemini answers are well framed (SSE events of JSON, a JSON array, a JSON body);
 *  - the proxy logs nothing at error level or above.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, errors as undiciErrors } from 'undici';
import { unreachable } from '../../src/exhaustive.js';
import {
  FAULT_MODELS,
  FUZZ_ALLOWED_ORIGIN,
  describeCase,
  generateCase,
  type FuzzCase,
  type GeneratorOptions,
} from './generator.js';

// ---------------------------------------------------------------------------------------------------------------
// The upstream

export const UPSTREAM_KEYS = {
  ok: ['sk-fz-ok-7Qm2xZ9vLr4Tn8Kp', 'sk-fz-ok-3Hd8wY1cVb6Gj0Ns'],
  faulty: 'sk-fz-faulty-5Rt9pE2kWq7Lx4Mz',
  other: 'sk-fz-other-8Jn3bF6yUa1Cv5Dg',
} as const;
export const CLIENT_KEYS = ['fz-client-2Wk7Qe4Rt9Yu', 'fz-client-6Pl1Zx8Cv3Bn'] as const;
export const LIMITED_CLIENT_KEY = 'fz-limited-9Hs2Jd5Kf8Lg';
export const ADMIN_KEY = 'fz-admin-4Mn7Bv0Cx3Zq';

/** Every secret the proxy is configured with: none may ever appear in a response. */
export const ALL_SECRETS: readonly string[] = [
  ...UPSTREAM_KEYS.ok,
  UPSTREAM_KEYS.faulty,
  UPSTREAM_KEYS.other,
  ...CLIENT_KEYS,
  LIMITED_CLIENT_KEY,
  ADMIN_KEY,
];

interface ChatBody {
  model?: unknown;
  stream?: unknown;
  tools?: unknown;
  input?: unknown;
}

function chunkEvent(
  delta: Record<string, unknown>,
  finish: string | null,
  extra: Record<string, unknown> = {},
): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-fuzz', object: 'chat.completion.chunk', created: 1_750_000_000, model: 'fuzz', choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
}

function toolName(body: ChatBody): string | undefined {
  if (!Array.isArray(body.tools)) return undefined;
  const first = body.tools[0] as { function?: { name?: unknown } } | undefined;
  return typeof first?.function?.name === 'string' ? first.function.name : undefined;
}

/** Provider error bodies of docs/providers.md §8.2, some echoing the key the request carried (it must be redacted). */
function errorBody(status: number, key: string, variant: number): unknown {
  const bodies: unknown[] = [
    {
      error: {
        message: `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    },
    {
      error: {
        message: 'The server had an error while processing your request.',
        type: 'server_error',
        param: null,
        code: null,
      },
    },
    {
      error: {
        code: String(status),
        message: 'Requests have exceeded token rate limit. Please retry after 2 seconds.',
      },
    },
    {
      error: { message: 'The engine is currently overloaded, please try again later', type: 'engine_overloaded_error' },
    },
    {
      error: {
        code: status,
        message: 'Provider returned error',
        metadata: {
          provider_name: 'X',
          raw: JSON.stringify({ error: { message: `upstream said no (key ${key})`, code: status } }),
        },
      },
    },
    { object: 'error', message: 'bad', type: 'BadRequestError', param: null, code: status },
    'plain text error with the key ' + key,
    { error: { code: '1113', message: 'Insufficient balance or no resource package. Please recharge.' } },
  ];
  return bodies[variant % bodies.length];
}

export interface FuzzUpstream {
  port: number;
  requests: number;
  close(): Promise<void>;
}

export async function startFuzzUpstream(): Promise<FuzzUpstream> {
  const sockets = new Set<Socket>();
  let counter = 0;
  const state = { requests: 0 };
  const server: Server = createServer((request, response) => void handle(request, response));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 30_000;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    state.requests += 1;
    const variant = counter++;
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of request) chunks.push(chunk as Buffer);
    } catch {
      return;
    }
    let body: ChatBody = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatBody;
    } catch {
      body = {};
    }
    const url = request.url ?? '';
    const key = String(request.headers.authorization ?? request.headers['api-key'] ?? '').replace(/^Bearer /, '');
    const json = (status: number, value: unknown): void => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      response.writeHead(status, {
        'content-type': typeof value === 'string' ? 'text/plain' : 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      response.end(text);
    };
    if (/\/(tokenize|tokenizer|tokenizers\/estimate-token-count)$/.test(url.split('?')[0] ?? '')) {
      json(200, { count: 12, tokens: [1, 2, 3], data: { total_tokens: 12 }, usage: { prompt_tokens: 12 } });
      return;
    }
    if (url.includes('/embeddings')) {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      json(200, {
        object: 'list',
        data: inputs.map((_input, index) => ({ object: 'embedding', index, embedding: [0.1, -0.2, 0.3] })),
        model: 'fuzz-embed',
        usage: { prompt_tokens: 3, total_tokens: 3 },
      });
      return;
    }
    if (!url.includes('/chat/completions')) {
      json(404, { error: { message: `no route ${url}`, type: 'invalid_request_error' } });
      return;
    }
    const stream = body.stream === true;
    const model = typeof body.model === 'string' ? body.model : '';
    if (url.startsWith('/faulty')) {
      faulty(model, stream, key, variant, request, response, json);
      return;
    }
    ok(body, stream, variant, response);
  }

  function faulty(
    model: string,
    stream: boolean,
    key: string,
    variant: number,
    request: IncomingMessage,
    response: ServerResponse,
    json: (status: number, value: unknown) => void,
  ): void {
    const error = /^err-(\d{3})$/.exec(model);
    if (error?.[1] !== undefined) {
      const status = Number(error[1]);
      json(status, errorBody(status, key, variant));
      return;
    }
    switch (model) {
      case 'garbage-json':
        if (stream) {
          response.writeHead(200, { 'content-type': 'text/event-stream' });
          response.end('data: {not json at all\n\ndata: [DONE]\n\n');
        } else json(200, '{"choices":[{"message":');
        return;
      case 'garbage-sse':
        response.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
        response.end(Buffer.from([0xff, 0x00, 0x0a, 0x64, 0x61, 0x74, 0x61, 0x3a, 0x0a, 0x0a, 0xc3, 0x28, 0x7b]));
        return;
      case 'no-done':
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.end(
          chunkEvent({ role: 'assistant', content: 'partial ' }, null) + chunkEvent({ content: 'answer' }, null),
        );
        return;
      case 'midstream-error':
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.end(
          chunkEvent({ role: 'assistant', content: 'Part' }, null) +
            `data: ${JSON.stringify({ error: { message: `The server had an error (${key})`, type: 'server_error', param: null, code: null } })}\n\ndata: [DONE]\n\n`,
        );
        return;
      case 'reset':
        request.socket.destroy();
        return;
      case 'empty':
        if (stream) {
          response.writeHead(200, { 'content-type': 'text/event-stream' });
          response.end('data: [DONE]\n\n');
        } else json(200, { choices: [] });
        return;
      default:
        json(500, { error: { message: `faulty upstream: unknown fault ${model}`, type: 'server_error' } });
    }
  }

  function ok(body: ChatBody, stream: boolean, variant: number, response: ServerResponse): void {
    const name = toolName(body);
    const kind = name !== undefined && variant % 4 === 0 ? 'tool' : variant % 5 === 1 ? 'reasoning' : 'text';
    const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
    const finish = kind === 'tool' ? 'tool_calls' : variant % 13 === 0 ? 'length' : 'stop';
    if (!stream) {
      const message: Record<string, unknown> = {
        role: 'assistant',
        content: kind === 'tool' ? null : 'Hello from the fuzz upstream.',
      };
      if (kind === 'tool')
        message['tool_calls'] = [
          { id: `call_${variant}`, type: 'function', function: { name, arguments: '{"path":"a.txt","n":1}' } },
        ];
      if (kind === 'reasoning') message['reasoning_content'] = 'thinking about it';
      const text = JSON.stringify({
        id: 'chatcmpl-fuzz',
        object: 'chat.completion',
        created: 1_750_000_000,
        model: 'fuzz',
        choices: [{ index: 0, message, finish_reason: finish }],
        usage,
      });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      response.end(text);
      return;
    }
    let out = '';
    if (kind === 'reasoning')
      out +=
        chunkEvent({ role: 'assistant', reasoning_content: 'thinking ' }, null) +
        chunkEvent({ reasoning_content: 'more' }, null);
    if (kind === 'tool') {
      out += chunkEvent(
        {
          role: 'assistant',
          tool_calls: [{ index: 0, id: `call_${variant}`, type: 'function', function: { name, arguments: '' } }],
        },
        null,
      );
      out += chunkEvent({ tool_calls: [{ index: 0, function: { arguments: '{"path":"a.txt",' } }] }, null);
      out += chunkEvent({ tool_calls: [{ index: 0, function: { arguments: '"n":1}' } }] }, null);
    } else {
      out +=
        chunkEvent({ role: 'assistant', content: 'Hello' }, null) +
        chunkEvent({ content: ' from the fuzz upstream \u2028 ✓.' }, null);
    }
    out += chunkEvent({}, finish);
    out += `data: ${JSON.stringify({ id: 'chatcmpl-fuzz', object: 'chat.completion.chunk', created: 1_750_000_000, model: 'fuzz', choices: [], usage })}\n\n`;
    out += 'data: [DONE]\n\n';
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    response.end(out);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get requests() {
      return state.requests;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port with nothing listening (bound, then closed): connections to it are refused. */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------------------------
// The proxy under test, as its own process

export const FUZZ_BODY_LIMIT_MB = 4;
export const FUZZ_MAX_HEADER_BYTES = 16_384;
export const FUZZ_REQUEST_TIMEOUT_SECONDS = 10;

/** `keyless`: no client keys and no admin key (the laptop default), so the Host/Origin guard is what stands in the way. */
export function fuzzProxyConfig(
  upstreamPort: number,
  downPort: number,
  logDirectory: string,
  detailedLogs: boolean,
  keyless = false,
): Record<string, unknown> {
  const base = `http://127.0.0.1:${upstreamPort}`;
  const providers = [
    'kimi',
    'deepseek',
    'llamacpp',
    'vllm',
    'ollama',
    'zhipu',
    'dashscope',
    'groq',
    'openrouter',
    'openai',
  ] as const;
  const upstreams: Record<string, unknown> = {
    ok: { provider: 'generic', base_url: `${base}/v1`, api_keys: [...UPSTREAM_KEYS.ok] },
    faulty: { provider: 'generic', base_url: `${base}/faulty/v1`, api_key: UPSTREAM_KEYS.faulty },
    down: { provider: 'generic', base_url: `http://127.0.0.1:${downPort}/v1` },
    azure: { provider: 'azure', base_url: base, api_key: UPSTREAM_KEYS.other },
  };
  const routes: Record<string, unknown> = {
    '*': [{ upstream: 'ok', model: 'ok-model' }],
    'fuzz-fallback': [
      { upstream: 'faulty', model: 'err-503' },
      { upstream: 'ok', model: 'ok-model' },
    ],
    'fuzz-down': [{ upstream: 'down', model: 'ok-model' }],
    'fuzz-azure*': [{ upstream: 'azure', model: 'gpt-4o-deployment' }],
    // Glob-heavy patterns: a backtracking matcher took seconds on the long names the generator sends at them.
    'gemini-*-*-*-pro': [{ upstream: 'ok', model: 'glob-model' }],
    '*a*a*a*a*a*a*b': [{ upstream: 'ok', model: 'glob-model' }],
    '?*?*?*?*?*-x*': [{ upstream: 'ok', model: 'glob-model' }],
  };
  for (const provider of providers) {
    upstreams[provider] = { provider, base_url: `${base}/v1`, api_key: UPSTREAM_KEYS.other };
    routes[`fuzz-${provider}*`] = [
      {
        upstream: provider,
        model: provider === 'kimi' ? 'kimi-k2.5' : provider === 'deepseek' ? 'deepseek-reasoner' : `${provider}-model`,
      },
    ];
  }
  for (const fault of FAULT_MODELS) {
    if (fault.startsWith('fuzz-fault-'))
      routes[fault] = [{ upstream: 'faulty', model: fault.slice('fuzz-fault-'.length) }];
  }
  return {
    server: {
      host: '127.0.0.1',
      port: 0,
      log_level: 'info',
      body_limit_mb: FUZZ_BODY_LIMIT_MB,
      max_header_bytes: FUZZ_MAX_HEADER_BYTES,
      request_timeout_seconds: FUZZ_REQUEST_TIMEOUT_SECONDS,
    },
    upstreams,
    routes,
    retries: { attempts_per_target: 2, base_delay_ms: 5, max_delay_seconds: 0.05 },
    circuit_breaker: { failure_threshold: 5, cooldown_seconds: 1 },
    ...(keyless
      ? {}
      : {
          client_api_keys: [...CLIENT_KEYS, { key: LIMITED_CLIENT_KEY, name: 'limited', requests_per_minute: 3 }],
          admin_api_key: ADMIN_KEY,
        }),
    allowed_origins: [FUZZ_ALLOWED_ORIGIN],
    logging: { enable_detailed_logs: detailedLogs, enable_access_logs: true, log_directory: logDirectory },
    usage: { database: ':memory:' },
    timeouts: {
      first_byte_commit_seconds: 8,
      heartbeat_seconds: 5,
      upstream_idle_seconds: 8,
      upstream_headers_seconds: 8,
      upstream_connect_seconds: 2,
    },
  };
}

export interface ProxyProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Set when the process exited (a crash, unless we stopped it). */
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Log lines at error level or above (pino level ≥ 50), and non-JSON output (a stack trace on a crash). */
  errorLines: string[];
  /** All of stdout, when started with keepOutput. */
  stdout: string;
  lineCount: number;
  stderr: string;
  rssBytes(): number | undefined;
  stop(): Promise<void>;
}

/** The compiled CLI, next to this compiled module: dist/test/fuzz/ → dist/src/cli.js. */
export const CLI_PATH = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/** Starts `node dist/src/cli.js --config <file>` and waits for its "listening on" line. */
export async function startProxyProcess(
  config: Record<string, unknown>,
  directory: string,
  extraArgs: string[] = [],
  options: { keepOutput?: boolean } = {},
): Promise<ProxyProcess> {
  const configPath = join(directory, 'config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, ['--enable-source-maps', CLI_PATH, '--config', configPath, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: directory,
  });
  const proxy: ProxyProcess = {
    url: '',
    port: 0,
    child,
    exited: undefined,
    errorLines: [],
    stdout: '',
    lineCount: 0,
    stderr: '',
    rssBytes: () => undefined,
    stop: async () => {
      if (proxy.exited !== undefined) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await done;
      clearTimeout(timer);
    },
  };
  // Never leave the proxy behind when this process ends early (a failed assertion, Ctrl-C in run.ts).
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.on('exit', (code, signal) => {
    proxy.exited = { code, signal };
    process.off('exit', killOnExit);
  });
  let pending = '';
  let onListening: ((url: string) => void) | undefined;
  child.stdout?.setEncoding('utf8').on('data', (data: string) => {
    if (options.keepOutput === true) proxy.stdout += data;
    pending += data;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
      proxy.lineCount += 1;
      let parsed: { level?: number; msg?: string } | undefined;
      try {
        parsed = JSON.parse(line) as { level?: number; msg?: string };
      } catch {
        parsed = undefined;
      }
      if (parsed === undefined || (parsed.level ?? 0) >= 50) {
        if (proxy.errorLines.length < 50) proxy.errorLines.push(line.slice(0, 2000));
      }
      const match = /listening on (http:\/\/[^\s)]+)/.exec(parsed?.msg ?? '');
      if (match?.[1] !== undefined) onListening?.(match[1]);
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (data: string) => {
    if (proxy.stderr.length < 200_000) proxy.stderr += data;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the proxy did not start within 20 s\n${proxy.stderr}`)), 20_000);
    onListening = (found) => {
      clearTimeout(timer);
      resolve(found);
    };
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the proxy exited with ${String(code)} before listening\n${proxy.stderr}`));
    });
  });
  proxy.url = url;
  proxy.port = Number(new URL(url).port);
  proxy.rssBytes = () => readRss(child.pid);
  return proxy;
}

/** Resident set size of a process, from /proc (Linux); undefined elsewhere. */
export function readRss(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Sending one case and judging the answer

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface Outcome {
  /** Answers received (a raw pipelined case may get several). */
  answers: Answer[];
  /** The connection closed with no answer (only acceptable for malformed HTTP). */
  closedWithoutAnswer: boolean;
  /** No answer and no close within the bound. */
  hung: boolean;
  durationMs: number;
  /** A client-side error other than a close (for the report). */
  clientError?: string;
}

const RPC_FOR_HTTP: Record<number, readonly string[]> = {
  400: ['INVALID_ARGUMENT', 'FAILED_PRECONDITION', 'OUT_OF_RANGE'],
  401: ['UNAUTHENTICATED'],
  403: ['PERMISSION_DENIED'],
  404: ['NOT_FOUND'],
  409: ['ALREADY_EXISTS', 'ABORTED'],
  429: ['RESOURCE_EXHAUSTED'],
  499: ['CANCELLED'],
  500: ['INTERNAL', 'UNKNOWN', 'DATA_LOSS'],
  501: ['UNIMPLEMENTED'],
  503: ['UNAVAILABLE'],
  504: ['DEADLINE_EXCEEDED'],
};
const ANY_RPC = new Set([
  'INVALID_ARGUMENT',
  'FAILED_PRECONDITION',
  'OUT_OF_RANGE',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'ABORTED',
  'RESOURCE_EXHAUSTED',
  'CANCELLED',
  'INTERNAL',
  'UNKNOWN',
  'DATA_LOSS',
  'UNIMPLEMENTED',
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
]);

/** A stack frame, a Node internal, or a path into the proxy's sources. */
const STACK_TRACE =
  /\n\s+at [^\n]+:\d+:\d+|\bat (?:async )?[\w$.<>[\] ]+ \((?:file:|node:|\/)[^)]*:\d+:\d+\)|node:internal\/|\/(?:dist\/)?src\/[\w/-]+\.[jt]s\b/;

export type Violation = {
  kind:
    | 'crash'
    | 'hang'
    | 'non-gemini-error'
    | 'proxy-5xx'
    | 'stack-trace'
    | 'secret-leak'
    | 'bad-2xx'
    | 'no-answer'
    | 'proxy-error-log'
    | 'guard-bypass';
  detail: string;
};

/** Checks one google.rpc.Status body against its HTTP status; returns what is wrong, or undefined. */
export function checkErrorBody(
  status: number,
  headers: Record<string, string>,
  body: Buffer,
  method: string,
): string | undefined {
  const type = headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) return `content-type is ${JSON.stringify(type)}, not application/json`;
  if (method === 'HEAD') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return `body is not JSON: ${body.subarray(0, 200).toString('utf8')}`;
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Array.isArray(parsed) ||
    Object.keys(parsed).length !== 1 ||
    typeof error !== 'object' ||
    error === null
  ) {
    return `body is not {"error":{…}}: ${body.subarray(0, 200).toString('utf8')}`;
  }
  const record = error as Record<string, unknown>;
  if (record['code'] !== status) return `error.code ${JSON.stringify(record['code'])} ≠ HTTP ${status}`;
  if (typeof record['message'] !== 'string' || record['message'] === '')
    return 'error.message is not a non-empty string';
  if (typeof record['status'] !== 'string' || !ANY_RPC.has(record['status']))
    return `error.status ${JSON.stringify(record['status'])} is not a google.rpc code`;
  const expected = RPC_FOR_HTTP[status];
  if (expected !== undefined && !expected.includes(record['status']))
    return `error.status ${record['status']} does not go with HTTP ${status}`;
  if (
    status >= 400 &&
    status < 500 &&
    expected === undefined &&
    record['status'] !== 'INVALID_ARGUMENT' &&
    record['status'] !== 'FAILED_PRECONDITION'
  )
    return `HTTP ${status} with ${record['status']}`;
  if (record['details'] !== undefined && !Array.isArray(record['details'])) return 'error.details is not a list';
  for (const key of Object.keys(record))
    if (!['code', 'message', 'status', 'details'].includes(key)) return `unexpected error.${key}`;
  return undefined;
}

/** A 2xx Gemini answer: SSE events of JSON objects (a raw error object may end it), a JSON array, or a JSON value. */
export function check2xxBody(headers: Record<string, string>, body: Buffer, method: string): string | undefined {
  if (method === 'HEAD') return undefined;
  const type = headers['content-type'] ?? '';
  const text = body.toString('utf8');
  if (/^text\/event-stream/i.test(type)) {
    const events = text.split('\r\n\r\n');
    const last = events.pop() ?? '';
    for (const event of events) {
      const trimmed = event.replace(/^(\r\n)+/, '');
      if (trimmed === '') continue;
      if (!trimmed.startsWith('data: ')) return `SSE event without "data: ": ${trimmed.slice(0, 120)}`;
      try {
        const value = JSON.parse(trimmed.slice(6)) as unknown;
        if (typeof value !== 'object' || value === null || Array.isArray(value))
          return 'SSE event is not a JSON object';
      } catch {
        return `SSE event is not JSON: ${trimmed.slice(0, 120)}`;
      }
    }
    const tail = last.replace(/^(\r\n)+/, '').trim();
    if (tail !== '') {
      try {
        const value = JSON.parse(tail) as { error?: { code?: unknown; status?: unknown; message?: unknown } };
        if (
          typeof value.error?.code !== 'number' ||
          typeof value.error.status !== 'string' ||
          typeof value.error.message !== 'string'
        )
          return `SSE tail is not an error object: ${tail.slice(0, 120)}`;
      } catch {
        return `SSE tail is not JSON: ${tail.slice(0, 120)}`;
      }
    }
    return undefined;
  }
  if (/^application\/json/i.test(type)) {
    try {
      JSON.parse(text);
    } catch {
      return `2xx JSON body does not parse: ${text.slice(0, 200)}`;
    }
  }
  return undefined;
}

/** The key, or any 12 consecutive characters of it (an excerpt cut in the middle of a key is a leak too). */
export function containsSecret(text: string, secret: string): boolean {
  for (let start = 0; start + 12 <= secret.length; start += 1)
    if (text.includes(secret.slice(start, start + 12))) return true;
  return text.includes(secret);
}

export function judge(fuzzCase: FuzzCase, outcome: Outcome, secrets: readonly string[]): Violation[] {
  const violations: Violation[] = [];
  if (outcome.hung) violations.push({ kind: 'hang', detail: `no answer within the bound (${outcome.durationMs} ms)` });
  if (
    outcome.answers.length === 0 &&
    outcome.closedWithoutAnswer &&
    (fuzzCase.raw === undefined || fuzzCase.wellFormedRaw === true)
  ) {
    violations.push({
      kind: 'no-answer',
      detail: `the connection closed without an answer${outcome.clientError ? ` (${outcome.clientError})` : ''}`,
    });
  }
  const method = fuzzCase.raw === undefined ? fuzzCase.method : 'RAW';
  for (const answer of outcome.answers) {
    const text = answer.body.toString('latin1');
    if (STACK_TRACE.test(text)) violations.push({ kind: 'stack-trace', detail: text.slice(0, 600) });
    const utf8 = answer.body.toString('utf8');
    for (const secret of secrets)
      if (containsSecret(text, secret) || containsSecret(utf8, secret))
        violations.push({ kind: 'secret-leak', detail: `${secret.slice(0, 8)}… in the body` });
    if (fuzzCase.mustBeRefused === true && answer.status < 400)
      violations.push({
        kind: 'guard-bypass',
        detail: `HTTP ${answer.status} to a foreign Host or Origin on a keyless proxy`,
      });
    if (answer.status >= 500 && !fuzzCase.upstreamFault)
      violations.push({
        kind: 'proxy-5xx',
        detail: `HTTP ${answer.status}: ${answer.body.subarray(0, 400).toString('utf8')}`,
      });
    if (answer.status >= 300 && answer.status < 400 && answer.headers['location'] !== undefined) {
      // A redirect (the dashboard's /ui → /ui/) is not an error.
    } else if (answer.status < 200 || answer.status >= 300) {
      const problem = checkErrorBody(answer.status, answer.headers, answer.body, method);
      if (problem !== undefined)
        violations.push({ kind: 'non-gemini-error', detail: `HTTP ${answer.status}: ${problem}` });
    } else {
      const problem = check2xxBody(answer.headers, answer.body, method);
      if (problem !== undefined) violations.push({ kind: 'bad-2xx', detail: problem });
    }
  }
  return violations;
}

/** Parses every HTTP/1.1 response in `bytes` (a raw socket's whole input, connection closed by the server). */
export function parseResponses(bytes: Buffer): Answer[] | string {
  const answers: Answer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', offset);
    if (end < 0) return `incomplete response head: ${bytes.subarray(offset, offset + 200).toString('latin1')}`;
    const head = bytes.subarray(offset, end).toString('latin1').split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
    if (statusLine?.[1] === undefined) return `not an HTTP response: ${(head[0] ?? '').slice(0, 200)}`;
    const status = Number(statusLine[1]);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    offset = end + 4;
    if (status >= 100 && status < 200) continue;
    let body: Buffer;
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = bytes.indexOf('\r\n', offset);
        if (lineEnd < 0) return 'incomplete chunked body';
        const size = parseInt(bytes.subarray(offset, lineEnd).toString('latin1'), 16);
        offset = lineEnd + 2;
        if (!Number.isFinite(size)) return 'bad chunk size';
        if (size === 0) {
          const trailerEnd = bytes.indexOf('\r\n', offset);
          offset = trailerEnd < 0 ? bytes.length : trailerEnd + 2;
          break;
        }
        parts.push(bytes.subarray(offset, offset + size));
        offset += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      body = bytes.subarray(offset, offset + length);
      offset += length;
    } else {
      body = bytes.subarray(offset);
      offset = bytes.length;
    }
    answers.push({ status, headers, body });
  }
  return answers;
}

/** Sends raw bytes; reads until the server closes. Half-closes after `halfCloseMs` of silence. */
export function sendRaw(port: number, bytes: Buffer, boundMs: number, halfCloseMs = 2000): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port });
    let settled = false;
    const finish = (hung: boolean, clientError?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(bound);
      clearTimeout(halfClose);
      socket.destroy();
      const all = Buffer.concat(received);
      const parsed = all.length === 0 ? [] : parseResponses(all);
      const outcome: Outcome = {
        answers: typeof parsed === 'string' ? [{ status: 0, headers: {}, body: Buffer.from(parsed) }] : parsed,
        closedWithoutAnswer: all.length === 0 && !hung,
        hung,
        durationMs: Date.now() - started,
      };
      if (clientError !== undefined) outcome.clientError = clientError;
      resolve(outcome);
    };
    const bound = setTimeout(() => finish(true), boundMs);
    const halfClose = setTimeout(() => {
      if (received.length === 0) socket.end();
    }, halfCloseMs);
    socket.on('data', (data: Buffer) => received.push(data));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the server answered (it closes a connection it refused to parse) is not our concern.
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') finish(false, error.code ?? error.message);
    });
    socket.on('close', () => finish(false));
    socket.write(bytes);
  });
}

/** Sends a normal HTTP request through an undici Pool (keep-alive); falls back to raw bytes when undici refuses it. */
export async function sendHttp(pool: Pool, port: number, fuzzCase: FuzzCase, boundMs: number): Promise<Outcome> {
  // undici refuses some inputs (and a refused request can leave a Pool stuck): send those as raw bytes instead.
  // Well-formed bytes with their whole body: no early half-close, which a slow answer (a busy machine) would not survive.
  if (!undiciAccepts(fuzzCase)) return sendRaw(port, toRawBytes(fuzzCase), boundMs, boundMs);
  const started = Date.now();
  const signal = AbortSignal.timeout(boundMs);
  try {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of fuzzCase.headers) {
      const existing = headers[name];
      headers[name] =
        existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    const withBody = fuzzCase.method !== 'GET' && fuzzCase.method !== 'HEAD';
    const response = await pool.request({
      method: fuzzCase.method,
      path: fuzzCase.path,
      headers,
      body: withBody ? fuzzCase.body : null,
      signal,
      headersTimeout: boundMs,
      bodyTimeout: boundMs,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(chunk as Buffer);
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers))
      if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
    return {
      answers: [{ status: response.statusCode, headers: flat, body: Buffer.concat(chunks) }],
      closedWithoutAnswer: false,
      hung: false,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    if (error instanceof undiciErrors.InvalidArgumentError || error instanceof undiciErrors.NotSupportedError) {
      return sendRaw(port, toRawBytes(fuzzCase), boundMs, boundMs);
    }
    const name = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (
      signal.aborted ||
      error instanceof undiciErrors.HeadersTimeoutError ||
      error instanceof undiciErrors.BodyTimeoutError
    ) {
      return {
        answers: [],
        closedWithoutAnswer: false,
        hung: true,
        durationMs: Date.now() - started,
        clientError: name,
      };
    }
    return { answers: [], closedWithoutAnswer: true, hung: false, durationMs: Date.now() - started, clientError: name };
  }
}

const UNDICI_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND']);
const UNDICI_REFUSED_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'expect',
  'content-length',
  'host',
]);

function undiciAccepts(fuzzCase: FuzzCase): boolean {
  if (!UNDICI_METHODS.has(fuzzCase.method)) return false;
  if (!/^\/[\x21-\x7e]*$/.test(fuzzCase.path)) return false;
  return fuzzCase.headers.every(
    ([name, value]) =>
      /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) &&
      !UNDICI_REFUSED_HEADERS.has(name.toLowerCase()) &&
      /^[\t\x20-\x7e]*$/.test(value),
  );
}

function toRawBytes(fuzzCase: FuzzCase): Buffer {
  const headers = fuzzCase.headers.map(([name, value]) => `${name}: ${value}\r\n`).join('');
  const withBody = fuzzCase.method !== 'GET' && fuzzCase.method !== 'HEAD';
  const host = fuzzCase.headers.some(([name]) => name === 'host') ? '' : 'host: 127.0.0.1\r\n';
  const head = `${fuzzCase.method} ${fuzzCase.path} HTTP/1.1\r\n${host}${headers}connection: close\r\ncontent-length: ${withBody ? fuzzCase.body.length : 0}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), withBody ? fuzzCase.body : Buffer.alloc(0)]);
}

// ---------------------------------------------------------------------------------------------------------------
// A run

export interface FuzzRunOptions {
  seed: number;
  count: number;
  /** First case index (replay of one case: count 1, start N). */
  start?: number;
  concurrency: number;
  /** Per-request bound in ms (a hang past this is a violation). */
  boundMs: number;
  detailedLogs: boolean;
  /** Fuzz the keyless proxy (no client or admin key): foreign Host and Origin must be refused. */
  keyless?: boolean;
  /** Progress callback every `progressEvery` cases. */
  onProgress?: (done: number, stats: FuzzStats) => void;
  progressEvery?: number;
  /** Stop after this many failing cases (default 20). */
  maxFailures?: number;
  /** Called with each failing case as it happens. */
  onFailure?: (failure: FuzzFailure) => void;
}

export interface FuzzFailure {
  description: string;
  violations: Violation[];
  statuses: number[];
}

export interface FuzzStats {
  seed: number;
  requests: number;
  rawRequests: number;
  byStatus: Record<string, number>;
  crashes: number;
  hangs: number;
  nonGeminiErrors: number;
  proxyCaused5xx: number;
  upstream5xxPassedOn: number;
  stackTraces: number;
  secretLeaks: number;
  bad2xx: number;
  noAnswer: number;
  /** Keyless: a foreign Host or Origin that got an answer below 400. */
  guardBypasses: number;
  proxyErrorLogLines: number;
  upstreamRequests: number;
  maxDurationMs: number;
  durationMs: number;
  openConnectionsAfter: number | undefined;
  proxyRssStartBytes: number | undefined;
  proxyRssEndBytes: number | undefined;
  failures: FuzzFailure[];
}

async function proxyConnections(proxy: ProxyProcess): Promise<number | undefined> {
  // The proxy's own view is not reachable from outside the process; count its established loopback sockets instead.
  try {
    const fds = readdirSync(`/proc/${proxy.child.pid}/fd`);
    const inodes = new Set<string>();
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${proxy.child.pid}/fd/${fd}`);
        const match = /^socket:\[(\d+)\]$/.exec(target);
        if (match?.[1] !== undefined) inodes.add(match[1]);
      } catch {
        // closed meanwhile
      }
    }
    const table = readFileSync('/proc/net/tcp', 'utf8') + readFileSyncIfExists('/proc/net/tcp6');
    let established = 0;
    const portHex = proxy.port.toString(16).toUpperCase().padStart(4, '0');
    for (const line of table.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      const local = columns[1] ?? '';
      const state = columns[3];
      const inode = columns[9] ?? '';
      if (state === '01' && local.endsWith(`:${portHex}`) && inodes.has(inode)) established += 1;
    }
    return established;
  } catch {
    return undefined;
  }
}

function readFileSyncIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Deletes detailed-log files so a long run does not fill the disk (the directories stay: writes keep working). */
function pruneDetailedLogs(logDirectory: string): void {
  const root = join(logDirectory, 'detailed');
  let days: string[];
  try {
    days = readdirSync(root);
  } catch {
    return;
  }
  for (const day of days) {
    let files: string[];
    try {
      files = readdirSync(join(root, day));
    } catch {
      continue;
    }
    // A `.partial` file is being written and is renamed next: removing it would fail that rename (an error log line).
    for (const file of files.filter((name) => name.endsWith('.json'))) {
      try {
        unlinkSync(join(root, day, file));
      } catch {
        // written or removed meanwhile
      }
    }
  }
}

/** Starts the upstream and the proxy process, runs the cases, stops everything, and returns the figures. */
export async function runFuzz(options: FuzzRunOptions): Promise<FuzzStats> {
  const started = Date.now();
  const directory = mkdtempSync(join(tmpdir(), 'gemini-proxy-fuzz-'));
  const logDirectory = join(directory, 'logs');
  mkdirSync(logDirectory);
  const upstream = await startFuzzUpstream();
  const down = await closedPort();
  const proxy = await startProxyProcess(
    fuzzProxyConfig(upstream.port, down, logDirectory, options.detailedLogs, options.keyless === true),
    directory,
  );
  const pool = new Pool(proxy.url, {
    connections: options.concurrency,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    headersTimeout: options.boundMs,
    bodyTimeout: options.boundMs,
  });
  const generatorOptions: GeneratorOptions = {
    clientKeys: CLIENT_KEYS,
    limitedKey: LIMITED_CLIENT_KEY,
    bodyLimitBytes: FUZZ_BODY_LIMIT_MB * 1024 * 1024,
    faultRate: 0.12,
    keyless: options.keyless === true,
  };
  const stats: FuzzStats = {
    seed: options.seed,
    requests: 0,
    rawRequests: 0,
    byStatus: {},
    crashes: 0,
    hangs: 0,
    nonGeminiErrors: 0,
    proxyCaused5xx: 0,
    upstream5xxPassedOn: 0,
    stackTraces: 0,
    secretLeaks: 0,
    bad2xx: 0,
    noAnswer: 0,
    guardBypasses: 0,
    proxyErrorLogLines: 0,
    upstreamRequests: 0,
    maxDurationMs: 0,
    durationMs: 0,
    openConnectionsAfter: undefined,
    proxyRssStartBytes: proxy.rssBytes(),
    proxyRssEndBytes: undefined,
    failures: [],
  };
  const maxFailures = options.maxFailures ?? 20;
  const first = options.start ?? 0;
  let next = first;
  const end = first + options.count;
  let stop = false;

  const worker = async (): Promise<void> => {
    while (!stop && next < end) {
      const index = next++;
      const fuzzCase = generateCase(options.seed, index, generatorOptions);
      const outcome =
        fuzzCase.raw !== undefined
          ? await sendRaw(
              proxy.port,
              fuzzCase.raw,
              options.boundMs,
              fuzzCase.wellFormedRaw === true ? options.boundMs : undefined,
            )
          : await sendHttp(pool, proxy.port, fuzzCase, options.boundMs);
      stats.requests += 1;
      if (fuzzCase.raw !== undefined) stats.rawRequests += 1;
      stats.maxDurationMs = Math.max(stats.maxDurationMs, outcome.durationMs);
      for (const answer of outcome.answers) {
        stats.byStatus[answer.status] = (stats.byStatus[answer.status] ?? 0) + 1;
        if (answer.status >= 500 && fuzzCase.upstreamFault) stats.upstream5xxPassedOn += 1;
      }
      if (outcome.answers.length === 0)
        stats.byStatus[outcome.hung ? 'hung' : 'closed'] = (stats.byStatus[outcome.hung ? 'hung' : 'closed'] ?? 0) + 1;
      const violations = judge(fuzzCase, outcome, ALL_SECRETS);
      if (proxy.exited !== undefined) {
        violations.push({
          kind: 'crash',
          detail: `the proxy exited (${JSON.stringify(proxy.exited)}); stderr: ${proxy.stderr.slice(-3000)}; errors: ${proxy.errorLines.slice(-3).join('\n')}`,
        });
        stop = true;
      }
      for (const violation of violations) {
        switch (violation.kind) {
          case 'crash':
            stats.crashes += 1;
            break;
          case 'hang':
            stats.hangs += 1;
            break;
          case 'non-gemini-error':
            stats.nonGeminiErrors += 1;
            break;
          case 'proxy-5xx':
            stats.proxyCaused5xx += 1;
            break;
          case 'stack-trace':
            stats.stackTraces += 1;
            break;
          case 'secret-leak':
            stats.secretLeaks += 1;
            break;
          case 'bad-2xx':
            stats.bad2xx += 1;
            break;
          case 'no-answer':
            stats.noAnswer += 1;
            break;
          case 'guard-bypass':
            stats.guardBypasses += 1;
            break;
          case 'proxy-error-log':
            // Never judged per case: the proxy's error lines are counted once, after the run (proxyErrorLogLines).
            break;
          default:
            unreachable(violation.kind, 'violation kind');
        }
      }
      if (violations.length > 0 && stats.failures.length < maxFailures) {
        const failure = {
          description: describeCase(fuzzCase),
          violations,
          statuses: outcome.answers.map((answer) => answer.status),
        };
        stats.failures.push(failure);
        options.onFailure?.(failure);
        if (stats.failures.length >= maxFailures) stop = true;
      }
      if (options.onProgress !== undefined && stats.requests % (options.progressEvery ?? 1000) === 0)
        options.onProgress(stats.requests, stats);
      if (options.detailedLogs && stats.requests % 2000 === 0) pruneDetailedLogs(logDirectory);
    }
  };

  try {
    await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
    await pool.close();
    // Give the proxy a moment to see the pool's connections go, then count what is still open.
    await new Promise((resolve) => setTimeout(resolve, 500));
    stats.openConnectionsAfter = await proxyConnections(proxy);
    stats.proxyRssEndBytes = proxy.rssBytes();
    stats.proxyErrorLogLines = proxy.errorLines.length;
    if (proxy.errorLines.length > 0 && stats.failures.length < maxFailures) {
      stats.failures.push({
        description: 'the proxy logged at error level',
        violations: proxy.errorLines.slice(0, 5).map((line) => ({ kind: 'proxy-error-log', detail: line })),
        statuses: [],
      });
    }
    if (proxy.exited !== undefined && stats.crashes === 0) stats.crashes += 1;
  } finally {
    stats.upstreamRequests = upstream.requests;
    await proxy.stop();
    await upstream.close();
    rmSync(directory, { recursive: true, force: true });
    stats.durationMs = Date.now() - started;
  }
  return stats;
}

export function formatStats(stats: FuzzStats): string {
  const mb = (bytes: number | undefined): string => (bytes === undefined ? '?' : `${(bytes / 1048576).toFixed(1)} MB`);
  const statuses = Object.entries(stats.byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status}:${count}`)
    .join(' ');
  return [
    `seed ${stats.seed}: ${stats.requests} requests (${stats.rawRequests} raw-socket) in ${(stats.durationMs / 1000).toFixed(1)} s (${Math.round(stats.requests / (stats.durationMs / 1000))} req/s), slowest ${stats.maxDurationMs} ms, upstream saw ${stats.upstreamRequests}`,
    `statuses: ${statuses}`,
    `crashes ${stats.crashes} | hangs ${stats.hangs} | non-Gemini errors ${stats.nonGeminiErrors} | proxy-caused 5xx ${stats.proxyCaused5xx} (upstream-fault 5xx passed on: ${stats.upstream5xxPassedOn}) | stack traces ${stats.stackTraces} | secret leaks ${stats.secretLeaks} | malformed 2xx ${stats.bad2xx} | closed without answer ${stats.noAnswer} | guard bypasses ${stats.guardBypasses} | proxy error-log lines ${stats.proxyErrorLogLines}`,
    `proxy connections open after the run: ${stats.openConnectionsAfter ?? '?'} | proxy RSS ${mb(stats.proxyRssStartBytes)} → ${mb(stats.proxyRssEndBytes)}`,
  ].join('\n');
}

export function formatFailures(stats: FuzzStats): string {
  return stats.failures
    .map(
      (failure, index) =>
        `--- failure ${index + 1}: ${failure.violations.map((violation) => `[${violation.kind}] ${violation.detail}`).join('\n    ')}\n${failure.description}`,
    )
    .join('\n');
}
