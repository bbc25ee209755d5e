/** Ingress normalisation of `Content` and `Part` ([R-REQ-1], [R-JSON-7]). Shape errors name the offending path. Pure. */
import { invalidRequest } from '../../errors.js';
import type { GeminiContent, GeminiPart } from '../gemini-types.js';
import {
  asJsonObject,
  asList,
  enumValue,
  field,
  isObject,
  optionalBoolean,
  optionalString,
  unknownKeys,
  type Raw,
} from './fields.js';

const LANGUAGES = ['LANGUAGE_UNSPECIFIED', 'PYTHON'] as const;
const OUTCOMES = ['OUTCOME_UNSPECIFIED', 'OUTCOME_OK', 'OUTCOME_FAILED', 'OUTCOME_DEADLINE_EXCEEDED'] as const;

/** Part fields this proxy reads; `thoughtSignature`, `videoMetadata`, `partMetadata` and `mediaResolution` are ignored on purpose. */
const PART_FIELDS = new Set([
  'text',
  'thought',
  'inlineData',
  'fileData',
  'functionCall',
  'functionResponse',
  'executableCode',
  'codeExecutionResult',
  'thoughtSignature',
]);

const FUNCTION_RESPONSE_FIELDS = new Set(['name', 'id', 'response', 'parts']);

function inlineDataOf(raw: Raw, path: string): GeminiPart['inlineData'] {
  const inline = field(raw, 'inlineData', 'inline_data');
  if (inline === undefined || inline === null) return undefined;
  if (!isObject(inline)) throw invalidRequest(`Invalid value at '${path}.inlineData': expected an object.`);
  const mimeType = optionalString(field(inline, 'mimeType', 'mime_type'), `${path}.inlineData.mimeType`);
  const data = optionalString(inline['data'], `${path}.inlineData.data`);
  if (data === undefined || data === '') throw invalidRequest(`Missing '${path}.inlineData.data'.`);
  return { mimeType: mimeType ?? 'application/octet-stream', data };
}

function fileDataOf(raw: Raw, path: string): GeminiPart['fileData'] {
  const file = field(raw, 'fileData', 'file_data');
  if (file === undefined || file === null) return undefined;
  if (!isObject(file)) throw invalidRequest(`Invalid value at '${path}.fileData': expected an object.`);
  const fileUri = optionalString(field(file, 'fileUri', 'file_uri'), `${path}.fileData.fileUri`);
  if (fileUri === undefined || fileUri === '') throw invalidRequest(`Missing '${path}.fileData.fileUri'.`);
  const mimeType = optionalString(field(file, 'mimeType', 'mime_type'), `${path}.fileData.mimeType`);
  return mimeType === undefined || mimeType === '' ? { fileUri } : { mimeType, fileUri };
}

function functionCallOf(raw: Raw, path: string): GeminiPart['functionCall'] {
  const call = field(raw, 'functionCall', 'function_call');
  if (call === undefined || call === null) return undefined;
  if (!isObject(call)) throw invalidRequest(`Invalid value at '${path}.functionCall': expected an object.`);
  const name = optionalString(call['name'], `${path}.functionCall.name`);
  if (name === undefined || name === '') throw invalidRequest(`Missing '${path}.functionCall.name'.`);
  const id = optionalString(call['id'], `${path}.functionCall.id`);
  const functionCall = { name, args: asJsonObject(call['args'], `${path}.functionCall.args`) };
  return id !== undefined && id !== '' ? { ...functionCall, id } : functionCall;
}

