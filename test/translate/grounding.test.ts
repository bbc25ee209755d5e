/**
 * groundingMetadata building (src/translate/grounding.ts): citation marks leave the text, stream-safely, and become
 * supports whose segment offsets are UTF-8 byte offsets — the way Gemini CLI's web-search tool reads them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroundingTracker } from '../../src/translate/grounding.js';

const SOURCES = [
  { uri: 'https://nodejs.org/en/about/releases', title: 'Node.js releases' },
  { uri: 'https://example.org/café', title: 'Café notes' },
];

/** What Gemini CLI 0.61 does with the metadata (packages/core/src/tools/web-search.ts): marks at byte offsets. */
function insertMarks(
  text: string,
  supports: Array<{ segment: { endIndex: number }; groundingChunkIndices: number[] }>,
): string {
  const bytes = new TextEncoder().encode(text);
  const marks = supports
    .map((support) => ({
      at: support.segment.endIndex,
      mark: support.groundingChunkIndices.map((index) => `[${index + 1}]`).join(''),
    }))
    .sort((a, b) => b.at - a.at);
  let out = bytes;
  for (const { at, mark } of marks) {
    const markBytes = new TextEncoder().encode(mark);
    const next = new Uint8Array(out.length + markBytes.length);
    next.set(out.subarray(0, at));
    next.set(markBytes, at);
    next.set(out.subarray(at), at + markBytes.length);
    out = next;
  }
  return new TextDecoder().decode(out);
}

function feed(tracker: GroundingTracker, pieces: string[]): string {
  let text = '';
  for (const piece of pieces) text += tracker.transformText(piece);
  return text + tracker.flush();
}

