/**
 * Grammar-based generation of Gemini REST requests for the fuzzer, then mutation. The grammar follows the request
 * schema of docs/gemini-contract.md §3 (contents and parts of every kind, systemInstruction, tools with Gemini `Schema`
 * and `parametersJsonSchema`, toolConfig, generationConfig with every field), and §1 for paths, methods and query
 * strings. Mutations break it in the ways clients and attackers do: type swaps, missing fields, huge strings, deep
 * nesting, invalid UTF-8, random bytes, wrong content types, snake_case, odd URLs and methods, huge headers.
 *
 * Everything is drawn from a seeded PRNG: case `i` of seed `s` is always the same bytes, so a failure is reproduced
 * with `--seed s --case i`.
 */

/** mulberry32: small, fast, good enough for test generation. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uint32. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  float(): number {
    return this.next() / 4294967296;
  }

  /** 0 ≤ n < max. */
  int(max: number): number {
    return max <= 0 ? 0 : Math.floor(this.float() * max);
  }

  /** min ≤ n ≤ max. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** Picks by weight: [[weight, value], …]. */
  weighted<T>(entries: ReadonlyArray<readonly [number, T]>): T {
    const total = entries.reduce((sum, [weight]) => sum + weight, 0);
    let roll = this.float() * total;
    for (const [weight, value] of entries) {
      roll -= weight;
      if (roll < 0) return value;
    }
    const last = entries[entries.length - 1];
    if (last === undefined) throw new Error('weighted pick from an empty list');
    return last[1];
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let index = 0; index < length; index += 4) {
      const value = this.next();
      for (let byte = 0; byte < 4 && index + byte < length; byte += 1)
        out[index + byte] = (value >>> (byte * 8)) & 0xff;
    }
    return out;
  }
}

/** The seed of case `index` of a run seeded with `seed` (so any case can be replayed alone). */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Sets a key as an own property, `__proto__` included (plain assignment would change the prototype instead). */
function put(target: JsonObject, key: string, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Vocabulary

/** Model names that the fuzz proxy config routes to an upstream fault (see harness.ts FUZZ_FAULT_MODELS). */
export const FAULT_MODELS = [
  'fuzz-fault-err-500',
  'fuzz-fault-err-502',
  'fuzz-fault-err-503',
  'fuzz-fault-err-429',
  'fuzz-fault-err-400',
  'fuzz-fault-err-401',
  'fuzz-fault-err-402',
  'fuzz-fault-err-404',
  'fuzz-fault-err-408',
  'fuzz-fault-err-422',
  'fuzz-fault-garbage-json',
  'fuzz-fault-garbage-sse',
  'fuzz-fault-no-done',
  'fuzz-fault-midstream-error',
  'fuzz-fault-reset',
  'fuzz-fault-empty',
  'fuzz-down',
] as const;

/** Models that reach a healthy upstream through one provider profile or another, or through a fallback. */
export const HEALTHY_MODELS = [
  'gemini-2.5-pro',
  'gemini-3-flash-preview',
  'gemini-3.5-flash-lite',
  'gemini-3.8-flash',
  'gemini-embedding-001',
  'fuzz-kimi',
  'fuzz-deepseek',
  'fuzz-azure',
  'fuzz-llamacpp',
  'fuzz-vllm',
  'fuzz-ollama',
  'fuzz-zhipu',
  'fuzz-dashscope',
  'fuzz-groq',
  'fuzz-openrouter',
  'fuzz-openai',
  'fuzz-fallback',
  'qwen3:8b',
  'openai/gpt-4o',
  'some-model',
] as const;

type GeminiMethod = 'generateContent' | 'streamGenerateContent' | 'countTokens' | 'embedContent' | 'batchEmbedContents';

const WEIRD_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\u2028\u2029',
  '\ud800',
  '\udfff\ud800',
  '😀👍🏽‍♂️',
  'é\u0301',
  '\u202e\u202d',
  '\r\n\r\n',
  'data: [DONE]\n\n',
  '{"error":{"code":500}}',
  '</script><script>alert(1)</script>',
  '%s%n%x',
  '${jndi:ldap://x}',
  '../../../etc/passwd',
  'null',
  'undefined',
  'NaN',
  '__proto__',
  'constructor',
  'toString',
  'Please retry in 5s',
  'limit: 0',
  'MODEL_CAPACITY_EXHAUSTED',
  '\t\u000b\u000c',
  'ｆｕｌｌｗｉｄｔｈ',
  '中文测试',
  'ثم',
];

const MIME_TYPES = [
  'image/png',
  'image/jpeg',
  'image/webp',
  'image/gif',
  'application/pdf',
  'text/plain',
  'audio/wav',
  'video/mp4',
  'application/octet-stream',
  '',
  'image/svg+xml',
  'x/y',
];

function randomString(rng: Rng, maxLength = 40): string {
  const kind = rng.int(6);
  if (kind === 0) return rng.pick(WEIRD_STRINGS);
  const length = rng.int(maxLength);
  let out = '';
  for (let index = 0; index < length; index += 1) {
    const roll = rng.int(20);
    if (roll < 14) out += String.fromCharCode(rng.range(0x20, 0x7e));
    else if (roll < 16) out += String.fromCharCode(rng.range(0, 0x1f));
    else if (roll < 18) out += String.fromCharCode(rng.range(0x80, 0xffff));
    else if (roll < 19) out += String.fromCodePoint(rng.range(0x10000, 0x10ffff));
    else out += rng.pick(WEIRD_STRINGS);
  }
  return out;
}

function identifier(rng: Rng): string {
  const words = [
    'read_file',
    'list_directory',
    'run_shell_command',
    'get_weather',
    'search',
    'write_file',
    'glob',
    'web_fetch',
    'f',
    'tool',
  ];
  if (rng.chance(0.7)) return rng.pick(words);
  if (rng.chance(0.5)) return `${rng.pick(words)}_${rng.int(1000)}`;
  return randomString(rng, 80);
}

function randomNumber(rng: Rng): number {
  return rng.pick([
    0,
    1,
    -1,
    0.5,
    2,
    7,
    100,
    1e9,
    -1e9,
    1e308,
    -1e308,
    5e-324,
    2 ** 53,
    2 ** 31,
    -(2 ** 31),
    3.14159,
    65536,
    1000000,
  ]);
}

/** Any JSON value; nested to at most `depth`. */
export function randomJson(rng: Rng, depth = 3): Json {
  const roll = rng.int(depth > 0 ? 8 : 5);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return randomNumber(rng);
    case 3:
    case 4:
      return randomString(rng);
    case 5:
    case 6: {
      const out: JsonObject = {};
      const count = rng.int(4);
      for (let index = 0; index < count; index += 1)
        put(out, rng.chance(0.7) ? identifier(rng) : randomString(rng, 12), randomJson(rng, depth - 1));
      return out;
    }
    default:
      return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth - 1));
  }
}

function randomObject(rng: Rng, depth: number): JsonObject {
  const value = randomJson(rng, depth);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : { value };
}

/** A value of a different JSON type than `value`. */
function swapType(rng: Rng, value: Json): Json {
  const options: Json[] = [null, true, 42, -1.5, 'str', '', [], {}, [1, 'a'], { x: 1 }];
  const currentType = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const different = options.filter(
    (option) => (option === null ? 'null' : Array.isArray(option) ? 'array' : typeof option) !== currentType,
  );
  return rng.pick(different);
}

// ---------------------------------------------------------------------------------------------------------------
// Grammar: schemas

const GEMINI_TYPES = [
  'STRING',
  'NUMBER',
  'INTEGER',
  'BOOLEAN',
  'ARRAY',
  'OBJECT',
  'TYPE_UNSPECIFIED',
  'NULL',
  'string',
  'object',
];
const JSON_TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object', 'null'];

