/**
 * The Chat Completions shapes we send, and the loose shapes we accept back. Upstreams deviate from OpenAI in many
 * documented ways (docs/providers.md §2), so every response field is optional and checked before use.
 */
import type { JsonObject } from './gemini-types.js';

export type OpenAIContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type OpenAIMessage =
  | { role: 'system' | 'developer'; content: string }
  | { role: 'user'; content: string | OpenAIContentPart[] }
  | { role: 'assistant'; content?: string | null; tool_calls?: OpenAIToolCall[]; reasoning_content?: string }
  | { role: 'tool'; tool_call_id: string; content: string };

export interface OpenAITool {
  type: 'function';
  function: { name: string; description?: string; parameters: JsonObject };
}

export type OpenAIToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export type OpenAIResponseFormat =
  { type: 'json_object' } | { type: 'json_schema'; json_schema: { name: string; schema: JsonObject; strict: boolean } };

export interface OpenAIChatRequest {
  model: string;
  messages: OpenAIMessage[];
  stream?: boolean;
  stream_options?: { include_usage: boolean };
  tools?: OpenAITool[];
  tool_choice?: OpenAIToolChoice;
  parallel_tool_calls?: boolean;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stop?: string[];
  n?: number;
  logprobs?: boolean;
  top_logprobs?: number;
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  response_format?: OpenAIResponseFormat;
  /** Provider thinking controls (docs/providers.md §4.3); at most one family is set per request. */
  reasoning_effort?: string;
  thinking?: { type: 'enabled' | 'disabled' };
  enable_thinking?: boolean;
  reasoning_format?: string;
  reasoning?: { effort?: string; max_tokens?: number; enabled?: boolean };
  chat_template_kwargs?: { enable_thinking: boolean };
}

export interface OpenAIUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  cached_tokens?: number;
  prompt_cache_hit_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

export interface OpenAIToolCallDelta {
  index?: number;
  id?: string | null;
  type?: string;
  function?: { name?: string | null; arguments?: string | null };
}

export interface OpenAIDelta {
  role?: string | null;
  content?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  tool_calls?: OpenAIToolCallDelta[] | null;
}

/** One sampled token with its alternatives (`choices[].logprobs.content[]`). */
export interface OpenAITokenLogprob {
  token?: string;
  logprob?: number;
  top_logprobs?: Array<{ token?: string; logprob?: number }> | null;
}

export interface OpenAIChoice {
  index?: number;
  logprobs?: { content?: OpenAITokenLogprob[] | null } | null;
  delta?: OpenAIDelta | null;
  message?: OpenAIDelta | null;
  finish_reason?: string | null;
  usage?: OpenAIUsage | null;
}

export interface OpenAIChunk {
  id?: string;
  model?: string;
  choices?: OpenAIChoice[] | null;
  usage?: OpenAIUsage | null;
}
