/**
 * Field readers for ingress normalisation, following proto3 JSON as Google's front end applies it: camelCase or
 * snake_case names ([R-JSON-1]), enum names or numbers ([R-JSON-2]), int64 as strings ([R-JSON-3]), and a single
 * value wherever a repeated field is expected (Google's REST samples send `"parts": {"text": …}`). Pure.
 */
import { invalidRequest } from '../../errors.js';
import type { JsonObject } from '../gemini-types.js';

export type Raw = Record<string, unknown>;

export function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads `camel` or its snake_case twin. */
export function field(source: Raw, camel: string, snake: string): unknown {
  const value = source[camel];
  return value === undefined ? source[snake] : value;
}

export function optionalString(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidRequest(`Invalid value at '${path}': expected a string.`);
  return value;
}

export function optionalNumber(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) {
    throw invalidRequest(`Invalid value at '${path}': expected a number.`);
  }
  return number;
}

export function optionalBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidRequest(`Invalid value at '${path}': expected a boolean.`);
  return value;
}

/** A repeated field: absent is empty, and a single value stands for a list of one, as Google accepts. */
export function asList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

export function asJsonObject(value: unknown, path: string): JsonObject {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalidRequest(`Invalid value at '${path}': expected an object.`);
  return value as JsonObject;
}

/**
 * An enum given by name (any case) or by its proto number; `numbered[n]` is the name of number n (a hole where the
 * number is not known), `named` lists further names accepted only as names. Returns the upper-case name, or throws
 * naming the field.
 */
export function enumValue<T extends string>(
  value: unknown,
  numbered: ReadonlyArray<T | undefined>,
  path: string,
  named: readonly T[] = [],
): T {
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value))) {
    const name = numbered[Number(value)];
    if (name !== undefined) return name;
  } else if (typeof value === 'string') {
    const upper = value.toUpperCase();
    const match = [...numbered, ...named].find((name) => name === upper);
    if (match !== undefined) return match;
  }
  const allowed = [...numbered, ...named].filter((name): name is T => name !== undefined);
  // The value is shown when it is a scalar: an object or list would put JSON into the message ([R-ERR-8]).
  const shown = typeof value === 'object' && value !== null ? '' : ` (${String(JSON.stringify(value)).slice(0, 80)})`;
  throw invalidRequest(`Invalid value at '${path}'${shown}: expected one of ${allowed.join(', ')}.`);
}

/** Keys of `source` not in `known` (either spelling), reported under `path` as ignored. */
export function unknownKeys(source: Raw, known: ReadonlySet<string>, path: string): string[] {
  const out: string[] = [];
  for (const key of Object.keys(source)) {
    // Most keys are known camelCase names: no conversion for them.
    if (known.has(key)) continue;
    const camel = key.includes('_') ? key.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase()) : key;
    if (!known.has(camel)) out.push(path === '' ? camel : `${path}.${camel}`);
  }
  return out;
}