function geminiSchema(rng: Rng, depth: number): JsonObject {
  const type = depth <= 0 ? rng.pick(['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN']) : rng.pick(GEMINI_TYPES);
  const schema: JsonObject = { type };
  if (rng.chance(0.4)) schema['description'] = randomString(rng, 60);
  if (rng.chance(0.15)) schema['nullable'] = rng.chance(0.8);
  if (rng.chance(0.1)) schema['format'] = rng.pick(['enum', 'int64', 'int32', 'float', 'date-time', 'email', 'uri']);
  if (type === 'STRING' && rng.chance(0.3))
    schema['enum'] = Array.from({ length: rng.range(1, 4) }, () => randomString(rng, 8));
  if ((type === 'OBJECT' || type === 'object') && depth > 0) {
    const properties: JsonObject = {};
    const count = rng.int(5);
    for (let index = 0; index < count; index += 1) put(properties, identifier(rng), geminiSchema(rng, depth - 1));
    schema['properties'] = properties;
    if (rng.chance(0.5)) schema['required'] = Object.keys(properties).filter(() => rng.chance(0.6));
    if (rng.chance(0.2)) schema['propertyOrdering'] = Object.keys(properties);
  }
  if (type === 'ARRAY' && depth > 0) {
    schema['items'] = geminiSchema(rng, depth - 1);
    if (rng.chance(0.3)) schema['minItems'] = rng.chance(0.5) ? String(rng.int(5)) : rng.int(5);
    if (rng.chance(0.3)) schema['maxItems'] = rng.chance(0.5) ? String(rng.range(5, 50)) : rng.range(5, 50);
  }
  if (rng.chance(0.08) && depth > 0) schema['anyOf'] = [geminiSchema(rng, depth - 1), geminiSchema(rng, depth - 1)];
  if (rng.chance(0.05)) schema['minimum'] = rng.chance(0.5) ? '1' : randomNumber(rng);
  if (rng.chance(0.03)) schema['example'] = randomJson(rng, 2);
  return schema;
}

function jsonSchema(rng: Rng, depth: number, root = false): Json {
  if (!root && rng.chance(0.05)) return rng.chance(0.5);
  const schema: JsonObject = {};
  if (root && rng.chance(0.3)) schema['$schema'] = 'http://json-schema.org/draft-07/schema#';
  const type =
    depth <= 0
      ? rng.pick(['string', 'number', 'boolean'])
      : rng.chance(0.1)
        ? rng.pick([
            ['string', 'null'],
            ['object', 'array'],
          ])
        : rng.pick(JSON_TYPES);
  if (rng.chance(0.9)) schema['type'] = type;
  if (type === 'object' && depth > 0) {
    const properties: JsonObject = {};
    const count = rng.int(5);
    for (let index = 0; index < count; index += 1) put(properties, identifier(rng), jsonSchema(rng, depth - 1));
    schema['properties'] = properties;
    if (rng.chance(0.5)) schema['required'] = Object.keys(properties);
    if (rng.chance(0.3)) schema['additionalProperties'] = rng.chance(0.5) ? false : jsonSchema(rng, depth - 1);
  }
  if (type === 'array' && depth > 0) schema['items'] = jsonSchema(rng, depth - 1);
  if (root && rng.chance(0.2)) {
    schema['$defs'] = {
      Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' }, value: { type: 'string' } } },
    };
    schema['properties'] = {
      ...(typeof schema['properties'] === 'object' &&
      schema['properties'] !== null &&
      !Array.isArray(schema['properties'])
        ? schema['properties']
        : {}),
      tree: { $ref: '#/$defs/Node' },
    };
  }
  if (rng.chance(0.05))
    schema['$ref'] = rng.pick(['#/definitions/X', '#/$defs/Node', 'http://example.com/schema', '#']);
  if (rng.chance(0.05) && depth > 0) schema['oneOf'] = [jsonSchema(rng, depth - 1), jsonSchema(rng, depth - 1)];
  if (rng.chance(0.05) && depth > 0) schema['allOf'] = [jsonSchema(rng, depth - 1)];
  if (rng.chance(0.05)) schema['enum'] = [randomJson(rng, 0), randomJson(rng, 0)];
  if (rng.chance(0.05)) schema['const'] = randomJson(rng, 0);
  if (rng.chance(0.05)) schema['pattern'] = rng.pick(['^[a-z]+$', '(', '\\', '.*']);
  return schema;
}

// ---------------------------------------------------------------------------------------------------------------
// Grammar: requests

function base64(rng: Rng, length: number): string {
  return rng.bytes(length).toString('base64');
}

function part(rng: Rng, role: string): JsonObject {
  const kind = rng.weighted<string>([
    [10, 'text'],
    [2, 'thought'],
    [2, 'inlineData'],
    [1, 'fileData'],
    [role === 'model' ? 4 : 1, 'functionCall'],
    [role === 'model' ? 1 : 4, 'functionResponse'],
    [1, 'executableCode'],
    [1, 'codeExecutionResult'],
    [1, 'empty'],
    [1, 'mixed'],
  ]);
  switch (kind) {
    case 'text':
      return rng.chance(0.1)
        ? { text: randomString(rng, 400), thoughtSignature: base64(rng, 24) }
        : { text: rng.chance(0.5) ? 'say hi' : randomString(rng, 200) };
    case 'thought':
      return {
        text: randomString(rng, 100),
        thought: true,
        ...(rng.chance(0.5)
          ? { thoughtSignature: rng.chance(0.5) ? 'skip_thought_signature_validator' : base64(rng, 32) }
          : {}),
      };
    case 'inlineData':
      return {
        inlineData: {
          mimeType: rng.pick(MIME_TYPES),
          data: rng.chance(0.85)
            ? base64(rng, rng.range(1, 300))
            : rng.pick(['!!!not base64!!!', '', '====', 'data:image/png;base64,AAAA']),
        },
      };
    case 'fileData':
      return {
        fileData: {
          ...(rng.chance(0.8) ? { mimeType: rng.pick(MIME_TYPES) } : {}),
          fileUri: rng.pick([
            'https://example.com/a.png',
            'gs://bucket/x.pdf',
            'files/abc-123',
            '',
            'javascript:alert(1)',
            randomString(rng, 30),
          ]),
        },
      };
    case 'functionCall':
      return {
        functionCall: {
          name: identifier(rng),
          args: rng.chance(0.9) ? randomObject(rng, 3) : randomJson(rng, 3),
          ...(rng.chance(0.5) ? { id: rng.chance(0.5) ? `call_${rng.int(1e6)}` : randomString(rng, 20) } : {}),
        },
        ...(rng.chance(0.3)
          ? { thoughtSignature: rng.chance(0.5) ? 'skip_thought_signature_validator' : base64(rng, 16) }
          : {}),
      };
    case 'functionResponse': {
      const response: JsonObject = {
        name: identifier(rng),
        response: rng.chance(0.7)
          ? { output: randomString(rng, 200) }
          : rng.chance(0.5)
            ? { error: randomString(rng, 50) }
            : rng.chance(0.8)
              ? randomObject(rng, 3)
              : randomJson(rng, 3),
      };
      if (rng.chance(0.5)) response['id'] = `call_${rng.int(1e6)}`;
      if (rng.chance(0.1)) response['parts'] = [{ inlineData: { mimeType: 'image/png', data: base64(rng, 40) } }];
      return { functionResponse: response };
    }
    case 'executableCode':
      return {
        executableCode: { language: rng.pick(['PYTHON', 'LANGUAGE_UNSPECIFIED', 'js']), code: randomString(rng, 80) },
      };
    case 'codeExecutionResult':
      return {
        codeExecutionResult: {
          outcome: rng.pick(['OUTCOME_OK', 'OUTCOME_FAILED', 'OUTCOME_DEADLINE_EXCEEDED']),
          output: randomString(rng, 80),
        },
      };
    case 'empty':
      return rng.pick<JsonObject>([
        {},
        { text: '' },
        { thought: true },
        { unknownField: 1 },
        { videoMetadata: { startOffset: '1s' } },
      ]);
    default:
      return {
        text: randomString(rng, 30),
        inlineData: { mimeType: 'image/png', data: base64(rng, 8) },
        functionCall: { name: identifier(rng), args: {} },
      };
  }
}

