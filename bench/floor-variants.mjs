// Other ways to write a zero-work Node forwarder, to check that bench/floor.mjs is as fast as a Node forwarder gets
// on this machine (a slow floor would flatter every "over the floor" figure). bench/run.mjs races them against the
// floor in its floor-validation phase and records the result in bench/results.json.
//   node bench/floor-variants.mjs --variant <name> --port N --upstream http://127.0.0.1:M
// Variants (every one forwards the method, path, end-to-end headers and body, streams the response back, and cancels
// the upstream request when the client goes away):
//   request-pipe  undici Pool.request, request body piped as a stream, AbortController, stream.pipeline back
//                 (the floor of round 1)
//   request       undici Pool.request, request body read whole, response body events written back
//   stream        undici Pool.stream, the response written straight into the server response
//   http-agent    node:http request with a keep-alive Agent instead of undici
import { createServer, request as httpRequest, Agent } from 'node:http';
import { pipeline } from 'node:stream';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: { port: { type: 'string' }, upstream: { type: 'string' }, variant: { type: 'string', default: 'request' } },
});
const upstream = new URL(values.upstream);
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

function forwardHeaders(headers) {
  const out = {};
  for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
  return out;
}

function fail(res, error) {
  if (!res.headersSent && !res.destroyed) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(String(error.message));
  } else res.destroy();
}

function readWhole(req, then) {
  if (req.method === 'GET' || req.method === 'HEAD') {
    req.resume();
    then(null);
    return;
  }
  const parts = [];
  req.on('data', (part) => parts.push(part));
  req.on('end', () => then(parts.length === 1 ? parts[0] : Buffer.concat(parts)));
}

const poolOptions = {
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  pipelining: 1,
  headersTimeout: 0,
  bodyTimeout: 0,
};

const variants = {
  'request-pipe'() {
    const pool = new Pool(upstream.origin, poolOptions);
    return (req, res) => {
      const abort = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      pool.request(
        {
          method: req.method,
          path: req.url,
          headers: forwardHeaders(req.headers),
          body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
          signal: abort.signal,
        },
        (error, data) => {
          if (error) return fail(res, error);
          res.writeHead(data.statusCode, forwardHeaders(data.headers));
          pipeline(data.body, res, () => {});
        },
      );
    };
  },

  request() {
    const pool = new Pool(upstream.origin, poolOptions);
    return (req, res) =>
      readWhole(req, (body) => {
        pool.request(
          { method: req.method, path: req.url, headers: forwardHeaders(req.headers), body },
          (error, data) => {
            if (error) return fail(res, error);
            res.writeHead(data.statusCode, forwardHeaders(data.headers));
            const source = data.body;
            res.once('close', () => {
              if (!res.writableFinished) source.destroy();
            });
            source.on('data', (chunk) => {
              if (!res.write(chunk)) {
                source.pause();
                res.once('drain', () => source.resume());
              }
            });
            source.on('end', () => res.end());
            source.on('error', () => res.destroy());
          },
        );
      });
  },

  stream() {
    const pool = new Pool(upstream.origin, poolOptions);
    return (req, res) =>
      readWhole(req, (body) => {
        const abort = new AbortController();
        res.once('close', () => {
          if (!res.writableFinished) abort.abort();
        });
        pool.stream(
          { method: req.method, path: req.url, headers: forwardHeaders(req.headers), body, signal: abort.signal },
          ({ statusCode, headers }) => {
            res.writeHead(statusCode, forwardHeaders(headers));
            return res;
          },
          (error) => {
            if (error) fail(res, error);
          },
        );
      });
  },

  'http-agent'() {
    const agent = new Agent({ keepAlive: true, keepAliveMsecs: 30_000 });
    return (req, res) =>
      readWhole(req, (body) => {
        const outgoing = httpRequest(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            headers: forwardHeaders(req.headers),
            agent,
          },
          (incoming) => {
            res.writeHead(incoming.statusCode ?? 502, forwardHeaders(incoming.headers));
            res.once('close', () => {
              if (!res.writableFinished) outgoing.destroy();
            });
            incoming.pipe(res);
          },
        );
        outgoing.on('error', (error) => fail(res, error));
        outgoing.end(body ?? undefined);
      });
  },
};

const make = variants[values.variant];
if (make === undefined)
  throw new Error(`unknown variant ${values.variant}; one of ${Object.keys(variants).join(', ')}`);
const server = createServer({ keepAliveTimeout: 120_000, noDelay: true }, make());
server.headersTimeout = 0;
server.requestTimeout = 0;
server.listen(Number(values.port ?? 0), '127.0.0.1', () =>
  process.send?.({ ready: true, port: server.address().port, pid: process.pid }),
);
process.on('SIGTERM', () => process.exit(0));