function functionResponseOf(raw: Raw, path: string, ignored: Set<string>): GeminiPart['functionResponse'] {
  const response = field(raw, 'functionResponse', 'function_response');
  if (response === undefined || response === null) return undefined;
  if (!isObject(response)) throw invalidRequest(`Invalid value at '${path}.functionResponse': expected an object.`);
  const name = optionalString(response['name'], `${path}.functionResponse.name`);
  if (name === undefined || name === '') throw invalidRequest(`Missing '${path}.functionResponse.name'.`);
  const id = optionalString(response['id'], `${path}.functionResponse.id`);
  const result: NonNullable<GeminiPart['functionResponse']> = {
    name,
    response: asJsonObject(response['response'], `${path}.functionResponse.response`),
  };
  if (id !== undefined && id !== '') result.id = id;
  const nested = asList(response['parts'])
    .map((item, index) => normalizePart(item, `${path}.functionResponse.parts[${index}]`, ignored))
    .filter((item): item is GeminiPart => item !== undefined);
  if (nested.length > 0) result.parts = nested;
  // `willContinue` and `scheduling` steer Gemini's Live API only.
  for (const key of unknownKeys(response, FUNCTION_RESPONSE_FIELDS, 'parts[].functionResponse')) ignored.add(key);
  return result;
}

function codeOf(raw: Raw, path: string): Pick<GeminiPart, 'executableCode' | 'codeExecutionResult'> {
  const out: Pick<GeminiPart, 'executableCode' | 'codeExecutionResult'> = {};
  const code = field(raw, 'executableCode', 'executable_code');
  if (isObject(code) && typeof code['code'] === 'string') {
    out.executableCode = { code: code['code'] };
    const language = code['language'];
    if (language !== undefined && language !== null)
      out.executableCode.language = enumValue(language, LANGUAGES, `${path}.executableCode.language`);
  }
  const result = field(raw, 'codeExecutionResult', 'code_execution_result');
  if (isObject(result)) {
    out.codeExecutionResult = {};
    const outcome = result['outcome'];
    if (outcome !== undefined && outcome !== null)
      out.codeExecutionResult.outcome = enumValue(outcome, OUTCOMES, `${path}.codeExecutionResult.outcome`);
    if (typeof result['output'] === 'string') out.codeExecutionResult.output = result['output'];
  }
  return out;
}

export function normalizePart(raw: unknown, path: string, ignored: Set<string>): GeminiPart | undefined {
  if (!isObject(raw)) throw invalidRequest(`Invalid value at '${path}': expected a Part object.`);
  const part: GeminiPart = {};
  const text = optionalString(raw['text'], `${path}.text`);
  if (text !== undefined && text !== '') part.text = text;
  const thought = optionalBoolean(raw['thought'], `${path}.thought`);
  if (thought !== undefined) part.thought = thought;
  const signature = field(raw, 'thoughtSignature', 'thought_signature');
  if (typeof signature === 'string') part.thoughtSignature = signature;
  const inlineData = inlineDataOf(raw, path);
  if (inlineData !== undefined) part.inlineData = inlineData;
  const fileData = fileDataOf(raw, path);
  if (fileData !== undefined) part.fileData = fileData;
  const functionCall = functionCallOf(raw, path);
  if (functionCall !== undefined) part.functionCall = functionCall;
  const functionResponse = functionResponseOf(raw, path, ignored);
  if (functionResponse !== undefined) part.functionResponse = functionResponse;
  Object.assign(part, codeOf(raw, path));
  for (const key of unknownKeys(raw, PART_FIELDS, 'parts[]')) ignored.add(key);

  const hasData =
    part.text !== undefined ||
    part.inlineData !== undefined ||
    part.fileData !== undefined ||
    part.functionCall !== undefined ||
    part.functionResponse !== undefined ||
    part.executableCode !== undefined ||
    part.codeExecutionResult !== undefined;
  return hasData ? part : undefined;
}

export function normalizeContent(raw: unknown, path: string, ignored: Set<string>): GeminiContent {
  if (!isObject(raw)) throw invalidRequest(`Invalid value at '${path}': expected a Content object.`);
  const role = raw['role'];
  if (role !== undefined && role !== null && typeof role !== 'string') {
    throw invalidRequest(`Invalid value at '${path}.role': expected a string.`);
  }
  const parts = asList(raw['parts'])
    .map((part, index) => normalizePart(part, `${path}.parts[${index}]`, ignored))
    .filter((part): part is GeminiPart => part !== undefined);
  // [R-REQ-1]: a missing role is "user"; anything but "model" is a user turn.
  return { role: role === 'model' || role === 'assistant' ? 'model' : 'user', parts };
}
