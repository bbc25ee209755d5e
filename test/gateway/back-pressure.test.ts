/**
 * [R-SSE-12] end to end: a client that stops reading makes the proxy stop reading its upstream (the upstream's socket
 * fills and its writes stall), and once the client reads again every event arrives, in order, nothing lost.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startProxy, type RunningProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';

/** 64 MB of content: far more than the loopback sockets and the proxy's queue can hold between them. */
const EVENTS = 16_384;
const PIECE = 'x'.repeat(4090);
const STALL_MS = 1000;

function event(index: number): string {
  const delta = index === 0 ? { role: 'assistant', content: `${index}:${PIECE}` } : { content: `${index}:${PIECE}` };
  return `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
}

/** An upstream that writes its stream as fast as its socket takes it, and says how far it got. */
class FastUpstream {
  readonly server: Server;
  written = 0;
  finished = false;
  /** When its last write was refused (the socket full) and not yet drained; undefined while writing freely. */
  blockedSince: number | undefined;

  constructor() {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => this.answer(res));
    });
  }

  private answer(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let index = 0;
    const writeMore = (): void => {
      this.blockedSince = undefined;
      while (index < EVENTS) {
        const text = event(index++);
        this.written += text.length;
        if (!res.write(text)) {
          this.blockedSince = Date.now();
          res.once('drain', writeMore);
          return;
        }
      }
      const end = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;
      res.end(end, () => {
        this.finished = true;
      });
    };
    writeMore();
  }
}

describe('back-pressure from a slow client reaches the upstream ([R-SSE-12])', () => {
  const upstream = new FastUpstream();
  let proxy: RunningProxy;

  before(async () => {
    upstream.server.listen(0, '127.0.0.1');
    await once(upstream.server, 'listening');
    const { port } = upstream.server.address() as AddressInfo;
    proxy = await startProxy({ openai_base_url: `http://127.0.0.1:${port}/v1`, default_openai_model: 'm' });
  });
  after(async () => {
    await proxy.stop();
    upstream.server.closeAllConnections();
    upstream.server.close();
  });

  it('stalls the upstream while the client does not read, then delivers every event', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    const req = request(`${proxy.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    req.end(JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'a long answer' }] }] }));
    const [response] = (await once(req, 'response')) as [IncomingMessage];
    try {
      assert.equal(response.statusCode, 200);
      // No reader yet: the response stays paused, so the client socket, then the proxy's, fill up.
      await waitFor(
        () =>
          upstream.finished
            ? 'finished'
            : upstream.blockedSince !== undefined && Date.now() - upstream.blockedSince > STALL_MS,
        () => `the upstream to stall (written ${upstream.written} bytes)`,
        60_000,
      );
      assert.equal(upstream.finished, false, 'the upstream wrote its whole stream: nothing paused it');
      const total = EVENTS * event(1).length;
      assert.ok(
        upstream.written < total / 2,
        `the upstream got ${upstream.written} of ${total} bytes out while nobody read`,
      );
    } catch (error) {
      response.destroy(); // a paused response would keep the proxy from closing
      throw error;
    }

    response.setEncoding('utf8');
    let text = '';
    response.on('data', (chunk: string) => {
      text += chunk;
    });
    await once(response, 'end');
    assert.equal(upstream.finished, true);
    const events = text.split('\r\n\r\n').filter((block) => block.startsWith('data: '));
    const parts = events.map(
      (block) =>
        (JSON.parse(block.slice(6)) as { candidates: Array<{ content?: { parts?: Array<{ text?: string }> } }> })
          .candidates[0]?.content?.parts?.[0]?.text ?? '',
    );
    const joined = parts.join('');
    let offset = 0;
    for (let index = 0; index < EVENTS; index += 1) {
      const expected = `${index}:${PIECE}`;
      assert.equal(joined.slice(offset, offset + expected.length), expected, `event ${index} in place`);
      offset += expected.length;
    }
    assert.equal(offset, joined.length, 'nothing after the last event');
    process.off('warning', onWarning);
    assert.deepEqual(warnings, [], 'waiting for the socket leaves no listener behind');
  });
});