function content(rng: Rng, role: string | undefined): JsonObject {
  const parts = Array.from(
    {
      length: rng.weighted([
        [1, 0],
        [10, 1],
        [4, 2],
        [2, 4],
      ]),
    },
    () => part(rng, role ?? 'user'),
  );
  const out: JsonObject = { parts };
  if (role !== undefined) out['role'] = role;
  return out;
}

function contents(rng: Rng): Json[] {
  const turns = rng.weighted([
    [8, 1],
    [4, 2],
    [3, 3],
    [2, 6],
    [1, 12],
  ]);
  const out: Json[] = [];
  for (let index = 0; index < turns; index += 1) {
    const role = rng.weighted<string | undefined>([
      [10, index % 2 === 0 ? 'user' : 'model'],
      [2, undefined],
      [1, 'function'],
      [1, 'system'],
      [1, 'assistant'],
      [1, randomString(rng, 10)],
    ]);
    out.push(content(rng, role));
  }
  return out;
}

function functionDeclaration(rng: Rng): JsonObject {
  const declaration: JsonObject = { name: identifier(rng) };
  if (rng.chance(0.8)) declaration['description'] = randomString(rng, 120);
  const form = rng.weighted<string>([
    [5, 'parameters'],
    [5, 'parametersJsonSchema'],
    [1, 'none'],
    [1, 'both'],
  ]);
  if (form === 'parameters' || form === 'both') declaration['parameters'] = geminiSchema(rng, rng.range(1, 4));
  if (form === 'parametersJsonSchema' || form === 'both')
    declaration['parametersJsonSchema'] = jsonSchema(rng, rng.range(1, 4), true);
  if (rng.chance(0.05)) declaration['response'] = geminiSchema(rng, 1);
  if (rng.chance(0.05)) declaration['behavior'] = rng.pick(['BLOCKING', 'NON_BLOCKING']);
  return declaration;
}

function tools(rng: Rng): Json[] {
  const out: Json[] = [];
  const count = rng.weighted([
    [4, 1],
    [2, 2],
    [1, 3],
  ]);
  for (let index = 0; index < count; index += 1) {
    const kind = rng.weighted<string>([
      [10, 'functions'],
      [1, 'googleSearch'],
      [1, 'codeExecution'],
      [1, 'urlContext'],
      [1, 'googleSearchRetrieval'],
      [1, 'other'],
    ]);
    if (kind === 'functions')
      out.push({
        functionDeclarations: Array.from(
          {
            length: rng.weighted([
              [1, 0],
              [6, 1],
              [3, 3],
              [1, 12],
            ]),
          },
          () => functionDeclaration(rng),
        ),
      });
    else if (kind === 'other') out.push({ [randomString(rng, 12)]: randomJson(rng, 1) });
    else out.push({ [kind]: {} });
  }
  return out;
}

function toolConfig(rng: Rng): JsonObject {
  const calling: JsonObject = {
    mode: rng.pick<Json>([
      'AUTO',
      'ANY',
      'NONE',
      'VALIDATED',
      'MODE_UNSPECIFIED',
      0,
      1,
      2,
      3,
      4,
      9,
      'any',
      'bogus',
      null,
    ]),
  };
  if (rng.chance(0.4)) calling['allowedFunctionNames'] = Array.from({ length: rng.int(4) }, () => identifier(rng));
  return { functionCallingConfig: calling };
}

function generationConfig(rng: Rng): JsonObject {
  const config: JsonObject = {};
  const maybe = (key: string, value: () => Json, probability = 0.35): void => {
    if (rng.chance(probability)) config[key] = value();
  };
  const wrong =
    (value: () => Json): (() => Json) =>
    () =>
      rng.chance(0.1) ? swapType(rng, value()) : value();
  maybe(
    'temperature',
    wrong(() => rng.pick([0, 0.2, 0.7, 1, 1.5, 2, -1, 5, '0.5'])),
  );
  maybe(
    'topP',
    wrong(() => rng.pick([0, 0.1, 0.95, 1, 1.2, '0.9'])),
  );
  maybe(
    'topK',
    wrong(() => rng.pick([1, 40, 64, 0, -5, '40', 1.5])),
  );
  maybe(
    'maxOutputTokens',
    wrong(() => rng.pick([1, 100, 8192, 65536, 0, -1, '1024', 1e12])),
  );
  maybe(
    'stopSequences',
    wrong(() => Array.from({ length: rng.int(6) }, () => randomString(rng, 10))),
  );
  maybe(
    'candidateCount',
    wrong(() => rng.pick([1, 2, 0, 8, '1'])),
    0.15,
  );
  maybe(
    'seed',
    wrong(() => rng.pick([0, 42, -1, 2 ** 40, '12345678901234567890'])),
  );
  maybe(
    'presencePenalty',
    wrong(() => rng.pick([0, 0.5, -2, 2, 3])),
  );
  maybe(
    'frequencyPenalty',
    wrong(() => rng.pick([0, 0.5, -2, 2, 3])),
  );
  maybe(
    'responseMimeType',
    wrong(() => rng.pick(['text/plain', 'application/json', 'text/x.enum', 'application/xml', ''])),
  );
  maybe('responseSchema', () => geminiSchema(rng, rng.range(0, 3)), 0.15);
  maybe('responseJsonSchema', () => jsonSchema(rng, rng.range(0, 3), true), 0.15);
  maybe(
    'responseModalities',
    wrong(() => rng.pick<Json>([['TEXT'], ['IMAGE'], ['AUDIO'], ['TEXT', 'IMAGE'], [], [1]])),
    0.1,
  );
  maybe(
    'thinkingConfig',
    wrong(() => {
      const thinking: JsonObject = {};
      if (rng.chance(0.6)) thinking['includeThoughts'] = rng.chance(0.1) ? 'yes' : rng.chance(0.5);
      if (rng.chance(0.6))
        thinking['thinkingBudget'] = rng.pick<Json>([-1, 0, 128, 1024, 8192, 24576, 1e9, '512', 'auto']);
      if (rng.chance(0.3))
        thinking['thinkingLevel'] = rng.pick<Json>([
          'LOW',
          'HIGH',
          'MEDIUM',
          'minimal',
          'THINKING_LEVEL_UNSPECIFIED',
          3,
        ]);
      return thinking;
    }),
  );
  maybe('responseLogprobs', () => rng.chance(0.5), 0.05);
  maybe('logprobs', () => rng.int(10), 0.05);
  maybe('mediaResolution', () => rng.pick(['MEDIA_RESOLUTION_LOW', 'MEDIA_RESOLUTION_HIGH']), 0.05);
  maybe('speechConfig', () => ({ voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } }), 0.03);
  maybe('enableEnhancedCivicAnswers', () => rng.chance(0.5), 0.02);
  maybe(randomString(rng, 12), () => randomJson(rng, 2), 0.05);
  return config;
}

/** A GenerateContentRequest, mostly well-formed (the mutations break it afterwards). */
export function generateContentRequest(rng: Rng): JsonObject {
  const request: JsonObject = {};
  request['contents'] = contents(rng);
  if (rng.chance(0.4))
    request['systemInstruction'] = rng.chance(0.15)
      ? randomString(rng, 100)
      : content(rng, rng.chance(0.5) ? 'user' : undefined);
  if (rng.chance(0.45)) request['tools'] = tools(rng);
  if (rng.chance(0.2)) request['toolConfig'] = toolConfig(rng);
  if (rng.chance(0.6)) request['generationConfig'] = generationConfig(rng);
  if (rng.chance(0.05))
    request['safetySettings'] = [
      { category: 'HARM_CATEGORY_HARASSMENT', threshold: rng.pick(['BLOCK_NONE', 'OFF', 7]) },
    ];
  if (rng.chance(0.02)) request['cachedContent'] = rng.pick(['cachedContents/abc', '']);
  if (rng.chance(0.03)) request['labels'] = { team: 'x' };
  if (rng.chance(0.03)) request['model'] = `models/${rng.pick(HEALTHY_MODELS)}`;
  return request;
}

