/**
 * Schema normalisation (src/translate/schema.ts): Gemini's OpenAPI-style schemas become plain JSON Schema, and a
 * schema that is plain JSON Schema already (Gemini CLI's `parametersJsonSchema`) comes back as the very same object,
 * walked but not copied, with the input never mutated.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject, JsonValue } from '../../src/translate/gemini-types.js';
import { normalizeSchema, toolParametersSchema } from '../../src/translate/schema.js';

function deepFreeze<T extends JsonValue>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Shaped like Gemini CLI 0.61's replace tool declaration: already lower-case JSON Schema. */
const CLI_SCHEMA: JsonObject = {
  type: 'object',
  properties: {
    file_path: { type: 'string', description: 'The absolute path to the file to modify.' },
    old_string: { type: 'string', description: 'The exact literal text to replace.' },
    expected_replacements: { type: 'number', minimum: 1, description: 'Number of replacements expected.' },
    edits: {
      type: 'array',
      items: { type: 'object', properties: { line: { type: ['integer', 'null'] } }, required: ['line'] },
    },
  },
  required: ['file_path', 'old_string'],
  additionalProperties: false,
};

describe('normalizeSchema', () => {
  it('returns a schema that needs no change as the same object, without copying any part of it', () => {
    const input = deepFreeze(structuredClone(CLI_SCHEMA));
    const output = normalizeSchema(input);
    assert.equal(output, input);
    assert.deepEqual(output, CLI_SCHEMA);
    assert.equal(toolParametersSchema(input), input);
  });

  it('converts the Gemini dialect: upper-case types, nullable, string numbers, format enum, dropped annotations', () => {
    const input = deepFreeze<JsonValue>({
      type: 'OBJECT',
      propertyOrdering: ['name', 'size'],
      properties: {
        name: { type: 'STRING', nullable: true, format: 'enum', enum: ['a', 'b'] },
        size: { type: 'INTEGER', minimum: '1', maximum: '10' },
        tags: { type: 'ARRAY', items: { type: 'STRING' }, maxItems: '3' },
        either: { anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }], nullable: true },
        plain: { type: 'boolean' },
      },
      required: ['name'],
    });
    assert.deepEqual(normalizeSchema(input), {
      type: 'object',
      properties: {
        name: { type: ['string', 'null'], enum: ['a', 'b'] },
        size: { type: 'integer', minimum: 1, maximum: 10 },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
        either: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'null' }] },
        plain: { type: 'boolean' },
      },
      required: ['name'],
    });
  });

  it('copies only the path to a change: unchanged siblings stay shared, key order is kept', () => {
    const input = deepFreeze<JsonObject>({
      description: 'first',
      type: 'object',
      properties: {
        same: { type: 'object', properties: { deep: { type: 'string' } } },
        changed: { type: 'STRING' },
        after: { type: 'number' },
      },
      required: ['same'],
    });
    const output = normalizeSchema(input) as JsonObject;
    assert.notEqual(output, input);
    const properties = output['properties'] as JsonObject;
    const inputProperties = input['properties'] as JsonObject;
    assert.equal(properties['same'], inputProperties['same']);
    assert.equal(properties['after'], inputProperties['after']);
    assert.deepEqual(properties['changed'], { type: 'string' });
    assert.equal(output['required'], input['required']);
    assert.deepEqual(Object.keys(output), ['description', 'type', 'properties', 'required']);
    assert.deepEqual(Object.keys(properties), ['same', 'changed', 'after']);
  });

  it('is idempotent', () => {
    const once = normalizeSchema({ type: 'ARRAY', items: { type: 'STRING', nullable: true }, minItems: '2' });
    assert.equal(normalizeSchema(once), once);
  });
});
