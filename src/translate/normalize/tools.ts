/** Ingress normalisation of `tools` and `toolConfig` (docs/gemini-contract.md §3.4, §3.5). Pure. */
import { invalidRequest } from '../../errors.js';
import type {
  FunctionCallingMode,
  GeminiFunctionDeclaration,
  GeminiTool,
  GeminiToolConfig,
  JsonValue,
} from '../gemini-types.js';
import { asJsonObject, asList, enumValue, field, isObject, optionalString, unknownKeys } from './fields.js';

/** Google's server-side tools: none has a Chat Completions equivalent, so each is refused or dropped ([R-TOOL-4]). */
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
  ['mcpServers', 'mcp_servers'],
];

const TOOL_FIELDS = new Set(['functionDeclarations', ...BUILT_IN_TOOL_FIELDS.map(([camel]) => camel)]);
/** `response`, `responseJsonSchema` and `behavior` describe the caller's side of a function: ignored on purpose. */
const DECLARATION_FIELDS = new Set(['name', 'description', 'parameters', 'parametersJsonSchema']);

const MODES: readonly FunctionCallingMode[] = ['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED'];

function normalizeDeclaration(item: unknown, itemPath: string, ignored: Set<string>): GeminiFunctionDeclaration {
  if (!isObject(item)) throw invalidRequest(`Invalid value at '${itemPath}': expected an object.`);
  const name = optionalString(item['name'], `${itemPath}.name`);
  if (name === undefined || name === '') throw invalidRequest(`Missing '${itemPath}.name'.`);
  const declaration: GeminiFunctionDeclaration = { name };
  const description = optionalString(item['description'], `${itemPath}.description`);
  if (description !== undefined) declaration.description = description;
  const parameters = item['parameters'];
  if (parameters !== undefined && parameters !== null)
    declaration.parameters = asJsonObject(parameters, `${itemPath}.parameters`);
  const jsonSchema = field(item, 'parametersJsonSchema', 'parameters_json_schema');
  if (jsonSchema !== undefined && jsonSchema !== null) declaration.parametersJsonSchema = jsonSchema as JsonValue;
  for (const key of unknownKeys(item, DECLARATION_FIELDS, 'tools[].functionDeclarations[]')) ignored.add(key);
  return declaration;
}

export function normalizeTool(raw: unknown, path: string, ignored: Set<string>): GeminiTool {
  if (!isObject(raw)) throw invalidRequest(`Invalid value at '${path}': expected a Tool object.`);
  const functionDeclarations = asList(field(raw, 'functionDeclarations', 'function_declarations')).map((item, index) =>
    normalizeDeclaration(item, `${path}.functionDeclarations[${index}]`, ignored),
  );
  const builtIns = BUILT_IN_TOOL_FIELDS.filter(([camel, snake]) => (field(raw, camel, snake) ?? null) !== null).map(
    ([camel]) => camel,
  );
  for (const key of unknownKeys(raw, TOOL_FIELDS, 'tools[]')) ignored.add(key);
  return { functionDeclarations, builtIns };
}

export function normalizeToolConfig(raw: unknown, ignored: Set<string>): GeminiToolConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw invalidRequest(`Invalid value at 'toolConfig': expected an object.`);
  for (const key of unknownKeys(raw, new Set(['functionCallingConfig']), 'toolConfig')) ignored.add(key);
  const calling = field(raw, 'functionCallingConfig', 'function_calling_config');
  if (calling === undefined || calling === null) return undefined;
  if (!isObject(calling))
    throw invalidRequest(`Invalid value at 'toolConfig.functionCallingConfig': expected an object.`);
  const config: GeminiToolConfig = {};
  const mode = calling['mode'];
  if (mode !== undefined && mode !== null)
    config.mode = enumValue(mode, MODES, 'toolConfig.functionCallingConfig.mode');
  const allowed = field(calling, 'allowedFunctionNames', 'allowed_function_names');
  if (allowed !== undefined && allowed !== null) {
    config.allowedFunctionNames = asList(allowed).map((name, index) => {
      if (typeof name !== 'string')
        throw invalidRequest(
          `Invalid value at 'toolConfig.functionCallingConfig.allowedFunctionNames[${index}]': expected a string.`,
        );
      return name;
    });
  }
  return config;
}
