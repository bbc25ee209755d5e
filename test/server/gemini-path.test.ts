import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGeminiPath } from '../../src/server/gemini-path.js';

describe('Gemini path parsing (docs/gemini-contract.md §1.3 test vectors)', () => {
  const cases: Array<[string, string, string, unknown]> = [
    [
      'POST',
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
      '',
      {
        kind: 'method',
        version: 'v1beta',
        resource: 'models',
        model: 'gemini-2.5-flash',
        method: 'streamGenerateContent',
      },
    ],
    [
      'POST',
      '/v1beta/models/openai/gpt-4o:generateContent',
      '',
      { kind: 'method', version: 'v1beta', resource: 'models', model: 'openai/gpt-4o', method: 'generateContent' },
    ],
    [
      'POST',
      '/v1beta/models/qwen3:8b:generateContent',
      '',
      { kind: 'method', version: 'v1beta', resource: 'models', model: 'qwen3:8b', method: 'generateContent' },
    ],
    [
      'POST',
      '/v1beta/models/gpt%204o:generateContent',
      '',
      { kind: 'method', version: 'v1beta', resource: 'models', model: 'gpt 4o', method: 'generateContent' },
    ],
    [
      'POST',
      '/v1beta/tunedModels/abc:generateContent',
      '',
      { kind: 'method', version: 'v1beta', resource: 'tunedModels', model: 'abc', method: 'generateContent' },
    ],
    [
      'POST',
      '/v1beta/models/gemini-2.5-pro%3AcountTokens',
      '',
      { kind: 'method', version: 'v1beta', resource: 'models', model: 'gemini-2.5-pro', method: 'countTokens' },
    ],
    [
      'POST',
      '/some/prefix/v1/models/m:streamGenerateContent',
      '/some/prefix',
      { kind: 'method', version: 'v1', resource: 'models', model: 'm', method: 'streamGenerateContent' },
    ],
    ['GET', '/v1beta/models/qwen3:8b', '', { kind: 'get-model', version: 'v1beta', model: 'qwen3:8b' }],
    ['GET', '/v1beta/models', '', { kind: 'list-models', version: 'v1beta' }],
    ['GET', '/v1/tunedModels', '', { kind: 'list-tuned-models', version: 'v1' }],
    ['POST', '/v1beta/models/m:fooBar', '', { kind: 'not-found' }],
    ['POST', '/v1beta/models/m', '', { kind: 'not-found' }],
    [
      'POST',
      '/v1beta/models/:generateContent',
      '',
      { kind: 'bad-model', message: 'The model name must not be empty.' },
    ],
    ['POST', '/v1beta/models/m:generateContent', '/some/prefix', { kind: 'not-found' }],
    ['POST', '/v2/models/m:generateContent', '', { kind: 'not-found' }],
    ['POST', '/v1beta/files/x:generateContent', '', { kind: 'not-found' }],
    [
      'POST',
      '/v1beta/models/%E0%A4%A:generateContent',
      '',
      { kind: 'bad-model', message: 'The model name is not valid percent-encoding.' },
    ],
  ];
  for (const [method, path, prefix, expected] of cases) {
    it(`${method} ${path}${prefix ? ` (prefix ${prefix})` : ''}`, () => {
      assert.deepEqual(parseGeminiPath(method, path, prefix), expected);
    });
  }
});
