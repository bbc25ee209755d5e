/**
 * Ingress normalisation of a GenerateContentRequest: accepts camelCase and snake_case field names ([R-JSON-1]),
 * enum names or numbers ([R-JSON-2]), int64 strings ([R-JSON-3]), a single value wherever a list is expected, skips
 * empty parts ([R-JSON-7]) and lists every field it does not act on ([R-JSON-5]: ignored, never rejected) so the
 * caller can log it. Shape errors name the offending path. Pure.
 *
 * Hand-written rather than a zod schema: it renames keys while it validates, in one pass over a ~46 KB body that
 * sits on the hot path of every Gemini CLI turn. User data (function args, responses, schemas) is never renamed.
 */
import { invalidRequest } from '../errors.js';
import type { GeminiGenerationConfig, GenerateContentRequest, JsonValue } from './gemini-types.js';
import { normalizeContent } from './normalize/content.js';
import {
  asList,
  enumValue,
  field,
  isObject,
  optionalBoolean,
  optionalNumber,
  optionalString,
  unknownKeys,
} from './normalize/fields.js';
import { normalizeTool, normalizeToolConfig } from './normalize/tools.js';

const MODALITIES = ['MODALITY_UNSPECIFIED', 'TEXT', 'IMAGE', 'AUDIO'] as const;
/** Proto numbers known for certain; MEDIUM and MINIMAL are accepted by name. */
const THINKING_LEVELS = ['THINKING_LEVEL_UNSPECIFIED', 'LOW', undefined, 'HIGH'] as const;
const HARM_CATEGORIES = [
  'HARM_CATEGORY_UNSPECIFIED',
  'HARM_CATEGORY_DEROGATORY',
  'HARM_CATEGORY_TOXICITY',
  'HARM_CATEGORY_VIOLENCE',
  'HARM_CATEGORY_SEXUAL',
  'HARM_CATEGORY_MEDICAL',
  'HARM_CATEGORY_DANGEROUS',
  'HARM_CATEGORY_HARASSMENT',
  'HARM_CATEGORY_HATE_SPEECH',
  'HARM_CATEGORY_SEXUALLY_EXPLICIT',
  'HARM_CATEGORY_DANGEROUS_CONTENT',
  'HARM_CATEGORY_CIVIC_INTEGRITY',
] as const;
const HARM_THRESHOLDS = [
  'HARM_BLOCK_THRESHOLD_UNSPECIFIED',
  'BLOCK_LOW_AND_ABOVE',
  'BLOCK_MEDIUM_AND_ABOVE',
  'BLOCK_ONLY_HIGH',
  'BLOCK_NONE',
  'OFF',
] as const;

const NUMBER_FIELDS: ReadonlyArray<[keyof GeminiGenerationConfig, string, string]> = [
  ['temperature', 'temperature', 'temperature'],
  ['topP', 'topP', 'top_p'],
  ['topK', 'topK', 'top_k'],
  ['maxOutputTokens', 'maxOutputTokens', 'max_output_tokens'],
  ['candidateCount', 'candidateCount', 'candidate_count'],
  ['seed', 'seed', 'seed'],
  ['presencePenalty', 'presencePenalty', 'presence_penalty'],
  ['frequencyPenalty', 'frequencyPenalty', 'frequency_penalty'],
  ['logprobs', 'logprobs', 'logprobs'],
];
const GENERATION_FIELDS = new Set([
  ...NUMBER_FIELDS.map(([, camel]) => camel),
  'stopSequences',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  'responseModalities',
  'thinkingConfig',
  'responseLogprobs',
]);
const REQUEST_FIELDS = new Set([
  'contents',
  'systemInstruction',
  'tools',
  'toolConfig',
  'generationConfig',
  'cachedContent',
]);

function normalizeThinking(raw: unknown): GeminiGenerationConfig['thinkingConfig'] {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw invalidRequest(`Invalid value at 'generationConfig.thinkingConfig': expected an object.`);
  const thinking: NonNullable<GeminiGenerationConfig['thinkingConfig']> = {};
  const include = optionalBoolean(
    field(raw, 'includeThoughts', 'include_thoughts'),
    'generationConfig.thinkingConfig.includeThoughts',
  );
  if (include !== undefined) thinking.includeThoughts = include;
  const budget = optionalNumber(
    field(raw, 'thinkingBudget', 'thinking_budget'),
    'generationConfig.thinkingConfig.thinkingBudget',
  );
  if (budget !== undefined) thinking.thinkingBudget = budget;
  const level = field(raw, 'thinkingLevel', 'thinking_level');
  if (level !== undefined && level !== null) {
    thinking.thinkingLevel = enumValue(level, THINKING_LEVELS, 'generationConfig.thinkingConfig.thinkingLevel', [
      'MINIMAL',
      'MEDIUM',
    ]);
  }
  return thinking;
}

