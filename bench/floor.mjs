// The floor: a zero-work Node proxy. A node:http server that pipes each request body to the upstream and each
// response body back, unchanged, through an undici Pool with keep-alive. Whatever it adds is the cost of any Node
// proxy on this machine; whatever gemini-proxy adds beyond it is the cost of our own code.
//   node bench/floor.mjs --port N --upstream http://127.0.0.1:M
import { createServer } from 'node:http';
import { pipeline } from 'node:stream';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } });
const pool = new Pool(values.upstream, { keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function forwardHeaders(headers) {
  const out = {};
  for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
  return out;
}

const server = createServer({ keepAliveTimeout: 120_000, noDelay: true }, (req, res) => {
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  pool.request(
    { method: req.method, path: req.url, headers: forwardHeaders(req.headers), body: req.method === 'GET' || req.method === 'HEAD' ? null : req, signal: abort.signal },
    (error, data) => {
      if (error) {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(String(error.message));
        } else res.destroy();
        return;
      }
      res.writeHead(data.statusCode, forwardHeaders(data.headers));
      pipeline(data.body, res, () => {});
    },
  );
});
server.headersTimeout = 0;
server.requestTimeout = 0;
server.listen(Number(values.port ?? 0), '127.0.0.1', () => process.send?.({ ready: true, port: server.address().port, pid: process.pid }));
process.on('SIGTERM', () => process.exit(0));
