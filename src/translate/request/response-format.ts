/**
 * Structured output (docs/gemini-contract.md §3.8) down the fallback ladder of docs/providers.md §6: `json_schema`,
 * else `json_object` plus the schema in the system prompt (with the word "json", which DeepSeek requires), else the
 * instruction alone. The response side then strips fences and prose. Pure.
 */
import type { ModelCapabilities } from '../../providers/profile.js';
import type { GenerateContentRequest, JsonObject, JsonValue } from '../gemini-types.js';
import type { OpenAIChatRequest } from '../openai-types.js';
import { normalizeSchema } from '../schema.js';
import { normalizeSchemaForKimi } from '../schema-kimi.js';
import type { TranslationWarning } from '../warnings.js';
import { addSystemText } from './system-text.js';

/** How the response text must be post-processed to honour the requested MIME type ([R-JSON-MODE-2/3]). */
export type ResponseTextMode = 'text' | 'json' | 'enum';

function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The schema the reply must match, or undefined for plain JSON mode; `text` mode when no JSON was asked for. */
function requestedSchema(request: GenerateContentRequest): { mode: ResponseTextMode; schema: JsonObject | undefined } {
  const config = request.generationConfig;
  const mime = config.responseMimeType?.toLowerCase();
  const rawSchema = config.responseJsonSchema ?? config.responseSchema;
  if (mime === 'text/x.enum') {
    const normalized = rawSchema === undefined ? undefined : normalizeSchema(rawSchema);
    const values = isJsonObject(normalized) && Array.isArray(normalized['enum']) ? normalized['enum'] : [];
    return {
      mode: 'enum',
      schema: { type: 'object', properties: { value: { type: 'string', enum: values } }, required: ['value'] },
    };
  }
  if (mime === 'application/json') {
    const normalized = rawSchema === undefined ? undefined : normalizeSchema(rawSchema);
    return { mode: 'json', schema: isJsonObject(normalized) ? normalized : undefined };
  }
  return { mode: 'text', schema: undefined };
}

export function convertResponseFormat(
  request: GenerateContentRequest,
  body: OpenAIChatRequest,
  capabilities: ModelCapabilities,
  warnings: TranslationWarning[],
): ResponseTextMode {
  const { mode, schema } = requestedSchema(request);
  if (mode === 'text') return mode;
  if (schema === undefined) {
    if (capabilities.responseFormat !== 'none') body.response_format = { type: 'json_object' };
    addSystemText(body, 'Respond with a single json value only: no prose, no markdown fence.', capabilities.systemRole);
    return mode;
  }
  if (capabilities.responseFormat === 'json_schema') {
    const sent = capabilities.schemaDialect === 'kimi' ? normalizeSchemaForKimi(schema) : schema;
    body.response_format = { type: 'json_schema', json_schema: { name: 'response', schema: sent, strict: false } };
    return mode;
  }
  if (capabilities.responseFormat === 'json_object') body.response_format = { type: 'json_object' };
  warnings.push({
    kind: 'degraded',
    field: 'generationConfig.responseSchema',
    detail: `sent as an instruction${capabilities.responseFormat === 'json_object' ? ' with json_object' : ''}: the upstream has no json_schema`,
  });
  addSystemText(
    body,
    `Respond with json only: a single JSON value, no prose and no markdown fence, matching this JSON schema:\n${JSON.stringify(schema)}`,
    capabilities.systemRole,
  );
  return mode;
}
