/**
 * Streamed `tool_calls` deltas → whole calls (src/translate/tool-call-tracker.ts), one row per shape that
 * docs/providers.md §3.2 lists: fragments, whole arguments, `id: ""` continuations, sparse, reused and missing
 * indexes, the ways of sending no arguments, a prefix that already parses, the one repair pass, and what makes a turn
 * malformed ([R-FC-1], [R-FC-2]).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../src/translate/gemini-types.js';
import type { OpenAIToolCallDelta } from '../../src/translate/openai-types.js';
import { ToolCallTracker, type FinalizedCalls } from '../../src/translate/tool-call-tracker.js';

type Call = { id: string; name: string; args: JsonObject };

const opened = (index: number | undefined, id: string, name: string, args = ''): OpenAIToolCallDelta => ({
  ...(index === undefined ? {} : { index }),
  id,
  type: 'function',
  function: { name, arguments: args },
});
const more = (index: number | undefined, args: string, id?: string): OpenAIToolCallDelta => ({
  ...(index === undefined ? {} : { index }),
  ...(id === undefined ? {} : { id }),
  function: { arguments: args },
});
const calls = (...list: Call[]): FinalizedCalls => ({ ok: true, calls: list });

const ROWS: Array<{ name: string; deltas: OpenAIToolCallDelta[]; expected: FinalizedCalls; size?: number }> = [
  {
    name: 'fragments after an opening chunk with id, name and "" (OpenAI, DeepSeek, Kimi)',
    deltas: [opened(0, 'call_1', 'read_file'), more(0, '{"file_'), more(0, 'path": "a.txt"'), more(0, '}')],
    expected: calls({ id: 'call_1', name: 'read_file', args: { file_path: 'a.txt' } }),
  },
  {
    name: 'whole arguments in one chunk (GLM, Groq, Ollama)',
    deltas: [opened(0, 'call_9', 'read_file', '{"file_path":"a.txt"}')],
    expected: calls({ id: 'call_9', name: 'read_file', args: { file_path: 'a.txt' } }),
  },
  {
    name: 'continuations with id "" and a repeated type (DashScope) extend the call at their index',
    deltas: [
      opened(0, 'call_5f1c', 'read_file'),
      { index: 0, id: '', type: 'function', function: { arguments: '{"file_path": "a.ts"}' } },
    ],
    expected: calls({ id: 'call_5f1c', name: 'read_file', args: { file_path: 'a.ts' } }),
  },
  {
    name: 'continuations without an index extend the latest call',
    deltas: [opened(0, 'a', 'f'), opened(1, 'b', 'g'), more(undefined, '{"y":'), more(undefined, '2}')],
    expected: calls({ id: 'a', name: 'f', args: {} }, { id: 'b', name: 'g', args: { y: 2 } }),
  },
  {
    name: 'a continuation repeating its known id extends that call, wherever it points',
    deltas: [opened(0, 'a', 'f'), opened(1, 'b', 'g'), more(1, '{"x":1}', 'a'), more(1, '{}', 'b')],
    expected: calls({ id: 'a', name: 'f', args: { x: 1 } }, { id: 'b', name: 'g', args: {} }),
  },
  {
    name: 'sparse indexes (a gateway starting at 1) keep first-seen order',
    deltas: [opened(3, 'late', 'g', '{"n":3}'), opened(1, 'early', 'f'), more(1, '{"n":1}')],
    expected: calls({ id: 'late', name: 'g', args: { n: 3 } }, { id: 'early', name: 'f', args: { n: 1 } }),
  },
  {
    name: 'index 0 reused for two different ids opens two calls',
    deltas: [opened(0, 'a', 'read_file', '{"file_path":"a"}'), opened(0, 'b', 'read_file', '{"file_path":"b"}')],
    expected: calls(
      { id: 'a', name: 'read_file', args: { file_path: 'a' } },
      { id: 'b', name: 'read_file', args: { file_path: 'b' } },
    ),
  },
  {
    name: 'an id arriving after an id-less opening at the same index names that call',
    deltas: [{ index: 0, function: { name: 'f', arguments: '' } }, more(0, '{"x":true}', 'late_id')],
    expected: calls({ id: 'late_id', name: 'f', args: { x: true } }),
    size: 1,
  },
  {
    name: 'parallel calls interleaved by index',
    deltas: [
      opened(0, 'a', 'read_file', '{"file'),
      opened(1, 'b', 'list_directory', '{"dir'),
      more(0, '_path":"a"}'),
      more(1, '_path":"."}'),
    ],
    expected: calls(
      { id: 'a', name: 'read_file', args: { file_path: 'a' } },
      { id: 'b', name: 'list_directory', args: { dir_path: '.' } },
    ),
  },
  {
    name: 'no arguments: "" for the whole call',
    deltas: [opened(0, 't', 'get_time')],
    expected: calls({ id: 't', name: 'get_time', args: {} }),
  },
  {
    name: 'no arguments: "" then "{}"',
    deltas: [opened(0, 't', 'get_time'), more(0, '{}')],
    expected: calls({ id: 't', name: 'get_time', args: {} }),
  },
  {
    name: 'no arguments: null arguments and null id on the continuation',
    deltas: [opened(0, 't', 'get_time'), { index: 0, id: null, function: { name: null, arguments: null } }],
    expected: calls({ id: 't', name: 'get_time', args: {} }),
    size: 1,
  },
  {
    name: 'a prefix that already parses is not a finished call: {"n":1 then 0}',
    deltas: [opened(0, 'c', 'f', '{"n":1'), more(0, '0}')],
    expected: calls({ id: 'c', name: 'f', args: { n: 10 } }),
  },
  {
    name: 'the name is set once; a repeated or different name later does not replace it',
    deltas: [opened(0, 'c', 'read_file', '{"a":'), { index: 0, function: { name: 'other', arguments: '1}' } }],
    expected: calls({ id: 'c', name: 'read_file', args: { a: 1 } }),
  },
  {
    name: 'truncated arguments get one repair: an open string and brackets are closed',
    deltas: [opened(0, 'c', 'f', '{"path":"a.t'), opened(1, 'd', 'g', '{"list":[1,{"k":[2')],
    expected: calls(
      { id: 'c', name: 'f', args: { path: 'a.t' } },
      { id: 'd', name: 'g', args: { list: [1, { k: [2] }] } },
    ),
  },
  {
    name: 'a dangling escape is dropped by the repair',
    deltas: [opened(0, 'c', 'f', '{"path":"C:\\')],
    expected: calls({ id: 'c', name: 'f', args: { path: 'C:' } }),
  },
  {
    name: 'arguments that are JSON but not an object are wrapped as {value}',
    deltas: [opened(0, 'c', 'f', '"just text"'), opened(1, 'd', 'g', '[1,2]')],
    expected: calls(
      { id: 'c', name: 'f', args: { value: 'just text' } },
      { id: 'd', name: 'g', args: { value: [1, 2] } },
    ),
  },
  {
    name: 'a call that never got a name is dropped; the named ones stay',
    deltas: [opened(0, 'a', 'f', '{}'), { index: 1, id: 'nameless', function: { arguments: '{"x":1}' } }],
    expected: calls({ id: 'a', name: 'f', args: {} }),
    size: 2,
  },
  {
    name: 'arguments that do not parse even repaired make the turn malformed, naming every bad call',
    deltas: [opened(0, 'a', 'f', '{"ok":1}'), opened(1, 'b', 'g', '{"x": nope}'), opened(2, 'c', 'h', 'not json')],
    expected: { ok: false, malformed: ['g', 'h'] },
  },
];

describe('tool-call tracker', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const tracker = new ToolCallTracker();
      for (const delta of row.deltas) tracker.push(delta);
      assert.deepEqual(tracker.finalize(), row.expected);
      if (row.size !== undefined) assert.equal(tracker.size, row.size);
    });
  }
});
