// The stack floor: the least a Gemini-to-OpenAI gateway built on gemini-proxy's own stack can do per request. A
// Fastify 5 server (default JSON body parser) takes the Gemini request, builds a one-message Chat Completions body
// from it, POSTs it through a keep-alive undici Agent's `dispatch` with a handler class and the body read whole (as
// gemini-proxy does since round 4; it used undici.request with an AbortSignal before), parses the JSON answer and
// sends a minimal Gemini answer back. No validation, no translation beyond that, no logging. What it costs over
// bench/floor.mjs is the stack's price; what gemini-proxy costs over it is gemini-proxy's own code.
//   node bench/stack-floor.mjs --port N --upstream http://127.0.0.1:M
// Unary only (the ladder in bench/ladder.mjs measures the small unary request).
import Fastify from 'fastify';
import { parseArgs } from 'node:util';
import { Agent } from 'undici';

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } });
const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, pipelining: 1 });
const origin = values.upstream;

/** undici's handler: collects the body, settles the promise (gemini-proxy's PostExchange, minus streaming). */
class Exchange {
  constructor(resolve, reject) {
    this.resolve = resolve;
    this.reject = reject;
    this.chunks = [];
    this.statusCode = 0;
  }
  onConnect() {}
  onHeaders(statusCode) {
    this.statusCode = statusCode;
    return true;
  }
  onData(chunk) {
    this.chunks.push(chunk);
    return true;
  }
  onComplete() {
    this.resolve(this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks));
  }
  onError(error) {
    this.reject(error);
  }
}

function post(body) {
  return new Promise((resolve, reject) =>
    agent.dispatch(
      {
        origin,
        path: '/v1/chat/completions',
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
        body,
      },
      new Exchange(resolve, reject),
    ),
  );
}
const app = Fastify({ logger: false, keepAliveTimeout: 120_000 });

app.post('/v1beta/models/:call', async (req) => {
  const body = req.body;
  const text = body?.contents?.[0]?.parts?.[0]?.text ?? '';
  const completion = JSON.parse(
    (await post(JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: text }] }))).toString(),
  );
  const choice = completion.choices[0];
  return {
    candidates: [
      { content: { role: 'model', parts: [{ text: choice.message.content }] }, finishReason: 'STOP', index: 0 },
    ],
    usageMetadata: {
      promptTokenCount: completion.usage.prompt_tokens,
      candidatesTokenCount: completion.usage.completion_tokens,
      totalTokenCount: completion.usage.total_tokens,
    },
    modelVersion: 'bench-model',
  };
});

await app.listen({ port: Number(values.port ?? 0), host: '127.0.0.1' });
process.send?.({ ready: true, port: app.server.address().port, pid: process.pid });
process.on('SIGTERM', () => process.exit(0));
