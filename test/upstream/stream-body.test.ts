import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamBody } from '../../src/upstream/stream-body.js';

/** An UpstreamBody whose upstream side is recorded: aborts and resumes. */
function body(): { body: UpstreamBody; aborted: Error[]; resumed: () => number } {
  const aborted: Error[] = [];
  const target = new UpstreamBody((reason) => aborted.push(reason));
  let resumes = 0;
  target.setResume(() => {
    resumes += 1;
  });
  return { body: target, aborted, resumed: () => resumes };
}

async function readAll(source: UpstreamBody): Promise<string> {
  let text = '';
  for await (const chunk of source) text += chunk.toString('utf8');
  return text;
}

describe('UpstreamBody', () => {
  it('hands over chunks in order, those queued before reading and those pushed while waiting', async () => {
    const { body: source } = body();
    source.push(Buffer.from('a'));
    source.push(Buffer.from('b'));
    assert.equal(source.readableLength, 2);
    const reading = readAll(source);
    await new Promise((resolve) => setImmediate(resolve));
    source.push(Buffer.from('c'));
    source.end();
    assert.equal(await reading, 'abc');
    assert.equal(source.readableLength, 0);
  });

  it('hands over everything queued in one piece', async () => {
    const { body: source } = body();
    source.push(Buffer.from('data: 1\n\n'));
    source.push(Buffer.from('data: 2\n\n'));
    source.end();
    const pieces: string[] = [];
    for await (const chunk of source) pieces.push(chunk.toString('utf8'));
    assert.deepEqual(pieces, ['data: 1\n\ndata: 2\n\n']);
  });

  it('asks undici to pause at 64 KB queued and resumes once the reader has taken them', async () => {
    const { body: source, resumed } = body();
    const piece = Buffer.alloc(16 * 1024, 120);
    assert.equal(source.push(piece), true);
    assert.equal(source.push(piece), true);
    assert.equal(source.push(piece), true);
    assert.equal(source.push(piece), false, 'the fourth 16 KB chunk reaches 64 KB: pause');
    assert.equal(resumed(), 0);
    const iterator = source[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value?.length, 64 * 1024);
    assert.equal(resumed(), 1, 'resumed once the queue was taken');
    assert.equal(source.push(piece), true, 'below the mark again');
    source.end();
    assert.equal((await iterator.next()).value?.length, 16 * 1024);
    assert.equal((await iterator.next()).done, true);
    assert.equal(resumed(), 1);
  });

  it('throws a transport failure only after the bytes that arrived before it', async () => {
    const { body: source } = body();
    source.push(Buffer.from('data: {"x":1}\n\n'));
    source.fail(new Error('socket hang up'));
    source.push(Buffer.from('late'));
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const chunk of source) seen.push(chunk.toString('utf8'));
    }, /socket hang up/);
    assert.deepEqual(seen, ['data: {"x":1}\n\n']);
  });

  it('aborts the upstream when the reader leaves early, and only once', async () => {
    const { body: source, aborted } = body();
    source.push(Buffer.from('one'));
    for await (const chunk of source) {
      assert.equal(chunk.toString('utf8'), 'one');
      break;
    }
    assert.equal(aborted.length, 1);
    source.destroy();
    assert.equal(aborted.length, 1);
    assert.equal(source.push(Buffer.from('after')), true, 'bytes after the abort are dropped, never paused on');
    assert.equal(source.readableLength, 0);
  });

  it('does not abort an upstream that already finished', async () => {
    const { body: source, aborted } = body();
    source.push(Buffer.from('all'));
    source.end();
    assert.equal(await readAll(source), 'all');
    source.destroy();
    assert.deepEqual(aborted, []);
  });

  it('wakes a waiting reader when destroyed (the drain timer after a finished stream)', async () => {
    const { body: source, aborted } = body();
    const reading = readAll(source);
    await new Promise((resolve) => setImmediate(resolve));
    source.destroy();
    assert.equal(await reading, '');
    assert.equal(aborted.length, 1);
  });
});
