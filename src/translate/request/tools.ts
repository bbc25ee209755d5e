/**
 * Gemini `tools` → Chat Completions `tools` (docs/gemini-contract.md §3.4): function declarations with their schema in
 * the upstream's dialect; Google built-in tools refused or dropped ([R-TOOL-4], [R-TOOL-5]). Pure.
 */
import { ProxyError } from '../../errors.js';
import type { ModelCapabilities } from '../../providers/profile.js';
import type { GenerateContentRequest } from '../gemini-types.js';
import type { OpenAITool } from '../openai-types.js';
import { toolParametersSchema } from '../schema.js';
import { normalizeSchemaForKimi } from '../schema-kimi.js';
import type { ToolNameCodec } from '../tool-names.js';
import type { TranslationWarning } from '../warnings.js';

/** Every tool name the request mentions, so the name codec can rename them consistently in both directions. */
export function collectToolNames(request: GenerateContentRequest): string[] {
  const names: string[] = [];
  for (const tool of request.tools) for (const declaration of tool.functionDeclarations) names.push(declaration.name);
  for (const content of request.contents) {
    for (const part of content.parts) {
      if (part.functionCall !== undefined) names.push(part.functionCall.name);
      if (part.functionResponse !== undefined) names.push(part.functionResponse.name);
    }
  }
  for (const name of request.toolConfig?.allowedFunctionNames ?? []) names.push(name);
  return names;
}

export function convertTools(
  request: GenerateContentRequest,
  names: ToolNameCodec,
  capabilities: ModelCapabilities,
  warnings: TranslationWarning[],
): OpenAITool[] {
  const tools: OpenAITool[] = [];
  const builtIns = request.tools.flatMap((tool) => tool.builtIns);
  for (const tool of request.tools) {
    for (const declaration of tool.functionDeclarations) {
      const schema = declaration.parametersJsonSchema ?? declaration.parameters;
      const parameters = toolParametersSchema(schema);
      const fn: OpenAITool['function'] = {
        name: names.toUpstream(declaration.name),
        parameters: capabilities.schemaDialect === 'kimi' ? normalizeSchemaForKimi(parameters) : parameters,
      };
      if (declaration.description !== undefined && declaration.description !== '')
        fn.description = declaration.description;
      tools.push({ type: 'function', function: fn });
    }
  }
  if (builtIns.length > 0) {
    if (tools.length === 0) {
      // [R-TOOL-4]: a model without web access would invent search results or page content; a 400 makes Gemini CLI
      // fall back (web_fetch fetches locally) or report a tool error the main model can see.
      throw new ProxyError(
        'UNSUPPORTED_FEATURE',
        `Built-in tool ${builtIns.join(', ')} is not available through this proxy (the upstream has no Google ${builtIns.includes('googleSearch') ? 'web search' : 'tool'} equivalent).`,
      );
    }
    warnings.push({ kind: 'dropped', field: 'tools', detail: `Google built-in tools: ${builtIns.join(', ')}` });
  }
  return tools;
}
