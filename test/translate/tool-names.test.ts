/** Tool names renamed for an upstream's rules and back (src/translate/tool-names.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createToolNameCodec } from '../../src/translate/tool-names.js';

describe('tool-name codec', () => {
  const kimiRules = { forbidden: /[^a-zA-Z0-9_-]/g, maxLength: 64, minLength: 3, firstCharacter: /[a-zA-Z_]/ };
  it('renames reversibly, deterministically and without collisions', () => {
    const names = ['mcp_srv__a.b', 'mcp_srv__a_b', 'calendar.respondToEvent', '1st', 'ab', `mcp_${'x'.repeat(70)}`];
    const codec = createToolNameCodec(names, kimiRules);
    const mapped = names.map((name) => codec.toUpstream(name));
    assert.equal(new Set(mapped).size, names.length);
    for (const name of mapped) assert.match(name, /^[a-zA-Z_][a-zA-Z0-9_-]{2,63}$/);
    for (const name of names) assert.equal(codec.toGemini(codec.toUpstream(name)), name);
    assert.equal(codec.toUpstream('mcp_srv__a_b'), 'mcp_srv__a_b', 'valid names are kept');
    const again = createToolNameCodec([...names].reverse(), kimiRules);
    assert.deepEqual(
      names.map((name) => again.toUpstream(name)),
      mapped,
    );
    assert.equal(codec.toGemini('invented_by_model'), 'invented_by_model');
  });
  it('passes names through where the upstream takes anything (Ollama)', () => {
    const codec = createToolNameCodec(['a.b'], {
      forbidden: undefined,
      maxLength: 256,
      minLength: 1,
      firstCharacter: undefined,
    });
    assert.equal(codec.toUpstream('a.b'), 'a.b');
  });
});
