/** Gemini model names resolved to upstream models (src/config/model-mapping.ts): exact, pattern, default. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelMapper } from '../../src/config/model-mapping.js';

describe('model mapping', () => {
  const mapper = new ModelMapper(
    {
      'gemini-2.5-pro': 'big',
      'gemini-*': 'default-gemini',
      'gemini-*-flash-lite*': 'small',
      'models/exact-prefixed': 'p',
      'gemini-3.?-flash': 'three',
    },
    'fallback',
  );
  it('exact first, then the most specific pattern, then the default', () => {
    assert.deepEqual(mapper.resolve('gemini-2.5-pro'), { upstreamModel: 'big', matchedBy: 'exact' });
    assert.equal(mapper.resolve('gemini-3.5-flash-lite')?.upstreamModel, 'small');
    assert.equal(mapper.resolve('gemini-3.8-flash')?.upstreamModel, 'three');
    assert.equal(mapper.resolve('gemini-3-pro-preview')?.upstreamModel, 'default-gemini');
    assert.equal(mapper.resolve('exact-prefixed')?.upstreamModel, 'p');
    assert.deepEqual(mapper.resolve('my-model'), { upstreamModel: 'fallback', matchedBy: 'default' });
  });
  it('every name Gemini CLI 0.61 sends resolves with a catch-all', () => {
    for (const name of [
      'gemini-3.5-flash-lite',
      'gemini-3.8-flash',
      'gemini-3.1-pro-preview',
      'gemini-3-flash-preview',
      'gemini-3-pro-preview',
      'gemini-3.1-flash-lite',
    ]) {
      assert.ok(mapper.resolve(name) !== undefined, name);
    }
  });
  it('without a default, an unmapped name does not resolve', () => {
    assert.equal(new ModelMapper({ a: 'b' }, undefined).resolve('c'), undefined);
  });
});
