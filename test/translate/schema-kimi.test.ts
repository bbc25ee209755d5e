/** Kimi's MFJS schema dialect (src/translate/schema-kimi.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeSchemaForKimi } from '../../src/translate/schema-kimi.js';

describe('Kimi MFJS schema rewriting', () => {
  it('types every property, moves type into anyOf, keeps $ref only into $defs, no type arrays', () => {
    const out = normalizeSchemaForKimi({
      type: 'object',
      properties: {
        mode: { enum: ['a', 'b'] },
        count: { enum: [1, 2] },
        free: { description: 'anything' },
        either: { type: 'string', anyOf: [{ enum: ['x'] }, { maxLength: 3 }] },
        nullable: { type: ['string', 'null'] },
        ref: { $ref: '#/definitions/Thing', description: 'dropped sibling' },
        external: { $ref: 'https://example.com/schema' },
        list: { items: { type: 'string' } },
      },
      definitions: { Thing: { properties: { a: {} } } },
    });
    assert.deepEqual(out, {
      type: 'object',
      properties: {
        mode: { enum: ['a', 'b'], type: 'string' },
        count: { enum: [1, 2], type: 'integer' },
        free: { description: 'anything', type: 'string' },
        either: {
          anyOf: [
            { enum: ['x'], type: 'string' },
            { maxLength: 3, type: 'string' },
          ],
        },
        nullable: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        ref: { $ref: '#/$defs/Thing' },
        external: { type: 'object' },
        list: { items: { type: 'string' }, type: 'array' },
      },
      $defs: { Thing: { properties: { a: { type: 'string' } }, type: 'object' } },
    });
  });
});
