// The benchmark's upstream: a lean node:http server that answers Chat Completions requests with prepared bytes, so it
// costs far less than anything in front of it. Run as a child of bench/run.mjs:
//   node bench/upstream.mjs --port N [--pacing-ms 1] [--chunks 64]
// Behaviour is chosen from the request body, so it works through any proxy:
//   "stream":true                  → SSE: 64 content chunks (the first carries the role and text), paced, then a
//                                    finish chunk with usage and [DONE]
//   "model":"bench-hold" + stream  → SSE: the first chunk, then nothing until the client goes away (open-stream RSS)
//   otherwise                      → a prepared chat.completion JSON body
// GET /__last returns the last request body received (the loader uses it to capture the proxy's translation).
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'pacing-ms': { type: 'string', default: '1' },
    chunks: { type: 'string', default: '64' },
  },
});
const port = Number(values.port ?? 0);
const pacingMs = Number(values['pacing-ms']);
const chunkCount = Number(values.chunks);

const created = 1_750_000_000;
const UNARY = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created,
    model: 'bench-model',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello! I am a benchmark upstream, answering with prepared bytes.' },
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 14, total_tokens: 26 },
  }),
);

const chunk = (delta, finish, usage) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created,
    model: 'bench-model',
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...(usage === undefined ? {} : { usage }),
  })}\n\n`;

/** The stream as separate writes: chunk 0 carries the role and text, so every target's first chunk has content. */
const STREAM_WRITES = [];
for (let index = 0; index < chunkCount; index += 1) {
  STREAM_WRITES.push(
    Buffer.from(chunk(index === 0 ? { role: 'assistant', content: 'Token 0' } : { content: ` token ${index}` }, null)),
  );
}
STREAM_WRITES.push(
  Buffer.from(
    chunk({}, 'stop', { prompt_tokens: 12, completion_tokens: chunkCount, total_tokens: 12 + chunkCount }) +
      'data: [DONE]\n\n',
  ),
);

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
const JSON_HEADERS = { 'content-type': 'application/json', 'content-length': String(UNARY.length) };
const MODELS = Buffer.from(
  JSON.stringify({ object: 'list', data: [{ id: 'bench-model', object: 'model', created, owned_by: 'bench' }] }),
);

let lastBody = Buffer.alloc(0);
const HOLD = Buffer.from('"model":"bench-hold"');

function stream(res) {
  res.writeHead(200, SSE_HEADERS);
  let index = 0;
  const next = () => {
    if (res.destroyed) return;
    const write = STREAM_WRITES[index++];
    if (index === STREAM_WRITES.length) {
      res.end(write);
      return;
    }
    res.write(write);
    if (pacingMs > 0) setTimeout(next, pacingMs);
    else setImmediate(next);
  };
  next();
}

function hold(res) {
  res.writeHead(200, SSE_HEADERS);
  res.write(STREAM_WRITES[0]);
  // Nothing more until the client (or the proxy, on the client's behalf) closes the connection.
}

const server = createServer({ keepAliveTimeout: 120_000, noDelay: true }, (req, res) => {
  if (req.method === 'GET') {
    if (req.url === '/__last') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(lastBody);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(MODELS);
    return;
  }
  const parts = [];
  req.on('data', (part) => parts.push(part));
  req.on('end', () => {
    const body = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    lastBody = body;
    if (!body.includes('"stream":true')) {
      res.writeHead(200, JSON_HEADERS);
      res.end(UNARY);
    } else if (body.includes(HOLD)) hold(res);
    else stream(res);
  });
});
server.headersTimeout = 0;
server.requestTimeout = 0;
server.maxConnections = 100_000;
server.listen(port, '127.0.0.1', () => {
  process.send?.({ ready: true, port: server.address().port, pid: process.pid });
});
process.on('SIGTERM', () => process.exit(0));
