/**
 * Kimi's MFJS validator (strict by default on the current API) rejects schemas that plain JSON Schema allows
 * (docs/providers.md §3.5): a property without `type`, `type` beside `anyOf`, `$ref` outside `#/$defs`, siblings of
 * `$ref`, and non-object roots. This rewrites a lower-case JSON Schema (from normalizeSchema) into that subset.
 * Pure; never mutates its input.
 */
import type { JsonObject, JsonValue } from './gemini-types.js';

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function inferType(schema: JsonObject): string | undefined {
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) {
    const first = schema['enum'][0];
    if (typeof first === 'number') return Number.isInteger(first) ? 'integer' : 'number';
    if (typeof first === 'boolean') return 'boolean';
    return 'string';
  }
  if ('const' in schema) {
    const value = schema['const'];
    return typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'string';
  }
  if (isObject(schema['items']) || 'prefixItems' in schema) return 'array';
  if (isObject(schema['properties']) || 'additionalProperties' in schema) return 'object';
  return undefined;
}

function refTarget(ref: string): string {
  // `#/definitions/X` → `#/$defs/X`; anything not into the root's defs cannot be expressed and is dropped.
  if (ref.startsWith('#/definitions/')) return `#/$defs/${ref.slice('#/definitions/'.length)}`;
  return ref;
}

function rewrite(schema: JsonValue, needsType: boolean): JsonValue {
  if (!isObject(schema)) return schema;
  const ref = schema['$ref'];
  if (typeof ref === 'string') {
    const target = refTarget(ref);
    return target.startsWith('#/$defs/') ? { $ref: target } : { type: 'object' };
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && isObject(value)) {
      const properties: JsonObject = {};
      for (const [name, child] of Object.entries(value)) properties[name] = rewrite(child, true);
      out[key] = properties;
    } else if ((key === 'items' || key === 'additionalProperties') && isObject(value)) {
      out[key] = rewrite(value, true);
    } else if ((key === 'anyOf' || key === 'oneOf' || key === 'allOf') && Array.isArray(value)) {
      out[key === 'oneOf' ? 'anyOf' : key] = value.map((branch) => rewrite(branch, true));
    } else if ((key === '$defs' || key === 'definitions') && isObject(value)) {
      const defs: JsonObject = isObject(out['$defs']) ? out['$defs'] : {};
      for (const [name, child] of Object.entries(value)) defs[name] = rewrite(child, true);
      out['$defs'] = defs;
    } else {
      out[key] = value;
    }
  }
  // `type: [x, "null"]` → anyOf, so that nothing carries a type array.
  if (Array.isArray(out['type'])) {
    const types = out['type'].filter((type): type is string => typeof type === 'string');
    delete out['type'];
    if (types.length === 1 && types[0] !== undefined) out['type'] = types[0];
    else out['anyOf'] = [...(Array.isArray(out['anyOf']) ? out['anyOf'] : []), ...types.map((type) => ({ type }))];
  }
  // No `type` beside `anyOf`: push it into branches that lack one.
  if (Array.isArray(out['anyOf']) && out['type'] !== undefined) {
    const parentType = out['type'];
    delete out['type'];
    out['anyOf'] = out['anyOf'].map((branch) =>
      isObject(branch) && branch['type'] === undefined && branch['$ref'] === undefined
        ? { ...branch, type: parentType }
        : branch,
    );
  }
  if (needsType && out['type'] === undefined && out['anyOf'] === undefined && out['allOf'] === undefined) {
    out['type'] = inferType(out) ?? 'string';
  }
  return out;
}

export function normalizeSchemaForKimi(schema: JsonObject): JsonObject {
  const rewritten = rewrite(schema, false);
  if (!isObject(rewritten)) return { type: 'object', properties: {} };
  if (rewritten['type'] !== 'object') {
    // The root must be an object: wrap anything else as a single property.
    return { type: 'object', properties: { value: rewrite(rewritten, true) }, required: ['value'] };
  }
  return rewritten;
}
