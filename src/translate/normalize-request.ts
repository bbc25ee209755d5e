/**
 * Ingress normalisation of a GenerateContentRequest: accepts camelCase and snake_case field names ([R-JSON-1]),
 * enum integers ([R-JSON-2]), int64 strings ([R-JSON-3]), ignores unknown keys ([R-JSON-5]) and skips empty parts
 * ([R-JSON-7]). Shape errors name the offending path. Pure.
 *
 * Hand-written rather than a zod schema: it renames keys while it validates, in one pass over a ~46 KB body that
 * sits on the hot path of every Gemini CLI turn. User data (function args, responses, schemas) is never renamed.
 */
import { invalidRequest } from '../errors.js';
import type {
  FunctionCallingMode,
  GeminiContent,
  GeminiFunctionDeclaration,
  GeminiGenerationConfig,
  GeminiPart,
  GeminiTool,
  GeminiToolConfig,
  GenerateContentRequest,
  JsonObject,
  JsonValue,
} from './gemini-types.js';

type Raw = Record<string, unknown>;

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads `camel` or its snake_case twin. */
function field(source: Raw, camel: string, snake: string): unknown {
  const value = source[camel];
  return value === undefined ? source[snake] : value;
}

function optionalString(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidRequest(`Invalid value at '${path}': expected a string.`);
  return value;
}

function optionalNumber(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) {
    throw invalidRequest(`Invalid value at '${path}': expected a number.`);
  }
  return number;
}

function optionalBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidRequest(`Invalid value at '${path}': expected a boolean.`);
  return value;
}

function asArray(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidRequest(`Invalid value at '${path}': expected an array.`);
  return value;
}

function asJsonObject(value: unknown, path: string): JsonObject {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalidRequest(`Invalid value at '${path}': expected an object.`);
  return value as JsonObject;
}

function normalizePart(raw: unknown, path: string): GeminiPart | undefined {
  if (!isObject(raw)) throw invalidRequest(`Invalid value at '${path}': expected a Part object.`);
  const part: GeminiPart = {};
  const text = optionalString(raw['text'], `${path}.text`);
  if (text !== undefined) part.text = text;
  const thought = optionalBoolean(raw['thought'], `${path}.thought`);
  if (thought !== undefined) part.thought = thought;
  const signature = field(raw, 'thoughtSignature', 'thought_signature');
  if (typeof signature === 'string') part.thoughtSignature = signature;

  const inline = field(raw, 'inlineData', 'inline_data');
  if (inline !== undefined && inline !== null) {
    if (!isObject(inline)) throw invalidRequest(`Invalid value at '${path}.inlineData': expected an object.`);
    const mimeType = optionalString(field(inline, 'mimeType', 'mime_type'), `${path}.inlineData.mimeType`);
    const data = optionalString(inline['data'], `${path}.inlineData.data`);
    if (data === undefined || data === '') throw invalidRequest(`Missing '${path}.inlineData.data'.`);
    part.inlineData = { mimeType: mimeType ?? 'application/octet-stream', data };
  }

  const file = field(raw, 'fileData', 'file_data');
  if (file !== undefined && file !== null) {
    if (!isObject(file)) throw invalidRequest(`Invalid value at '${path}.fileData': expected an object.`);
    const fileUri = optionalString(field(file, 'fileUri', 'file_uri'), `${path}.fileData.fileUri`);
    if (fileUri === undefined || fileUri === '') throw invalidRequest(`Missing '${path}.fileData.fileUri'.`);
    const mimeType = optionalString(field(file, 'mimeType', 'mime_type'), `${path}.fileData.mimeType`);
    part.fileData = mimeType === undefined ? { fileUri } : { mimeType, fileUri };
  }

  const call = field(raw, 'functionCall', 'function_call');
  if (call !== undefined && call !== null) {
    if (!isObject(call)) throw invalidRequest(`Invalid value at '${path}.functionCall': expected an object.`);
    const name = optionalString(call['name'], `${path}.functionCall.name`);
    if (name === undefined || name === '') throw invalidRequest(`Missing '${path}.functionCall.name'.`);
    const id = optionalString(call['id'], `${path}.functionCall.id`);
    part.functionCall = { name, args: asJsonObject(call['args'], `${path}.functionCall.args`) };
    if (id !== undefined && id !== '') part.functionCall.id = id;
  }

  const response = field(raw, 'functionResponse', 'function_response');
  if (response !== undefined && response !== null) {
    if (!isObject(response)) throw invalidRequest(`Invalid value at '${path}.functionResponse': expected an object.`);
    const name = optionalString(response['name'], `${path}.functionResponse.name`);
    if (name === undefined || name === '') throw invalidRequest(`Missing '${path}.functionResponse.name'.`);
    const id = optionalString(response['id'], `${path}.functionResponse.id`);
    part.functionResponse = {
      name,
      response: asJsonObject(response['response'], `${path}.functionResponse.response`),
    };
    if (id !== undefined && id !== '') part.functionResponse.id = id;
    const nested = asArray(response['parts'], `${path}.functionResponse.parts`)
      .map((item, index) => normalizePart(item, `${path}.functionResponse.parts[${index}]`))
      .filter((item): item is GeminiPart => item !== undefined);
    if (nested.length > 0) part.functionResponse.parts = nested;
  }

  const code = field(raw, 'executableCode', 'executable_code');
  if (isObject(code) && typeof code['code'] === 'string') {
    part.executableCode = { code: code['code'] };
    if (typeof code['language'] === 'string') part.executableCode.language = code['language'];
  }
  const result = field(raw, 'codeExecutionResult', 'code_execution_result');
  if (isObject(result)) {
    part.codeExecutionResult = {};
    if (typeof result['outcome'] === 'string') part.codeExecutionResult.outcome = result['outcome'];
    if (typeof result['output'] === 'string') part.codeExecutionResult.output = result['output'];
  }

  const hasData =
    (part.text !== undefined && part.text !== '') ||
    part.inlineData !== undefined ||
    part.fileData !== undefined ||
    part.functionCall !== undefined ||
    part.functionResponse !== undefined ||
    part.executableCode !== undefined ||
    part.codeExecutionResult !== undefined;
  return hasData ? part : undefined;
}

