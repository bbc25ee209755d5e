// The stack floor: the least a Gemini-to-OpenAI gateway built on gemini-proxy's own stack can do per request. A
// Fastify 5 server (default JSON body parser) takes the Gemini request, builds a one-message Chat Completions body
// from it, POSTs it with undici.request through a keep-alive Agent with an AbortSignal (as gemini-proxy does), parses
// the JSON answer and sends a minimal Gemini answer back. No validation, no translation beyond that, no logging. What
// it costs over bench/floor.mjs is the stack's price; what gemini-proxy costs over it is gemini-proxy's own code.
//   node bench/stack-floor.mjs --port N --upstream http://127.0.0.1:M
// Unary only (the ladder in bench/ladder.mjs measures the small unary request).
import Fastify from 'fastify';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } });
const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, pipelining: 1 });
const url = `${values.upstream}/v1/chat/completions`;
const app = Fastify({ logger: false, keepAliveTimeout: 120_000 });

app.post('/v1beta/models/:call', async (req, reply) => {
  const body = req.body;
  const text = body?.contents?.[0]?.parts?.[0]?.text ?? '';
  const abort = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  const response = await request(url, {
    method: 'POST',
    dispatcher: agent,
    signal: abort.signal,
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
    body: JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: text }] }),
  });
  const completion = await response.body.json();
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