function embedRequest(rng: Rng): JsonObject {
  const request: JsonObject = { content: content(rng, rng.chance(0.3) ? 'user' : undefined) };
  if (rng.chance(0.7))
    request['content'] = { parts: Array.from({ length: rng.range(1, 3) }, () => ({ text: randomString(rng, 100) })) };
  if (rng.chance(0.3))
    request['taskType'] = rng.pick(['RETRIEVAL_QUERY', 'RETRIEVAL_DOCUMENT', 'SEMANTIC_SIMILARITY', 'BOGUS', 3]);
  if (rng.chance(0.2)) request['title'] = randomString(rng, 20);
  if (rng.chance(0.3)) request['outputDimensionality'] = rng.pick<Json>([3, 256, 768, 0, -1, 1.5, '3', 1e9]);
  if (rng.chance(0.3))
    request['model'] =
      `models/${rng.pick(['gemini-embedding-001', 'text-embedding-004', 'fuzz-kimi', 'fuzz-fault-err-503'])}`;
  return request;
}

function bodyFor(rng: Rng, method: GeminiMethod | 'other'): Json {
  switch (method) {
    case 'generateContent':
    case 'streamGenerateContent':
      return generateContentRequest(rng);
    case 'countTokens':
      return rng.chance(0.7)
        ? { contents: contents(rng) }
        : { generateContentRequest: { model: 'models/gemini-2.5-pro', ...generateContentRequest(rng) } };
    case 'embedContent':
      return embedRequest(rng);
    case 'batchEmbedContents':
      return {
        requests: Array.from(
          {
            length: rng.weighted([
              [1, 0],
              [6, 1],
              [3, 3],
              [1, 25],
            ]),
          },
          () => embedRequest(rng),
        ),
      };
    case 'other':
    default:
      return randomJson(rng, 3);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Mutations of the JSON tree

interface Slot {
  parent: JsonObject | Json[];
  key: string | number;
  value: Json;
}

/** Every (parent, key) position in the tree, up to a limit (breadth-first). */
function slots(root: Json, limit = 400): Slot[] {
  const out: Slot[] = [];
  const queue: Json[] = [root];
  while (queue.length > 0 && out.length < limit) {
    const node = queue.shift();
    if (Array.isArray(node)) {
      node.forEach((value, index) => {
        out.push({ parent: node, key: index, value });
        queue.push(value);
      });
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        out.push({ parent: node, key, value });
        queue.push(value);
      }
    }
  }
  return out;
}

function setSlot(slot: Slot, value: Json): void {
  if (Array.isArray(slot.parent)) slot.parent[slot.key as number] = value;
  else put(slot.parent, slot.key as string, value);
}

function deleteSlot(slot: Slot): void {
  if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
  else delete slot.parent[slot.key as string];
}

/**
 * Deeply nested values are too deep for JSON.stringify (about 10,000 levels overflow its stack), so the tree holds a
 * marker string and `serialise` splices the nested text in.
 */
const DEEP_MARKER = '\u{10fffe}DEEP';
const DEEP_SHAPES: Record<string, readonly [string, string]> = {
  array: ['[', ']'],
  object: ['{"a":', '}'],
  schema: ['{"type":"OBJECT","properties":{"a":', '}}'],
  'schema-items': ['{"type":"ARRAY","items":', '}'],
  'json-schema': ['{"type":"object","properties":{"a":', '},"required":["a"]}'],
  struct: ['{"x":1,"items":[', ']}'],
  parts: ['{"functionResponse":{"name":"f","response":{},"parts":[', ']}}'],
};

/** A marker for a value nested `depth` levels deep: arrays, objects, Gemini Schema, JSON Schema or Struct shapes. */
export function deepValue(
  rng: Rng,
  depth: number,
  shape = rng.pick(['array', 'object', 'schema', 'struct', 'parts']),
): Json {
  return `${DEEP_MARKER}:${shape}:${depth}:${rng.chance(0.5) ? 'S' : 'N'}`;
}

function deepText(shape: string, depth: number, leaf: string): string {
  const [open, close] = DEEP_SHAPES[shape] ?? ['[', ']'];
  return `${open.repeat(depth)}${shape.startsWith('schema') ? '{"type":"STRING"}' : shape === 'json-schema' ? '{"type":"string"}' : leaf}${close.repeat(depth)}`;
}

/** A tool whose schema is nested `depth` levels deep (normalizeSchema and the Kimi rewriter recurse on it). */
function deepSchemaRequest(rng: Rng, depth: number): JsonObject {
  const declaration: JsonObject = { name: 'deep', description: 'deep schema' };
  const shape = rng.pick(['schema', 'schema-items', 'json-schema']);
  if (shape === 'json-schema') declaration['parametersJsonSchema'] = deepValue(rng, depth, shape);
  else declaration['parameters'] = deepValue(rng, depth, shape);
  return { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], tools: [{ functionDeclarations: [declaration] }] };
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

function snakeKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (typeof value === 'object' && value !== null) {
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value)) put(out, snakeCase(key), snakeKeys(child));
    return out;
  }
  return value;
}

function hugeString(rng: Rng, maxBytes: number): string {
  const length = rng.weighted([
    [6, rng.range(10_000, 200_000)],
    [3, rng.range(200_000, Math.min(1_500_000, maxBytes))],
    [1, rng.range(maxBytes, maxBytes + 500_000)],
  ]);
  const unit = rng.pick(['a', 'é', '😀', 'lorem ipsum ', '\\', '"', '\n', '\u0000']);
  return unit.repeat(Math.max(1, Math.floor(length / Buffer.byteLength(JSON.stringify(unit)))));
}

/** Marker for invalid UTF-8 bytes spliced into a JSON string after serialisation. */
const BYTES_MARKER = '\u{10fffd}BYTES\u{10fffd}';

export interface TreeMutationLimits {
  /** body_limit_mb of the proxy under test, in bytes: huge strings straddle it. */
  bodyLimitBytes: number;
}