function normalizeGenerationConfig(raw: unknown, ignored: Set<string>): GeminiGenerationConfig {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw invalidRequest(`Invalid value at 'generationConfig': expected an object.`);
  const config: GeminiGenerationConfig = {};
  for (const [key, camel, snake] of NUMBER_FIELDS) {
    const value = optionalNumber(field(raw, camel, snake), `generationConfig.${camel}`);
    if (value !== undefined) (config as Record<string, number>)[key] = value;
  }
  const stops = field(raw, 'stopSequences', 'stop_sequences');
  if (stops !== undefined && stops !== null) {
    config.stopSequences = asList(stops).map((stop, index) => {
      if (typeof stop !== 'string')
        throw invalidRequest(`Invalid value at 'generationConfig.stopSequences[${index}]': expected a string.`);
      return stop;
    });
  }
  const mime = optionalString(
    field(raw, 'responseMimeType', 'response_mime_type'),
    'generationConfig.responseMimeType',
  );
  if (mime !== undefined) config.responseMimeType = mime;
  const schema = field(raw, 'responseSchema', 'response_schema');
  if (schema !== undefined && schema !== null) config.responseSchema = schema as JsonValue;
  const jsonSchema = field(raw, 'responseJsonSchema', 'response_json_schema');
  if (jsonSchema !== undefined && jsonSchema !== null) config.responseJsonSchema = jsonSchema as JsonValue;
  const modalities = field(raw, 'responseModalities', 'response_modalities');
  if (modalities !== undefined && modalities !== null) {
    config.responseModalities = asList(modalities).map((modality, index) =>
      enumValue(modality, MODALITIES, `generationConfig.responseModalities[${index}]`, ['VIDEO', 'TEXT']),
    );
  }
  const logprobs = optionalBoolean(
    field(raw, 'responseLogprobs', 'response_logprobs'),
    'generationConfig.responseLogprobs',
  );
  if (logprobs !== undefined) config.responseLogprobs = logprobs;
  const thinking = normalizeThinking(field(raw, 'thinkingConfig', 'thinking_config'));
  if (thinking !== undefined) config.thinkingConfig = thinking;
  for (const key of unknownKeys(raw, GENERATION_FIELDS, 'generationConfig')) ignored.add(key);
  return config;
}

/**
 * Safety settings have no Chat Completions equivalent: checked for shape, then ignored. Names are taken as they come
 * (Google adds categories); numbers must be ones the proto defines.
 */
function checkSafetySettings(raw: unknown): void {
  asList(raw).forEach((setting, index) => {
    const path = `safetySettings[${index}]`;
    if (!isObject(setting)) throw invalidRequest(`Invalid value at '${path}': expected a SafetySetting object.`);
    for (const [key, names] of [
      ['category', HARM_CATEGORIES],
      ['threshold', HARM_THRESHOLDS],
    ] as const) {
      const value = setting[key];
      if (value === undefined || value === null || (typeof value === 'string' && !/^\d+$/.test(value))) continue;
      enumValue(value, names, `${path}.${key}`);
    }
  });
}

export function normalizeGenerateContentRequest(raw: unknown): GenerateContentRequest {
  if (!isObject(raw)) throw invalidRequest('Invalid JSON payload: the request body must be a JSON object.');
  const ignored = new Set<string>();
  const contentsRaw = raw['contents'];
  if (contentsRaw === undefined || contentsRaw === null) {
    throw invalidRequest('* GenerateContentRequest.contents: contents is not specified');
  }
  const contents = asList(contentsRaw).map((content, index) =>
    normalizeContent(content, `contents[${index}]`, ignored),
  );
  if (contents.every((content) => content.parts.length === 0)) {
    throw invalidRequest('* GenerateContentRequest.contents: contents is not specified (every part is empty)');
  }

  const request: GenerateContentRequest = {
    contents,
    tools: asList(raw['tools']).map((tool, index) => normalizeTool(tool, `tools[${index}]`, ignored)),
    generationConfig: normalizeGenerationConfig(field(raw, 'generationConfig', 'generation_config'), ignored),
    ignoredFields: [],
  };
  const system = field(raw, 'systemInstruction', 'system_instruction');
  if (system !== undefined && system !== null) {
    // The system instruction may also arrive as a bare string from hand-written clients.
    request.systemInstruction =
      typeof system === 'string'
        ? { role: 'user', parts: [{ text: system }] }
        : normalizeContent(system, 'systemInstruction', ignored);
  }
  const toolConfig = normalizeToolConfig(field(raw, 'toolConfig', 'tool_config'), ignored);
  if (toolConfig !== undefined) request.toolConfig = toolConfig;
  const cached = field(raw, 'cachedContent', 'cached_content');
  if (typeof cached === 'string' && cached !== '') request.cachedContent = cached;
  checkSafetySettings(field(raw, 'safetySettings', 'safety_settings'));
  for (const key of unknownKeys(raw, REQUEST_FIELDS, '')) ignored.add(key);
  request.ignoredFields = [...ignored];
  return request;
}