function normalizeContent(raw: unknown, path: string): GeminiContent {
  if (!isObject(raw)) throw invalidRequest(`Invalid value at '${path}': expected a Content object.`);
  const role = raw['role'];
  if (role !== undefined && role !== null && typeof role !== 'string') {
    throw invalidRequest(`Invalid value at '${path}.role': expected a string.`);
  }
  const parts = asArray(raw['parts'], `${path}.parts`)
    .map((part, index) => normalizePart(part, `${path}.parts[${index}]`))
    .filter((part): part is GeminiPart => part !== undefined);
  // [R-REQ-1]: a missing role is "user"; anything but "model" is a user turn.
  return { role: role === 'model' || role === 'assistant' ? 'model' : 'user', parts };
}

const BUILT_IN_TOOL_FIELDS: ReadonlyArray<[string, string]> = [
  ['googleSearch', 'google_search'],
  ['googleSearchRetrieval', 'google_search_retrieval'],
  ['codeExecution', 'code_execution'],
  ['urlContext', 'url_context'],
  ['computerUse', 'computer_use'],
  ['fileSearch', 'file_search'],
  ['googleMaps', 'google_maps'],
  ['retrieval', 'retrieval'],
  ['enterpriseWebSearch', 'enterprise_web_search'],
];

function normalizeTool(raw: unknown, path: string): GeminiTool {
  if (!isObject(raw)) throw invalidRequest(`Invalid value at '${path}': expected a Tool object.`);
  const declarations = asArray(field(raw, 'functionDeclarations', 'function_declarations'), `${path}.functionDeclarations`);
  const functionDeclarations = declarations.map((item, index): GeminiFunctionDeclaration => {
    const itemPath = `${path}.functionDeclarations[${index}]`;
    if (!isObject(item)) throw invalidRequest(`Invalid value at '${itemPath}': expected an object.`);
    const name = optionalString(item['name'], `${itemPath}.name`);
    if (name === undefined || name === '') throw invalidRequest(`Missing '${itemPath}.name'.`);
    const declaration: GeminiFunctionDeclaration = { name };
    const description = optionalString(item['description'], `${itemPath}.description`);
    if (description !== undefined) declaration.description = description;
    const parameters = item['parameters'];
    if (parameters !== undefined && parameters !== null) {
      declaration.parameters = asJsonObject(parameters, `${itemPath}.parameters`);
    }
    const jsonSchema = field(item, 'parametersJsonSchema', 'parameters_json_schema');
    if (jsonSchema !== undefined && jsonSchema !== null) declaration.parametersJsonSchema = jsonSchema as JsonValue;
    return declaration;
  });
  const builtIns = BUILT_IN_TOOL_FIELDS.filter(([camel, snake]) => field(raw, camel, snake) != null).map(([camel]) => camel);
  return { functionDeclarations, builtIns };
}

const MODES: Record<string, FunctionCallingMode> = {
  AUTO: 'AUTO',
  ANY: 'ANY',
  NONE: 'NONE',
  VALIDATED: 'VALIDATED',
  MODE_UNSPECIFIED: 'MODE_UNSPECIFIED',
  '0': 'MODE_UNSPECIFIED',
  '1': 'AUTO',
  '2': 'ANY',
  '3': 'NONE',
  '4': 'VALIDATED',
};

function normalizeToolConfig(raw: unknown): GeminiToolConfig | undefined {
  if (!isObject(raw)) return undefined;
  const calling = field(raw, 'functionCallingConfig', 'function_calling_config');
  if (!isObject(calling)) return undefined;
  const config: GeminiToolConfig = {};
  const mode = calling['mode'];
  if (mode !== undefined && mode !== null) {
    const normalized = MODES[String(mode).toUpperCase()];
    if (normalized === undefined) {
      throw invalidRequest(`Invalid value at 'toolConfig.functionCallingConfig.mode': ${JSON.stringify(mode)}.`);
    }
    config.mode = normalized;
  }
  const allowed = field(calling, 'allowedFunctionNames', 'allowed_function_names');
  if (Array.isArray(allowed)) config.allowedFunctionNames = allowed.filter((name): name is string => typeof name === 'string');
  return config;
}

