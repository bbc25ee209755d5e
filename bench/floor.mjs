// The floor: a zero-work Node forwarder. A node:http server reads each request body whole, sends it to the upstream
// through an undici Pool with keep-alive, and writes the response back as it arrives, unchanged. Whatever it adds is
// the cost of any Node proxy on this machine; whatever gemini-proxy adds beyond it is the cost of our own code.
//   node bench/floor.mjs --port N --upstream http://127.0.0.1:M
//
// It is tuned to be the fastest forwarder we could write (bench/floor-variants.mjs holds the slower alternatives;
// bench/run.mjs races them against this one every run and records the result): undici's lowest-level `dispatch`
// with a handler object instead of `request`'s streams and promises, raw header arrays instead of header objects, no
// AbortController (the dispatch hands us an abort function), and no stream.pipeline.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
// Only the Pool class: loading undici's whole index (fetch, WebSocket, cache…) costs about 8 MB more RSS.
import Pool from 'undici/lib/dispatcher/pool.js';

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } });
const pool = new Pool(values.upstream, {
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  pipelining: 1,
  headersTimeout: 0,
  bodyTimeout: 0,
});
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
]);

/** Flat [name, value, …] list without hop-by-hop headers; `raw` holds strings (request) or Buffers (response). */
function endToEnd(raw) {
  const out = [];
  for (let index = 0; index < raw.length; index += 2) {
    const name = String(raw[index]);
    if (!HOP_BY_HOP.has(name.toLowerCase())) out.push(name, String(raw[index + 1]));
  }
  return out;
}

/** undici's dispatch handler for one forwarded exchange. */
class Forward {
  constructor(res) {
    this.res = res;
    this.abort = null;
    this.resume = null;
    res.once('close', () => {
      if (!res.writableFinished) this.abort?.(new Error('client went away'));
    });
  }
  onConnect(abort) {
    this.abort = abort;
  }
  onHeaders(statusCode, rawHeaders, resume) {
    this.resume = resume;
    this.res.writeHead(statusCode, endToEnd(rawHeaders));
    return true;
  }
  onData(chunk) {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', () => this.resume?.());
    return false;
  }
  onComplete() {
    this.res.end();
  }
  onError(error) {
    const res = this.res;
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(error.message));
    } else res.destroy();
  }
}

function forward(req, res, body) {
  pool.dispatch({ method: req.method, path: req.url, headers: endToEnd(req.rawHeaders), body }, new Forward(res));
}

const server = createServer({ keepAliveTimeout: 120_000, noDelay: true }, (req, res) => {
  if (req.method === 'GET' || req.method === 'HEAD') {
    req.resume();
    forward(req, res, null);
    return;
  }
  const parts = [];
  req.on('data', (part) => parts.push(part));
  req.on('end', () => forward(req, res, parts.length === 1 ? parts[0] : Buffer.concat(parts)));
});
server.headersTimeout = 0;
server.requestTimeout = 0;
server.listen(Number(values.port ?? 0), '127.0.0.1', () =>
  process.send?.({ ready: true, port: server.address().port, pid: process.pid }),
);
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
