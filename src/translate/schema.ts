/**
 * Gemini `Schema` (OpenAPI subset: upper-case types, `nullable`, int64 as strings) and JSON Schema in either type
 * casing → plain lower-case JSON Schema ([R-TOOL-2], [R-JSON-MODE-1]). Idempotent, pure, never mutates its input.
 * Property names are data and are never touched.
 */
import type { JsonObject, JsonValue } from './gemini-types.js';

/** Keywords whose value is a map of name → schema. */
const SCHEMA_MAPS = new Set(['properties', '$defs', 'definitions', 'patternProperties', 'dependentSchemas']);
/** Keywords whose value is one schema. */
const SCHEMA_SINGLE = new Set(['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'unevaluatedProperties']);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
/** int64 / uint fields that proto3 JSON may send as strings ([R-JSON-3]). */
const INTEGER_KEYWORDS = new Set(['minItems', 'maxItems', 'minLength', 'maxLength', 'minProperties', 'maxProperties']);
const NUMBER_KEYWORDS = new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']);
/** Gemini-only annotations with no JSON Schema meaning. */
const DROPPED = new Set(['$schema', 'propertyOrdering', 'nullable']);

/** proto3 JSON may give the Schema `Type` enum by number ([R-JSON-2]). */
const TYPE_NUMBERS: ReadonlyArray<string | undefined> = [undefined, 'string', 'number', 'integer', 'boolean', 'array', 'object', 'null'];

function lowerType(type: JsonValue): JsonValue | undefined {
  if (typeof type === 'number') return type === 0 ? undefined : (TYPE_NUMBERS[type] ?? type);
  if (typeof type === 'string') {
    const lower = type.toLowerCase();
    return lower === 'type_unspecified' ? undefined : lower;
  }
  if (Array.isArray(type)) return type.map((item) => (typeof item === 'string' ? item.toLowerCase() : item));
  return type;
}

function isPlainObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function normalizeSchema(schema: JsonValue): JsonValue {
  if (!isPlainObject(schema)) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED.has(key)) continue;
    if (key === 'type') {
      const type = lowerType(value);
      if (type !== undefined) out[key] = type;
    } else if (SCHEMA_MAPS.has(key) && isPlainObject(value)) {
      const map: JsonObject = {};
      for (const [name, child] of Object.entries(value)) map[name] = normalizeSchema(child);
      out[key] = map;
    } else if (SCHEMA_SINGLE.has(key)) {
      out[key] = typeof value === 'boolean' ? value : normalizeSchema(value);
    } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
      out[key] = value.map(normalizeSchema);
    } else if ((INTEGER_KEYWORDS.has(key) || NUMBER_KEYWORDS.has(key)) && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
      out[key] = Number(value);
    } else if (key === 'format' && value === 'enum') {
      // Gemini's `format: "enum"` marks a string enum; JSON Schema has no such format.
      continue;
    } else {
      out[key] = value;
    }
  }
  if (schema['nullable'] === true) {
    const type = out['type'];
    if (typeof type === 'string') out['type'] = [type, 'null'];
    else if (Array.isArray(type)) {
      if (!type.includes('null')) out['type'] = [...type, 'null'];
    } else if (Array.isArray(out['anyOf'])) out['anyOf'] = [...out['anyOf'], { type: 'null' }];
  }
  return out;
}

/** Tool parameters must be an object schema; an absent schema means "no parameters". */
export function toolParametersSchema(parameters: JsonValue | undefined): JsonObject {
  if (parameters === undefined || parameters === null) return { type: 'object', properties: {} };
  const normalized = normalizeSchema(parameters);
  if (!isPlainObject(normalized)) return { type: 'object', properties: {} };
  if (normalized['type'] === undefined && normalized['anyOf'] === undefined && normalized['$ref'] === undefined) {
    return { type: 'object', ...normalized };
  }
  return normalized;
}
