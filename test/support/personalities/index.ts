/** The personality of every preset, by provider name. */
import type { ProviderName } from '../../../src/providers/profile.js';
import { azure } from './azure.js';
import type { Personality } from './core.js';
import { dashscope } from './dashscope.js';
import { deepseek } from './deepseek.js';
import { generic } from './generic.js';
import { groq } from './groq.js';
import { kimi } from './kimi.js';
import { llamacpp } from './llamacpp.js';
import { ollama } from './ollama.js';
import { openai } from './openai.js';
import { openrouter } from './openrouter.js';
import { vllm } from './vllm.js';
import { zhipu } from './zhipu.js';

export const PERSONALITIES: Readonly<Record<ProviderName, Personality>> = {
  kimi,
  deepseek,
  zhipu,
  openai,
  azure,
  ollama,
  openrouter,
  vllm,
  llamacpp,
  dashscope,
  groq,
  generic,
};

export { PersonalityUpstream, type Exchange, type Responder, type ResponderContext } from './server.js';
export * from './core.js';