function normalizeGenerationConfig(raw: unknown): GeminiGenerationConfig {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw invalidRequest(`Invalid value at 'generationConfig': expected an object.`);
  const config: GeminiGenerationConfig = {};
  const numbers: ReadonlyArray<[keyof GeminiGenerationConfig, string, string]> = [
    ['temperature', 'temperature', 'temperature'],
    ['topP', 'topP', 'top_p'],
    ['topK', 'topK', 'top_k'],
    ['maxOutputTokens', 'maxOutputTokens', 'max_output_tokens'],
    ['candidateCount', 'candidateCount', 'candidate_count'],
    ['seed', 'seed', 'seed'],
    ['presencePenalty', 'presencePenalty', 'presence_penalty'],
    ['frequencyPenalty', 'frequencyPenalty', 'frequency_penalty'],
  ];
  for (const [key, camel, snake] of numbers) {
    const value = optionalNumber(field(raw, camel, snake), `generationConfig.${camel}`);
    if (value !== undefined) (config as Record<string, number>)[key] = value;
  }
  const stops = field(raw, 'stopSequences', 'stop_sequences');
  if (stops !== undefined && stops !== null) {
    config.stopSequences = asArray(stops, 'generationConfig.stopSequences').map((stop, index) => {
      if (typeof stop !== 'string') throw invalidRequest(`Invalid value at 'generationConfig.stopSequences[${index}]'.`);
      return stop;
    });
  }
  const mime = optionalString(field(raw, 'responseMimeType', 'response_mime_type'), 'generationConfig.responseMimeType');
  if (mime !== undefined) config.responseMimeType = mime;
  const schema = field(raw, 'responseSchema', 'response_schema');
  if (schema !== undefined && schema !== null) config.responseSchema = schema as JsonValue;
  const jsonSchema = field(raw, 'responseJsonSchema', 'response_json_schema');
  if (jsonSchema !== undefined && jsonSchema !== null) config.responseJsonSchema = jsonSchema as JsonValue;
  const modalities = field(raw, 'responseModalities', 'response_modalities');
  if (Array.isArray(modalities)) config.responseModalities = modalities.map((modality) => String(modality).toUpperCase());
  const thinking = field(raw, 'thinkingConfig', 'thinking_config');
  if (isObject(thinking)) {
    config.thinkingConfig = {};
    const include = optionalBoolean(field(thinking, 'includeThoughts', 'include_thoughts'), 'generationConfig.thinkingConfig.includeThoughts');
    if (include !== undefined) config.thinkingConfig.includeThoughts = include;
    const budget = optionalNumber(field(thinking, 'thinkingBudget', 'thinking_budget'), 'generationConfig.thinkingConfig.thinkingBudget');
    if (budget !== undefined) config.thinkingConfig.thinkingBudget = budget;
    const level = field(thinking, 'thinkingLevel', 'thinking_level');
    if (typeof level === 'string') config.thinkingConfig.thinkingLevel = level.toUpperCase();
  }
  return config;
}

export function normalizeGenerateContentRequest(raw: unknown): GenerateContentRequest {
  if (!isObject(raw)) throw invalidRequest('Invalid JSON payload: the request body must be a JSON object.');
  const contentsRaw = raw['contents'];
  if (contentsRaw === undefined || contentsRaw === null) {
    throw invalidRequest("* GenerateContentRequest.contents: contents is not specified");
  }
  // A single Content object instead of an array is a common REST mistake; accept it.
  const contentList = Array.isArray(contentsRaw) ? contentsRaw : [contentsRaw];
  const contents = contentList.map((content, index) => normalizeContent(content, `contents[${index}]`));
  if (contents.every((content) => content.parts.length === 0)) {
    throw invalidRequest('* GenerateContentRequest.contents: contents is not specified (every part is empty)');
  }

  const request: GenerateContentRequest = {
    contents,
    tools: asArray(raw['tools'], 'tools').map((tool, index) => normalizeTool(tool, `tools[${index}]`)),
    generationConfig: normalizeGenerationConfig(field(raw, 'generationConfig', 'generation_config')),
  };
  const system = field(raw, 'systemInstruction', 'system_instruction');
  if (system !== undefined && system !== null) {
    // The system instruction may also arrive as a bare string from hand-written clients.
    request.systemInstruction =
      typeof system === 'string' ? { role: 'user', parts: [{ text: system }] } : normalizeContent(system, 'systemInstruction');
  }
  const toolConfig = normalizeToolConfig(field(raw, 'toolConfig', 'tool_config'));
  if (toolConfig !== undefined) request.toolConfig = toolConfig;
  const cached = field(raw, 'cachedContent', 'cached_content');
  if (typeof cached === 'string' && cached !== '') request.cachedContent = cached;
  return request;
}