describe('GroundingTracker', () => {
  it('numbered sources: marks leave the text and become supports with UTF-8 byte offsets', () => {
    const tracker = new GroundingTracker({ kind: 'numbered-sources', queries: ['node lts'], sources: SOURCES });
    const text = feed(tracker, [
      'Ünïcode first: Node 22 is the active LTS [1]. Le café — ouvert [2][1]. Unknown [7] stays.',
    ]);
    assert.equal(text, 'Ünïcode first: Node 22 is the active LTS. Le café — ouvert. Unknown [7] stays.');
    const metadata = tracker.metadata();
    assert.ok(metadata !== undefined);
    assert.deepEqual(metadata.webSearchQueries, ['node lts']);
    assert.deepEqual(
      metadata.groundingChunks,
      SOURCES.map((source) => ({ web: source })),
    );
    const supports = metadata.groundingSupports ?? [];
    assert.equal(supports.length, 2);
    assert.equal(supports[0]?.segment.text, 'Ünïcode first: Node 22 is the active LTS');
    assert.deepEqual(supports[0]?.groundingChunkIndices, [0]);
    assert.equal(supports[1]?.segment.text, 'Le café — ouvert');
    assert.deepEqual(supports[1]?.groundingChunkIndices, [1, 0]);
    const bytes = Buffer.from(text, 'utf8');
    for (const support of supports) {
      // Byte offsets, not string indices: the multi-byte characters before each segment make the two differ.
      assert.equal(
        bytes.subarray(support.segment.startIndex, support.segment.endIndex).toString('utf8'),
        support.segment.text,
      );
    }
    assert.notEqual(supports[1]?.segment.endIndex, text.indexOf('ouvert') + 'ouvert'.length);
    assert.equal(
      insertMarks(text, supports),
      'Ünïcode first: Node 22 is the active LTS[1]. Le café — ouvert[2][1]. Unknown [7] stays.',
    );
  });

  it('a mark cut across stream chunks is still taken out, and nothing else is held back for long', () => {
    const tracker = new GroundingTracker({ kind: 'numbered-sources', queries: ['q'], sources: SOURCES });
    const emitted: string[] = [];
    for (const piece of ['Fact one ', '[', '1', ']. Fact two [2', ', 1]', '. Price [', 'USD] done'])
      emitted.push(tracker.transformText(piece));
    emitted.push(tracker.flush());
    assert.equal(emitted.join(''), 'Fact one. Fact two. Price [USD] done');
    assert.equal(emitted[0], 'Fact one', 'only the trailing space waits');
    const supports = tracker.metadata()?.groundingSupports ?? [];
    assert.deepEqual(
      supports.map((support) => [support.segment.text, support.groundingChunkIndices]),
      [
        ['Fact one', [0]],
        ['Fact two', [1, 0]],
      ],
    );
  });

  it('brackets in code are not citations: inline spans and fenced blocks keep them', () => {
    const tracker = new GroundingTracker({ kind: 'numbered-sources', queries: ['q'], sources: SOURCES });
    const text = feed(tracker, ['Use `xs[1]` here [1].\n```py\nprint(xs[2])\n', '```\nDone [2].']);
    assert.equal(text, 'Use `xs[1]` here.\n```py\nprint(xs[2])\n```\nDone.');
    assert.deepEqual(
      (tracker.metadata()?.groundingSupports ?? []).map((support) => [
        support.segment.text,
        support.groundingChunkIndices,
      ]),
      [
        ['Use `xs[1]` here', [0]],
        ['Done', [1]],
      ],
    );
  });

  it('zhipu: sources from the web_search array (only entries with a link), [ref_n] marks', () => {
    const tracker = new GroundingTracker({ kind: 'zhipu-results', queries: ['北京 天气'] });
    tracker.observe({
      web_search: [
        {
          icon: '',
          title: '北京天气预报',
          link: 'https://weather.example.cn/beijing',
          media: '天气网',
          content: '晴',
          refer: 'ref_1',
        },
        { title: 'no link', content: 'x', refer: 'ref_2' },
        { title: 'Second', link: 'https://news.example.cn/a', refer: 'ref_3' },
      ],
    });
    const text = feed(tracker, ['北京今天晴[ref_1]。', '风力三级[ref_', '3]，无雨[ref_2]。']);
    assert.equal(text, '北京今天晴。风力三级，无雨[ref_2]。');
    const metadata = tracker.metadata();
    assert.deepEqual(
      metadata?.groundingChunks?.map((chunk) => chunk.web.uri),
      ['https://weather.example.cn/beijing', 'https://news.example.cn/a'],
    );
    const supports = metadata?.groundingSupports ?? [];
    assert.deepEqual(
      supports.map((support) => [support.segment.text, support.groundingChunkIndices]),
      [
        ['北京今天晴', [0]],
        ['风力三级', [1]],
      ],
    );
    assert.equal(supports[1]?.segment.startIndex, Buffer.byteLength('北京今天晴。'));
  });

  it('url_citation annotations: character indices become byte-offset segments ending at the citation', () => {
    const tracker = new GroundingTracker({ kind: 'url-citations', queries: ['what is openrouter'] });
    const answer =
      'Intro. OpenRouter routes requests — to many models ([openrouter.ai](https://openrouter.ai/docs)). Done.';
    const start = Array.from(answer.slice(0, answer.indexOf('(['))).length;
    const end = start + Array.from('([openrouter.ai](https://openrouter.ai/docs))').length;
    assert.equal(feed(tracker, [answer]), answer, 'annotated answers keep their text');
    tracker.observe({
      choices: [
        {
          index: 0,
          delta: {
            annotations: [
              {
                type: 'url_citation',
                url_citation: {
                  url: 'https://openrouter.ai/docs',
                  title: 'OpenRouter docs',
                  start_index: start,
                  end_index: end,
                },
              },
            ],
          },
        },
      ],
    });
    tracker.observe({
      choices: [
        {
          index: 0,
          message: {
            annotations: [
              { type: 'url_citation', url_citation: { url: 'javascript:alert(1)', start_index: 0, end_index: 3 } },
            ],
          },
        },
      ],
    });
    const metadata = tracker.metadata();
    assert.deepEqual(metadata?.groundingChunks, [
      { web: { uri: 'https://openrouter.ai/docs', title: 'OpenRouter docs' } },
    ]);
    const support = metadata?.groundingSupports?.[0];
    assert.equal(
      support?.segment.text,
      'OpenRouter routes requests — to many models ([openrouter.ai](https://openrouter.ai/docs))',
    );
    assert.equal(support?.segment.endIndex, Buffer.byteLength(answer.slice(0, answer.indexOf('). Done') + 1)));
  });

  it('queries only (Kimi, DashScope): no chunks, no supports; nothing at all without a query', () => {
    const tracker = new GroundingTracker({ kind: 'queries-only', queries: ['latest node'] });
    assert.equal(feed(tracker, ['Answer [1].']), 'Answer [1].');
    assert.deepEqual(tracker.metadata(), { webSearchQueries: ['latest node'] });
    assert.equal(new GroundingTracker({ kind: 'queries-only', queries: [] }).metadata(), undefined);
  });
});
