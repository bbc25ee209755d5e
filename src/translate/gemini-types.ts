/**
 * The Gemini request and response shapes the translators work on. Requests arrive in camelCase or snake_case
 * ([R-JSON-1]); `normalizeGenerateContentRequest` turns them into these camelCase types once, at ingress.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface GeminiInlineData {
  mimeType: string;
  data: string;
}

export interface GeminiFileData {
  mimeType?: string;
  fileUri: string;
}

export interface GeminiFunctionCall {
  id?: string;
  name: string;
  args: JsonObject;
}

export interface GeminiFunctionResponse {
  id?: string;
  name: string;
  response: JsonObject;
  parts?: GeminiPart[];
}

export interface GeminiPart {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  inlineData?: GeminiInlineData;
  fileData?: GeminiFileData;
  functionCall?: GeminiFunctionCall;
  functionResponse?: GeminiFunctionResponse;
  executableCode?: { language?: string; code: string };
  codeExecutionResult?: { outcome?: string; output?: string };
}

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  /** Gemini `Schema` (OpenAPI subset, upper-case types). */
  parameters?: JsonObject;
  /** Plain JSON Schema. */
  parametersJsonSchema?: JsonValue;
}

export interface GeminiTool {
  functionDeclarations: GeminiFunctionDeclaration[];
  /** Names of Google built-in tools present on this entry (googleSearch, urlContext, codeExecution, …). */
  builtIns: string[];
}

export type FunctionCallingMode = 'AUTO' | 'ANY' | 'NONE' | 'VALIDATED' | 'MODE_UNSPECIFIED';

export interface GeminiToolConfig {
  mode?: FunctionCallingMode;
  allowedFunctionNames?: string[];
}

export interface GeminiThinkingConfig {
  includeThoughts?: boolean;
  thinkingBudget?: number;
  thinkingLevel?: string;
}

export interface GeminiGenerationConfig {
  temperature?: number;
  topP?: number;
  topK?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  responseSchema?: JsonValue;
  responseJsonSchema?: JsonValue;
  responseModalities?: string[];
  thinkingConfig?: GeminiThinkingConfig;
  responseLogprobs?: boolean;
  /** Number of top candidates per token, with `responseLogprobs`. */
  logprobs?: number;
}

export interface GenerateContentRequest {
  contents: GeminiContent[];
  systemInstruction?: GeminiContent;
  tools: GeminiTool[];
  toolConfig?: GeminiToolConfig;
  generationConfig: GeminiGenerationConfig;
  cachedContent?: string;
  /** Fields present in the request that the proxy does not act on (ignored on purpose, or unknown), for a debug log. */
  ignoredFields: string[];
}

// ---- responses ----

export type FinishReason = 'STOP' | 'MAX_TOKENS' | 'SAFETY' | 'RECITATION' | 'OTHER' | 'MALFORMED_FUNCTION_CALL';

export interface ResponsePart {
  text?: string;
  thought?: boolean;
  functionCall?: GeminiFunctionCall;
}

export interface LogprobsCandidate {
  token: string;
  logProbability: number;
}

export interface LogprobsResult {
  topCandidates: Array<{ candidates: LogprobsCandidate[] }>;
  chosenCandidates: LogprobsCandidate[];
}

/** Gemini's search grounding (docs/gemini-contract.md §4.2); segment offsets are UTF-8 byte offsets into the answer. */
export interface GroundingMetadata {
  webSearchQueries: string[];
  groundingChunks?: Array<{ web: { uri: string; title: string } }>;
  groundingSupports?: Array<{
    segment: { startIndex: number; endIndex: number; text: string };
    groundingChunkIndices: number[];
    confidenceScores?: number[];
  }>;
}

export interface Candidate {
  content?: { role: 'model'; parts: ResponsePart[] };
  finishReason?: FinishReason;
  avgLogprobs?: number;
  logprobsResult?: LogprobsResult;
  groundingMetadata?: GroundingMetadata;
  index: number;
}

export interface UsageMetadata {
  promptTokenCount: number;
  candidatesTokenCount: number;
  totalTokenCount: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
}

export interface GenerateContentResponse {
  candidates?: Candidate[];
  usageMetadata?: UsageMetadata;
  modelVersion: string;
  responseId: string;
}