/** Applies 0…n random mutations to a request tree; returns the (possibly replaced) tree and their names. */
function mutateTree(rng: Rng, root: Json, limits: TreeMutationLimits, notes: string[]): Json {
  let tree = root;
  const count = rng.weighted([
    [16, 0],
    [6, 1],
    [3, 2],
    [1, 4],
  ]);
  for (let round = 0; round < count; round += 1) {
    const all = slots(tree);
    const slot = all.length > 0 ? rng.pick(all) : undefined;
    const mutation = rng.weighted<string>([
      [6, 'type-swap'],
      [5, 'delete'],
      [3, 'insert'],
      [2, 'weird-string'],
      [1, 'huge-string'],
      [1, 'deep-nesting'],
      [2, 'invalid-utf8'],
      [2, 'snake_case'],
      [1, 'duplicate-array'],
      [1, 'number-edge'],
      [1, 'replace-root'],
    ]);
    if (slot === undefined && mutation !== 'replace-root' && mutation !== 'snake_case') continue;
    switch (mutation) {
      case 'type-swap':
        setSlot(slot as Slot, swapType(rng, (slot as Slot).value));
        notes.push(`type-swap@${String((slot as Slot).key)}`);
        break;
      case 'delete':
        deleteSlot(slot as Slot);
        notes.push(`delete@${String((slot as Slot).key)}`);
        break;
      case 'insert': {
        const target = (slot as Slot).value;
        const key = rng.pick([
          'contents',
          'parts',
          'text',
          'role',
          'functionCall',
          'args',
          'type',
          'properties',
          'items',
          '__proto__',
          'constructor',
          'error',
          'inline_data',
          'mime_type',
          randomString(rng, 10),
        ]);
        if (Array.isArray(target)) target.push(randomJson(rng, 2));
        else if (typeof target === 'object' && target !== null) put(target, key, randomJson(rng, 2));
        else setSlot(slot as Slot, { [key]: target });
        notes.push(`insert ${JSON.stringify(key)}`);
        break;
      }
      case 'weird-string':
        setSlot(slot as Slot, rng.pick(WEIRD_STRINGS) + randomString(rng, 20));
        notes.push('weird-string');
        break;
      case 'huge-string': {
        const value = hugeString(rng, limits.bodyLimitBytes);
        setSlot(slot as Slot, value);
        notes.push(`huge-string(${value.length} chars)`);
        break;
      }
      case 'deep-nesting': {
        const depth = rng.weighted([
          [5, rng.range(1000, 3000)],
          [3, rng.range(3000, 20_000)],
          [1, rng.range(20_000, 200_000)],
        ]);
        setSlot(slot as Slot, deepValue(rng, depth));
        notes.push(`deep-nesting(${depth})`);
        break;
      }
      case 'invalid-utf8':
        setSlot(slot as Slot, `${randomString(rng, 10)}${BYTES_MARKER}${randomString(rng, 10)}`);
        notes.push('invalid-utf8');
        break;
      case 'snake_case':
        tree = snakeKeys(tree);
        notes.push('snake_case');
        break;
      case 'duplicate-array': {
        const target = (slot as Slot).value;
        if (Array.isArray(target) && target.length > 0) {
          // Independent copies (a later mutation inside one must not repeat in all), at most about 2 MB of them.
          const text = JSON.stringify(target[0]);
          const copies = Math.min(rng.range(50, 2000), Math.floor(2_000_000 / Math.max(1, text.length)));
          for (let index = 0; index < copies; index += 1) target.push(JSON.parse(text) as Json);
          notes.push(`duplicate-array(${copies})`);
        }
        break;
      }
      case 'number-edge':
        setSlot(slot as Slot, rng.pick<Json>([1e308, -1e308, 5e-324, 2 ** 64, -0, 1.0000000000000002, 2 ** 53 + 1]));
        notes.push('number-edge');
        break;
      default:
        tree = rng.pick<Json>([null, [], 'string', 42, true, [tree], { request: tree }]);
        notes.push('replace-root');
    }
  }
  return tree;
}

