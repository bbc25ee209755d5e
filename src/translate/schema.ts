/**
 * Gemini `Schema` (OpenAPI subset: upper-case types, `nullable`, int64 as strings) and JSON Schema in either type
 * casing → plain lower-case JSON Schema ([R-TOOL-2], [R-JSON-MODE-1]). Idempotent, pure, never mutates its input; the
 * output shares every unchanged subschema with the input. Property names are data and are never touched.
 */
import type { JsonObject, JsonValue } from './gemini-types.js';

/** Keywords whose value is a map of name → schema. */
const SCHEMA_MAPS = new Set(['properties', '$defs', 'definitions', 'patternProperties', 'dependentSchemas']);
/** Keywords whose value is one schema. */
const SCHEMA_SINGLE = new Set([
  'items',
  'additionalProperties',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
  'unevaluatedProperties',
]);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
/** int64 / uint fields that proto3 JSON may send as strings ([R-JSON-3]). */
const INTEGER_KEYWORDS = new Set(['minItems', 'maxItems', 'minLength', 'maxLength', 'minProperties', 'maxProperties']);
const NUMBER_KEYWORDS = new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']);
/** Gemini-only annotations with no JSON Schema meaning. */
const DROPPED = new Set(['$schema', 'propertyOrdering', 'nullable']);

/** proto3 JSON may give the Schema `Type` enum by number ([R-JSON-2]). */
const TYPE_NUMBERS: ReadonlyArray<string | undefined> = [
  undefined,
  'string',
  'number',
  'integer',
  'boolean',
  'array',
  'object',
  'null',
];

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

/** The same list when `next` holds the same items, so an unchanged `type: ["string", "null"]` is not copied. */
function sameItems(next: JsonValue | undefined, value: JsonValue): boolean {
  return (
    Array.isArray(next) &&
    Array.isArray(value) &&
    next.length === value.length &&
    next.every((item, index) => item === value[index])
  );
}

function normalizeMap(map: JsonObject): JsonObject {
  let out: JsonObject | undefined;
  const names = Object.keys(map);
  for (let index = 0; index < names.length; index += 1) {
    const name = names[index] ?? '';
    const child = map[name] as JsonValue;
    const next = normalizeSchema(child);
    if (out === undefined) {
      if (next === child) continue;
      out = {};
      for (const earlier of names.slice(0, index)) out[earlier] = map[earlier] as JsonValue;
    }
    out[name] = next;
  }
  return out ?? map;
}

function normalizeList(list: JsonValue[]): JsonValue[] {
  let out: JsonValue[] | undefined;
  for (let index = 0; index < list.length; index += 1) {
    const item = list[index] as JsonValue;
    const next = normalizeSchema(item);
    if (out === undefined) {
      if (next === item) continue;
      out = list.slice(0, index);
    }
    out.push(next);
  }
  return out ?? list;
}

/**
 * Returns the input itself, or any subschema of it, where nothing needs to change: Gemini CLI declares its tools in
 * plain JSON Schema already (`parametersJsonSchema`), so its ~16 declarations on every turn are walked, not copied
 * (less work and garbage on the 47 KB request). A copy starts at the first key that changes.
 */
export function normalizeSchema(schema: JsonValue): JsonValue {
  if (!isPlainObject(schema)) return schema;
  let out: JsonObject | undefined;
  const keys = Object.keys(schema);
  for (let index = 0; index < keys.length; index += 1) {
    const key = keys[index] ?? '';
    const value = schema[key] as JsonValue;
    /** The value to send; undefined drops the key. */
    let next: JsonValue | undefined = value;
    if (DROPPED.has(key)) next = undefined;
    else if (key === 'type') {
      next = lowerType(value);
      if (sameItems(next, value)) next = value;
    } else if (SCHEMA_MAPS.has(key) && isPlainObject(value)) next = normalizeMap(value);
    else if (SCHEMA_SINGLE.has(key)) next = typeof value === 'boolean' ? value : normalizeSchema(value);
    else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) next = normalizeList(value);
    else if (
      (INTEGER_KEYWORDS.has(key) || NUMBER_KEYWORDS.has(key)) &&
      typeof value === 'string' &&
      value.trim() !== '' &&
      Number.isFinite(Number(value))
    ) {
      next = Number(value);
    } else if (key === 'format' && value === 'enum') {
      // Gemini's `format: "enum"` marks a string enum; JSON Schema has no such format.
      next = undefined;
    }
    if (out === undefined) {
      if (next === value) continue;
      out = {};
      for (const earlier of keys.slice(0, index)) out[earlier] = schema[earlier] as JsonValue;
    }
    if (next !== undefined) out[key] = next;
  }
  // `nullable` is in DROPPED, so a schema carrying it has been copied into `out` by now.
  if (out !== undefined && schema['nullable'] === true) {
    const type = out['type'];
    if (typeof type === 'string') out['type'] = [type, 'null'];
    else if (Array.isArray(type)) {
      if (!type.includes('null')) out['type'] = [...type, 'null'];
    } else if (Array.isArray(out['anyOf'])) out['anyOf'] = [...out['anyOf'], { type: 'null' }];
  }
  return out ?? schema;
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