const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0x80],
  [0xe0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
  [0xc3],
  [0xf0, 0x9f, 0x98],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

function serialise(rng: Rng, tree: Json): Buffer {
  // A marker copied many times (duplicate-array) would expand past the longest string: at most 8 MB of nesting.
  let budget = 8_000_000;
  const text = JSON.stringify(tree).replace(
    /"\u{10fffe}DEEP:([\w-]+):(\d+):([SN])"/gu,
    (_match, shape: string, depth: string, leaf: string) => {
      const nested = budget > 0 ? deepText(shape, Number(depth), leaf === 'S' ? '"leaf"' : '1') : '1';
      budget -= nested.length;
      return nested;
    },
  );
  if (!text.includes(BYTES_MARKER)) return Buffer.from(text, 'utf8');
  const pieces = text.split(BYTES_MARKER);
  const buffers: Buffer[] = [];
  pieces.forEach((piece, index) => {
    buffers.push(Buffer.from(piece, 'utf8'));
    if (index < pieces.length - 1) {
      const count = rng.range(1, 4);
      for (let n = 0; n < count; n += 1) buffers.push(Buffer.from(rng.pick(INVALID_UTF8)));
    }
  });
  return Buffer.concat(buffers);
}

/** Byte-level damage to a serialised body. */
function mutateBytes(rng: Rng, body: Buffer, notes: string[]): Buffer {
  const mutation = rng.weighted<string>([
    [50, 'none'],
    [2, 'truncate'],
    [1, 'random-bytes'],
    [1, 'empty'],
    [1, 'bom'],
    [1, 'trailing-garbage'],
    [1, 'flip-bytes'],
    [1, 'invalid-utf8-anywhere'],
    [1, 'json5-ish'],
    [1, 'deep-raw'],
  ]);
  switch (mutation) {
    case 'none':
      return body;
    case 'truncate':
      notes.push('truncated');
      return body.subarray(0, rng.int(body.length));
    case 'random-bytes':
      notes.push('random-bytes');
      return rng.bytes(
        rng.weighted([
          [5, rng.range(1, 200)],
          [2, rng.range(200, 20_000)],
          [1, rng.range(20_000, 300_000)],
        ]),
      );
    case 'empty':
      notes.push('empty-body');
      return Buffer.alloc(0);
    case 'bom':
      notes.push('bom');
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
    case 'trailing-garbage':
      notes.push('trailing-garbage');
      return Buffer.concat([body, Buffer.from(rng.pick(['}', ']', ',', 'garbage', '\u0000', '{"a":1}', '\n\n']))]);
    case 'flip-bytes': {
      notes.push('flip-bytes');
      const copy = Buffer.from(body);
      const flips = rng.range(1, 8);
      for (let index = 0; index < flips && copy.length > 0; index += 1) copy[rng.int(copy.length)] = rng.int(256);
      return copy;
    }
    case 'invalid-utf8-anywhere': {
      notes.push('invalid-utf8-anywhere');
      const at = rng.int(body.length + 1);
      return Buffer.concat([body.subarray(0, at), Buffer.from(rng.pick(INVALID_UTF8)), body.subarray(at)]);
    }
    case 'json5-ish':
      notes.push('json5-ish');
      return Buffer.from(
        rng.pick([
          "{contents:[{parts:[{text:'hi'}]}]}",
          '{"contents":[{"parts":[{"text":"hi"},]}],}',
          '// c\n{"contents":[]}',
          '{"contents":NaN}',
          '{"contents":[{"parts":[{"text":"\\x41"}]}]}',
          '{"a":1e999999}',
          '{"contents":[{"parts":[{"text":"\\ud800"}]}]}',
        ]),
      );
    default: {
      const depth = rng.range(1000, 300_000);
      notes.push(`deep-raw(${depth})`);
      const open = rng.chance(0.5) ? '[' : '{"a":';
      const close = open === '[' ? ']' : '}';
      return Buffer.from(
        `{"contents":[{"parts":[{"text":"x","functionCall":${open.repeat(depth)}1${close.repeat(rng.chance(0.9) ? depth : depth - 1)}}]}]}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// URLs, methods, headers

/** Percent-encodes the UTF-8 bytes of `text` (lone surrogates become U+FFFD, as on the wire); never throws. */
export function encodeUriComponentSafe(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.~-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function percentEncodeSome(rng: Rng, text: string): string {
  let out = '';
  for (const char of text)
    out += rng.chance(0.3)
      ? encodeUriComponentSafe(char).replace(/[._~-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
      : char;
  return out;
}

/**
 * Names around the 256-byte limit, in the shapes that made a backtracking glob slow (`gemini-` and a long run of
 * dashes against `gemini-*-*-*-pro`, long runs of `a` against `*a*a*a…b`), multi-byte ones whose byte length crosses
 * the limit before their character count does, and names the glob-heavy routes match.
 */
function longModelName(rng: Rng): string {
  const length = rng.weighted([
    [3, rng.range(240, 270)],
    [2, rng.range(100, 256)],
    [1, rng.range(270, 4000)],
  ]);
  return rng.pick<() => string>([
    () => `gemini-${'-'.repeat(Math.max(1, length - 8))}x`,
    () => `gemini-${'-'.repeat(Math.max(1, length - 10))}pro`,
    () => 'a'.repeat(length),
    () => `${'a'.repeat(Math.max(1, length - 1))}b`,
    () => 'é'.repeat(Math.ceil(length / 2)),
    () => `gemini-${'x-'.repeat(Math.ceil(length / 2))}pro`,
    () => '?*'.repeat(Math.ceil(length / 2)),
  ])();
}

function modelName(rng: Rng, faultRate: number): string {
  const base = rng.weighted<() => string>([
    [Math.round(faultRate * 100), () => rng.pick(FAULT_MODELS)],
    [60, () => rng.pick(HEALTHY_MODELS)],
    [5, () => randomString(rng, 30)],
    [2, () => 'x'.repeat(rng.range(1000, 12_000))],
    [4, () => longModelName(rng)],
    [
      2,
      () =>
        rng.pick([
          '',
          ' ',
          '.',
          '..',
          'models',
          'a/b/c',
          'a:b:c',
          'tunedModels/x',
          '%',
          '%ZZ',
          '%C0%80',
          '%00',
          '%2F%2E%2E',
          '%E2%80%A8',
          '%F0%9F%98%80',
          '%ff%fe',
        ]),
    ],
  ])();
  return rng.chance(0.15) ? percentEncodeSome(rng, base) : base;
}

function query(rng: Rng, method: string, key: string | undefined): string {
  const params: string[] = [];
  if (method === 'streamGenerateContent' && rng.chance(0.7))
    params.push(
      `alt=${rng.weighted([
        [8, 'sse'],
        [1, 'json'],
        [1, 'SSE'],
        [1, 'proto'],
        [1, ''],
        [1, 'media'],
      ])}`,
    );
  if (key !== undefined) params.push(`key=${encodeUriComponentSafe(key)}`);
  if (rng.chance(0.1))
    params.push(`${encodeUriComponentSafe(randomString(rng, 8))}=${encodeUriComponentSafe(randomString(rng, 20))}`);
  if (rng.chance(0.03)) params.push('alt=sse', 'alt=json');
  if (rng.chance(0.03)) params.push('key=a', 'key=b');
  if (rng.chance(0.02)) params.push(`pad=${'q'.repeat(rng.range(1000, 10_000))}`);
  if (rng.chance(0.03))
    params.push(
      rng.pick([
        '%',
        '%zz',
        '&&&',
        '=',
        'a=%E0%A4%A',
        '__proto__[x]=1',
        'constructor=1',
        'pageSize=-1',
        'pageSize=abc',
        'pageToken=%00',
      ]),
    );
  if (params.length === 0) return rng.chance(0.02) ? '?' : '';
  return `?${params.join('&')}`;
}

export interface FuzzCase {
  index: number;
  seed: number;
  method: string;
  /** Request target (path and query), exactly as sent. */
  path: string;
  headers: Array<[string, string]>;
  body: Buffer;
  /** Send over a raw socket with these exact bytes (malformed HTTP); otherwise a normal HTTP request. */
  raw?: Buffer;
  /** The case names a model routed to an upstream fault (error status, garbage, reset, unreachable). */
  upstreamFault: boolean;
  /** A keyless proxy must refuse this request (a foreign Host or Origin): no 2xx answer. */
  mustBeRefused?: boolean;
  /** `raw` holds well-formed HTTP (a chunked upload): it must be answered like any request, however long that takes. */
  wellFormedRaw?: boolean;
  notes: string[];
}

export interface GeneratorOptions {
  /** Client keys the proxy accepts (most requests carry the first). */
  clientKeys: readonly string[];
  /** A key whose per-minute limit is tiny (exercises 429). */
  limitedKey?: string;
  bodyLimitBytes: number;
  /** Share of requests addressed to an upstream fault model (0…1). */
  faultRate: number;
  /** The proxy has no client keys: a foreign Host or Origin must be refused with 403. */
  keyless?: boolean;
}

/** Origins a browser page may send; the first is the fuzz proxy's allowed_origins entry. */
export const FUZZ_ALLOWED_ORIGIN = 'http://localhost:5173';
const ORIGINS = [
  FUZZ_ALLOWED_ORIGIN,
  'https://evil.example',
  'null',
  'http://127.0.0.1',
  'http://localhost:1',
  'file://',
  'http://[::1]:8000',
  'HTTPS://EVIL.EXAMPLE:443',
];
/** Host headers: loopback forms (accepted without keys) and names a DNS-rebinding page would send (refused). */
const LOOPBACK_HOSTS = ['127.0.0.1', '127.0.0.1:9', 'localhost', 'LOCALHOST:80', '[::1]:8000', '127.255.0.1:1'];
const FOREIGN_HOSTS = [
  'rebind.evil.example',
  'rebind.evil.example:8000',
  '10.0.0.1',
  '0.0.0.0:8000',
  'localhost.evil.example',
  '127.0.0.1.nip.io',
  '[::]:1',
];

const OTHER_PATHS = [
  '/',
  '/health',
  '/health?probe=1',
  '/metrics',
  '/ui',
  '/ui/',
  '/ui/api/requests',
  '/ui/api/requests/abc',
  '/ui/api/usage?range=1h',
  '/ui/api/usage?range=zz',
  '/ui/api/health',
  '/ui/app.js',
  '/favicon.ico',
  '/v1beta',
  '/v1beta/',
  '/v1beta/models',
  '/v1/models?pageSize=2',
  '/v1beta/models?pageSize=0&pageToken=zzz',
  '/v1beta/models/gemini-2.5-pro',
  '/v1beta/tunedModels',
  '/v1beta/tunedModels/x',
  '/v1beta/files',
  '/upload/v1beta/files',
  '/v1beta/cachedContents',
  '/v1beta/dynamic/x:generateContent',
  '/v2/models/x:generateContent',
  '//v1beta//models//x:generateContent',
  '/v1beta/models/x:generateContent/extra',
  '/V1BETA/models/x:generateContent',
  '/v1beta/models/x:GenerateContent',
  '/v1beta/models/x:streamGenerateContent:',
  '/.env',
  '/../../etc/passwd',
  '/%2e%2e/%2e%2e',
  '/v1beta/models/%',
  '*',
];

/** Builds case `index` of a run seeded with `seed`. */
export function generateCase(seed: number, index: number, options: GeneratorOptions): FuzzCase {
  const rng = new Rng(caseSeed(seed, index));
  const notes: string[] = [];
  const shape = rng.weighted<string>([
    [70, 'gemini'],
    [6, 'deep-schema'],
    [8, 'other-path'],
    [5, 'raw-http'],
    [4, 'random-url'],
  ]);

  const methodName = rng.weighted<GeminiMethod>([
    [35, 'generateContent'],
    [35, 'streamGenerateContent'],
    [10, 'countTokens'],
    [8, 'embedContent'],
    [8, 'batchEmbedContents'],
  ]);

  // Credentials: mostly valid, in each accepted form; sometimes missing, wrong, or the rate-limited key.
  const keyChoice = rng.weighted<string>([
    [90, 'valid'],
    [3, 'missing'],
    [3, 'wrong'],
    [2, 'limited'],
    [1, 'huge'],
  ]);
  const key =
    keyChoice === 'valid'
      ? rng.pick(options.clientKeys)
      : keyChoice === 'wrong'
        ? randomString(rng, 40) || 'x'
        : keyChoice === 'limited'
          ? (options.limitedKey ?? rng.pick(options.clientKeys))
          : keyChoice === 'huge'
            ? 'k'.repeat(rng.range(5000, 40_000))
            : undefined;
  if (keyChoice !== 'valid') notes.push(`key:${keyChoice}`);
  const keyPlace = rng.weighted<string>([
    [6, 'header'],
    [2, 'query'],
    [2, 'bearer'],
  ]);

  const headers: Array<[string, string]> = [];
  let path: string;
  let body: Buffer;
  let upstreamFault = false;
  let httpMethod = 'POST';

  if (shape === 'gemini' || shape === 'deep-schema') {
    const model = modelName(rng, options.faultRate);
    upstreamFault = FAULT_MODELS.some((fault) => decodeLoosely(model).includes(fault));
    const version = rng.weighted([
      [24, 'v1beta'],
      [6, 'v1'],
      [1, 'v1alpha'],
      [1, 'v2'],
    ]);
    const resource = rng.weighted([
      [40, 'models'],
      [1, 'tunedModels'],
      [1, 'dynamic'],
    ]);
    const method = rng.chance(0.97)
      ? methodName
      : rng.pick(['generatecontent', 'predict', 'streamGenerateContent ', '', randomString(rng, 12)]);
    path = `/${version}/${resource}/${model}:${method}${query(rng, methodName, key !== undefined && keyPlace === 'query' ? key : undefined)}`;
    let tree: Json =
      shape === 'deep-schema'
        ? deepSchemaRequest(
            rng,
            rng.weighted([
              [3, rng.range(50, 500)],
              [5, rng.range(1000, 5000)],
              [2, rng.range(5000, 60_000)],
            ]),
          )
        : bodyFor(rng, methodName);
    if (shape === 'deep-schema') notes.push('deep-schema');
    tree = mutateTree(rng, tree, { bodyLimitBytes: options.bodyLimitBytes }, notes);
    body = mutateBytes(rng, serialise(rng, tree), notes);
    httpMethod = rng.weighted([
      [80, 'POST'],
      [1, 'GET'],
      [1, 'PUT'],
      [1, 'PATCH'],
      [1, 'DELETE'],
      [1, 'OPTIONS'],
      [1, 'HEAD'],
      [1, 'PROPFIND'],
    ]);
  } else if (shape === 'other-path') {
    path = rng.pick(OTHER_PATHS);
    if (key !== undefined && keyPlace === 'query')
      path += `${path.includes('?') ? '&' : '?'}key=${encodeUriComponentSafe(key)}`;
    httpMethod = rng.weighted([
      [6, 'GET'],
      [3, 'POST'],
      [1, 'HEAD'],
      [1, 'DELETE'],
      [1, 'OPTIONS'],
    ]);
    body =
      httpMethod === 'GET' || httpMethod === 'HEAD'
        ? Buffer.alloc(0)
        : mutateBytes(rng, serialise(rng, randomJson(rng, 3)), notes);
    notes.push('other-path');
  } else {
    // random-url, raw-http: URLs and bytes that are not Gemini at all.
    const segments = Array.from({ length: rng.range(1, 6) }, () =>
      percentEncodeSome(rng, randomString(rng, 20)).replace(/[?#\s]/g, '_'),
    );
    path = `/${segments.join('/')}${query(rng, 'generateContent', undefined)}`;
    httpMethod = rng.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'M-SEARCH', 'FOO']);
    body = httpMethod === 'GET' ? Buffer.alloc(0) : serialise(rng, generateContentRequest(rng));
    notes.push('random-url');
  }

  // Headers: content type (right, wrong, absent), credentials, extras, sometimes huge.
  const contentType = rng.weighted<string | undefined>([
    [60, 'application/json'],
    [5, 'application/json; charset=utf-8'],
    [3, undefined],
    [3, 'text/plain'],
    [2, 'application/x-www-form-urlencoded'],
    [2, 'multipart/form-data; boundary=----x'],
    [1, 'application/octet-stream'],
    [1, 'application/json; charset=latin1'],
    [1, 'application/xml'],
    [1, 'image/png'],
    [1, 'application/json; boundary="'],
    [1, ';;;'],
    [1, 'application/grpc'],
    [1, 'application/x-protobuf'],
  ]);
  if (contentType !== undefined) headers.push(['content-type', contentType]);
  if (
    contentType !== 'application/json' &&
    contentType !== undefined &&
    contentType !== 'application/json; charset=utf-8'
  )
    notes.push(`content-type:${contentType}`);
  if (key !== undefined && keyPlace === 'header') headers.push(['x-goog-api-key', key]);
  if (key !== undefined && keyPlace === 'bearer') headers.push(['authorization', `Bearer ${key}`]);
  if (rng.chance(0.3)) headers.push(['x-goog-api-client', 'google-genai-sdk/1.30.0 gl-node/v20.18.1']);
  if (rng.chance(0.2))
    headers.push([
      'user-agent',
      rng.chance(0.5) ? 'GeminiCLI/0.61.0 (linux; x64)' : randomString(rng, 60).replace(/[^\x20-\x7e]/g, ''),
    ]);
  if (rng.chance(0.05)) headers.push(['accept-encoding', rng.pick(['gzip', 'br', 'deflate, gzip', 'identity', '*'])]);
  if (rng.chance(0.03)) headers.push(['content-encoding', rng.pick(['gzip', 'br', 'identity', 'bogus'])]);
  if (rng.chance(0.05)) {
    const many = rng.range(10, 120);
    for (let index = 0; index < many; index += 1)
      headers.push([`x-fuzz-${index}`, randomString(rng, 30).replace(/[^\x20-\x7e]/g, '')]);
    notes.push(`many-headers(${many})`);
  }
  if (rng.chance(0.03)) {
    const size = rng.weighted([
      [1, rng.range(1000, 8000)],
      [2, rng.range(8000, 40_000)],
      [1, rng.range(40_000, 120_000)],
    ]);
    headers.push(['x-huge', 'h'.repeat(size)]);
    notes.push(`huge-header(${size})`);
  }
  if (rng.chance(0.02)) headers.push(['x-goog-api-key', 'second-key-value']);

  // Browser-shaped requests: an Origin (CSRF), a foreign Host (DNS rebinding), a CORS preflight.
  let foreign = false;
  const origin = rng.chance(0.06) ? rng.pick(ORIGINS) : undefined;
  const foreignHost = rng.chance(0.6);
  const host = rng.chance(0.04) ? rng.pick(foreignHost ? FOREIGN_HOSTS : LOOPBACK_HOSTS) : undefined;
  if (origin !== undefined) {
    headers.push(['origin', origin]);
    notes.push(`origin:${origin}`);
    // The proxy's own origin (same host and port as the Host header) is not foreign; the default Host has a port no origin here names.
    const own =
      host !== undefined &&
      /^https?:\/\//i.test(origin) &&
      origin.replace(/^https?:\/\//i, '').toLowerCase() === host.toLowerCase();
    if (origin !== FUZZ_ALLOWED_ORIGIN && !own) foreign = true;
  }
  if (host !== undefined) {
    headers.push(['host', host]);
    notes.push(`host:${host}`);
    if (foreignHost) foreign = true;
  }
  if (rng.chance(0.02)) {
    httpMethod = 'OPTIONS';
    headers.push(
      ['access-control-request-method', 'POST'],
      [
        'access-control-request-headers',
        rng.pick(['content-type, x-goog-api-key', 'x-evil\r\nset-cookie: a=b', '*', '']),
      ],
    );
    notes.push('preflight');
  }

  const fuzzCase: FuzzCase = { index, seed, method: httpMethod, path, headers, body, upstreamFault, notes };
  // Same-origin checks compare with the Host sent, so only a foreign Host or a foreign Origin with the default Host is sure to be refused.
  if (options.keyless === true && shape !== 'raw-http' && foreign) fuzzCase.mustBeRefused = true;
  // Chunked uploads (no Content-Length): token limits must charge what was read.
  if ((shape === 'gemini' || shape === 'deep-schema') && rng.chance(0.05) && httpMethod === 'POST') {
    fuzzCase.raw = chunkedRequest(rng, fuzzCase);
    fuzzCase.wellFormedRaw = true;
    notes.push('chunked-body');
    return fuzzCase;
  }
  if (shape === 'raw-http') {
    fuzzCase.raw = rawRequest(rng, fuzzCase, notes);
  }
  return fuzzCase;
}

function decodeLoosely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A well-formed chunked upload of the case (random chunk sizes), Host as the case says or 127.0.0.1. */
function chunkedRequest(rng: Rng, fuzzCase: FuzzCase): Buffer {
  const hasHost = fuzzCase.headers.some(([name]) => name === 'host');
  const headerLines = fuzzCase.headers.map(([name, value]) => `${name}: ${value.replace(/[\r\n]/g, ' ')}\r\n`).join('');
  const parts: Buffer[] = [
    Buffer.from(
      `POST ${fuzzCase.path} HTTP/1.1\r\n${hasHost ? '' : 'host: 127.0.0.1\r\n'}${headerLines}transfer-encoding: chunked\r\nconnection: close\r\n\r\n`,
      'latin1',
    ),
  ];
  const body = fuzzCase.body;
  for (let start = 0; start < body.length;) {
    const size = Math.min(body.length - start, rng.range(1, 65_536));
    parts.push(Buffer.from(`${size.toString(16)}\r\n`), body.subarray(start, start + size), Buffer.from('\r\n'));
    start += size;
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** Malformed HTTP/1.1 bytes: bad request lines, bad header syntax, odd framing, or plain random bytes. */
function rawRequest(rng: Rng, fuzzCase: FuzzCase, notes: string[]): Buffer {
  const body = fuzzCase.body.subarray(0, 50_000);
  const headerLines = fuzzCase.headers.map(([name, value]) => `${name}: ${value}\r\n`).join('');
  const kind = rng.weighted<string>([
    [3, 'random-bytes'],
    [2, 'bad-request-line'],
    [2, 'bad-header'],
    [2, 'chunked'],
    [1, 'bad-chunked'],
    [1, 'both-lengths'],
    [1, 'http10'],
    [1, 'raw-path-bytes'],
    [1, 'expect-continue'],
    [1, 'pipelined'],
    [1, 'bare-lf'],
    [1, 'smuggle'],
  ]);
  notes.push(`raw:${kind}`);
  const head = (requestLine: string, extra = ''): string =>
    `${requestLine}\r\nhost: 127.0.0.1\r\n${headerLines}${extra}connection: close\r\n`;
  switch (kind) {
    case 'random-bytes':
      return Buffer.concat([rng.bytes(rng.range(1, 5000)), Buffer.from('\r\n\r\n')]);
    case 'bad-request-line':
      return Buffer.from(
        `${rng.pick(['POST', 'GET', 'P OST', '', 'POST\u0000', 'GET /'])} ${rng.pick([fuzzCase.path, '', 'no-slash', '/a b', 'http://evil/x', '/\u0001'])} ${rng.pick(['HTTP/1.1', 'HTTP/9.9', 'HTTP/1', 'FOO/1.1', ''])}\r\nhost: x\r\nconnection: close\r\n\r\n`,
        'latin1',
      );
    case 'bad-header':
      return Buffer.concat([
        Buffer.from(
          `${head(`POST ${fuzzCase.path} HTTP/1.1`)}${rng.pick(['bad header\r\n', ': novalue\r\n', 'x-a:\u0000b\r\n', 'x-folded: a\r\n  continued\r\n', 'content-length: -5\r\n', 'content-length: abc\r\n', 'x\u00ff: y\r\n', 'transfer-encoding: gzip, chunked\r\n'])}content-length: ${body.length}\r\n\r\n`,
          'latin1',
        ),
        body,
      ]);
    case 'chunked': {
      const chunks: Buffer[] = [
        Buffer.from(`${head(`POST ${fuzzCase.path} HTTP/1.1`)}transfer-encoding: chunked\r\n\r\n`, 'latin1'),
      ];
      for (let start = 0; start < body.length;) {
        const size = Math.min(body.length - start, rng.range(1, 4096));
        chunks.push(Buffer.from(`${size.toString(16)}\r\n`), body.subarray(start, start + size), Buffer.from('\r\n'));
        start += size;
      }
      chunks.push(Buffer.from('0\r\n\r\n'));
      return Buffer.concat(chunks);
    }
    case 'bad-chunked':
      return Buffer.from(
        `${head(`POST ${fuzzCase.path} HTTP/1.1`)}transfer-encoding: chunked\r\n\r\n${rng.pick(['zz\r\nabc\r\n0\r\n\r\n', '5\r\nabc\r\n0\r\n\r\n', 'fffffffffffffffff\r\n', '-1\r\n\r\n', '3;ext=1\r\nabc\r\n0\r\n\r\n'])}`,
        'latin1',
      );
    case 'both-lengths':
      return Buffer.concat([
        Buffer.from(
          `${head(`POST ${fuzzCase.path} HTTP/1.1`)}content-length: ${body.length}\r\ntransfer-encoding: chunked\r\n\r\n`,
          'latin1',
        ),
        body,
      ]);
    case 'http10':
      return Buffer.concat([
        Buffer.from(`POST ${fuzzCase.path} HTTP/1.0\r\n${headerLines}content-length: ${body.length}\r\n\r\n`, 'latin1'),
        body,
      ]);
    case 'raw-path-bytes':
      return Buffer.concat([
        Buffer.from('POST /v1beta/models/'),
        rng.bytes(rng.range(1, 40)).map((byte) => (byte === 0x20 || byte === 0x0d || byte === 0x0a ? 0x41 : byte)),
        Buffer.from(
          `:generateContent HTTP/1.1\r\nhost: x\r\n${headerLines}content-length: ${body.length}\r\nconnection: close\r\n\r\n`,
          'latin1',
        ),
        body,
      ]);
    case 'expect-continue':
      return Buffer.concat([
        Buffer.from(
          `${head(`POST ${fuzzCase.path} HTTP/1.1`)}expect: 100-continue\r\ncontent-length: ${body.length}\r\n\r\n`,
          'latin1',
        ),
        body,
      ]);
    case 'pipelined': {
      const one = `GET /v1beta/models HTTP/1.1\r\nhost: x\r\n${headerLines}\r\n`;
      return Buffer.from(`${one}${one}${head('GET /health HTTP/1.1')}\r\n`, 'latin1');
    }
    case 'bare-lf':
      return Buffer.concat([
        Buffer.from(
          `POST ${fuzzCase.path} HTTP/1.1\nhost: x\n${headerLines.replace(/\r\n/g, '\n')}content-length: ${body.length}\nconnection: close\n\n`,
          'latin1',
        ),
        body,
      ]);
    default:
      return Buffer.from(
        `${head(`POST ${fuzzCase.path} HTTP/1.1`)}content-length: 0\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nhost: x\r\n\r\n`,
        'latin1',
      );
  }
}

/** A short, printable description of a case for failure reports. */
export function describeCase(fuzzCase: FuzzCase): string {
  const preview = (buffer: Buffer): string => {
    const text = buffer
      .subarray(0, 600)
      .toString('utf8')
      .replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return `${text}${buffer.length > 600 ? ` … (${buffer.length} bytes)` : ''}`;
  };
  const headers = fuzzCase.headers
    .map(([name, value]) => `${name}: ${value.length > 80 ? `${value.slice(0, 80)}… (${value.length})` : value}`)
    .join(' | ');
  const lines = [
    `case ${fuzzCase.index} of seed ${fuzzCase.seed} (replay: npm run fuzz -- --seed ${fuzzCase.seed} --case ${fuzzCase.index})`,
    `notes: ${fuzzCase.notes.join(', ') || '-'}`,
  ];
  if (fuzzCase.raw !== undefined) lines.push(`raw bytes: ${preview(fuzzCase.raw)}`);
  else {
    lines.push(
      `${fuzzCase.method} ${fuzzCase.path.length > 300 ? `${fuzzCase.path.slice(0, 300)}… (${fuzzCase.path.length})` : fuzzCase.path}`,
    );
    lines.push(`headers: ${headers}`);
    lines.push(`body: ${preview(fuzzCase.body)}`);
  }
  return lines.join('\n');
}
