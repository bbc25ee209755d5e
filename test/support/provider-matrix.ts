/**
 * The provider matrix both suites walk (test/providers/matrix-http.test.ts and matrix-cli.test.ts): per preset, a
 * realistic model set, what the preset's model mapping must pick, and what each cell expects of that provider.
 * The proxy config is the one a user would write: provider, base URL in the provider's path shape, key, default model
 * (plus exact names for the extra models a cell needs, merged over the preset's own mapping).
 */
import { deflateSync } from 'node:zlib';
import { PROVIDERS } from '../../src/providers/index.js';
import type { ProviderName } from '../../src/providers/profile.js';
import { PERSONALITIES, UPSTREAM_KEY, type Personality } from './personalities/index.js';

/** The names Gemini CLI sends for the main turn and for utility calls (docs/gemini-contract.md §3.7, §8.1). */
export const MAIN_NAME = 'gemini-3-flash-preview';
export const LITE_NAME = 'gemini-3.1-flash-lite-preview';
/** Extra names mapped to a provider's vision, text-only or reasoning model. */
export const VISION_NAME = 'vision-model';
export const TEXT_NAME = 'text-model';
export const THINKING_NAME = 'thinking-model';

export interface ImageCase {
  /** The Gemini model name requested. */
  model: string;
  /** The upstream model it must reach. */
  upstream: string;
  /** The image reaches the upstream as a data URL, or is replaced by a text note. */
  expect: 'image' | 'note';
}

export interface MatrixEntry {
  provider: ProviderName;
  personality: Personality;
  defaultModel: string;
  /** Exact extra names (VISION_NAME…) → upstream models. */
  extraModels: Record<string, string>;
  /** What MAIN_NAME and LITE_NAME must resolve to. */
  main: string;
  lite: string;
  /** Reasoning on this provider: shown as text (`visible`), counted only (`hidden`). */
  thinking: {
    model: string;
    upstream: string;
    kind: 'visible' | 'hidden';
    /** The provider rejects a tool-call follow-up without the turn's reasoning_content (DeepSeek, Kimi). */
    replayRequired: boolean;
    /** The provider rejects reasoning fields on messages (Groq): the follow-up carries a raw client's thought part. */
    rejectsReasoningFields: boolean;
  };
  /** Whether the JSON utility call still reasons (no switch on this provider or model). */
  jsonThinks: boolean;
  /** Tool names pass through untouched (no charset rule on this upstream). */
  keepsDottedNames: boolean;
  images: ImageCase[];
  /** An https `fileData` image on the first image case's model. */
  httpImage: 'image' | 'note';
  extraConfig?: Record<string, unknown>;
}

function entry(provider: ProviderName, spec: Omit<MatrixEntry, 'provider' | 'personality'>): MatrixEntry {
  return { provider, personality: PERSONALITIES[provider], ...spec };
}

const visible = (
  model: string,
  upstream: string,
  replayRequired = false,
  rejectsReasoningFields = false,
): MatrixEntry['thinking'] => ({ model, upstream, kind: 'visible', replayRequired, rejectsReasoningFields });

export const MATRIX: readonly MatrixEntry[] = [
  entry('kimi', {
    defaultModel: 'kimi-k2.5',
    extraModels: { [TEXT_NAME]: 'kimi-k2-turbo-preview' },
    main: 'kimi-k2.5',
    lite: 'kimi-k2-turbo-preview',
    thinking: visible(MAIN_NAME, 'kimi-k2.5', true),
    jsonThinks: false,
    keepsDottedNames: false,
    images: [
      { model: MAIN_NAME, upstream: 'kimi-k2.5', expect: 'image' },
      { model: TEXT_NAME, upstream: 'kimi-k2-turbo-preview', expect: 'note' },
    ],
    httpImage: 'note',
  }),
  entry('deepseek', {
    defaultModel: 'deepseek-v4-pro',
    extraModels: {},
    main: 'deepseek-v4-pro',
    lite: 'deepseek-v4-flash',
    thinking: visible(MAIN_NAME, 'deepseek-v4-pro', true),
    jsonThinks: false,
    keepsDottedNames: false,
    images: [{ model: MAIN_NAME, upstream: 'deepseek-v4-pro', expect: 'note' }],
    httpImage: 'note',
  }),
  entry('zhipu', {
    defaultModel: 'glm-5',
    extraModels: { [VISION_NAME]: 'glm-4.5v' },
    main: 'glm-5',
    lite: 'glm-4.7-flash',
    thinking: visible(MAIN_NAME, 'glm-5'),
    jsonThinks: false,
    keepsDottedNames: false,
    images: [
      { model: VISION_NAME, upstream: 'glm-4.5v', expect: 'image' },
      { model: MAIN_NAME, upstream: 'glm-5', expect: 'note' },
    ],
    httpImage: 'image',
  }),
  entry('openai', {
    defaultModel: 'gpt-5',
    extraModels: {},
    main: 'gpt-5',
    lite: 'gpt-5-mini',
    thinking: {
      model: MAIN_NAME,
      upstream: 'gpt-5',
      kind: 'hidden',
      replayRequired: false,
      rejectsReasoningFields: false,
    },
    jsonThinks: true,
    keepsDottedNames: false,
    images: [{ model: MAIN_NAME, upstream: 'gpt-5', expect: 'image' }],
    httpImage: 'image',
  }),
  entry('azure', {
    defaultModel: 'o4-mini',
    extraModels: {},
    main: 'o4-mini',
    lite: 'o4-mini',
    thinking: {
      model: MAIN_NAME,
      upstream: 'o4-mini',
      kind: 'hidden',
      replayRequired: false,
      rejectsReasoningFields: false,
    },
    jsonThinks: true,
    keepsDottedNames: false,
    images: [{ model: MAIN_NAME, upstream: 'o4-mini', expect: 'image' }],
    httpImage: 'image',
  }),
  entry('ollama', {
    defaultModel: 'qwen3:8b',
    extraModels: { [VISION_NAME]: 'qwen3-vl:8b' },
    main: 'qwen3:8b',
    lite: 'qwen3:8b',
    thinking: visible(MAIN_NAME, 'qwen3:8b'),
    // Ollama's preset has no thinking switch, so JSON calls to qwen3 still reason (a known gap).
    jsonThinks: true,
    keepsDottedNames: true,
    images: [{ model: VISION_NAME, upstream: 'qwen3-vl:8b', expect: 'image' }],
    httpImage: 'note',
  }),
  entry('openrouter', {
    defaultModel: 'moonshotai/kimi-k2.5',
    extraModels: {},
    main: 'moonshotai/kimi-k2.5',
    lite: 'moonshotai/kimi-k2.5',
    thinking: visible(MAIN_NAME, 'moonshotai/kimi-k2.5'),
    jsonThinks: false,
    keepsDottedNames: false,
    images: [{ model: MAIN_NAME, upstream: 'moonshotai/kimi-k2.5', expect: 'image' }],
    httpImage: 'image',
  }),
  entry('vllm', {
    defaultModel: 'Qwen/Qwen3-32B',
    extraModels: { [VISION_NAME]: 'Qwen/Qwen2.5-VL-7B-Instruct' },
    main: 'Qwen/Qwen3-32B',
    lite: 'Qwen/Qwen3-32B',
    thinking: visible(MAIN_NAME, 'Qwen/Qwen3-32B'),
    jsonThinks: false,
    keepsDottedNames: false,
    images: [{ model: VISION_NAME, upstream: 'Qwen/Qwen2.5-VL-7B-Instruct', expect: 'image' }],
    httpImage: 'image',
  }),
  entry('llamacpp', {
    defaultModel: 'gpt-oss-20b',
    extraModels: {},
    main: 'gpt-oss-20b',
    lite: 'gpt-oss-20b',
    thinking: visible(MAIN_NAME, 'gpt-oss-20b'),
    jsonThinks: true,
    keepsDottedNames: true,
    images: [{ model: MAIN_NAME, upstream: 'gpt-oss-20b', expect: 'image' }],
    httpImage: 'note',
  }),
  entry('dashscope', {
    defaultModel: 'qwen3-max',
    extraModels: { [VISION_NAME]: 'qwen3-vl-plus' },
    main: 'qwen3-max',
    lite: 'qwen-flash',
    thinking: visible(MAIN_NAME, 'qwen3-max'),
    jsonThinks: false,
    keepsDottedNames: false,
    images: [
      { model: VISION_NAME, upstream: 'qwen3-vl-plus', expect: 'image' },
      { model: MAIN_NAME, upstream: 'qwen3-max', expect: 'note' },
    ],
    httpImage: 'image',
  }),
  entry('groq', {
    defaultModel: 'moonshotai/kimi-k2-instruct-0905',
    extraModels: { [THINKING_NAME]: 'qwen/qwen3-32b', [VISION_NAME]: 'meta-llama/llama-4-scout-17b-16e-instruct' },
    main: 'moonshotai/kimi-k2-instruct-0905',
    lite: 'llama-3.1-8b-instant',
    thinking: visible(THINKING_NAME, 'qwen/qwen3-32b', false, true),
    jsonThinks: false,
    keepsDottedNames: false,
    images: [
      { model: VISION_NAME, upstream: 'meta-llama/llama-4-scout-17b-16e-instruct', expect: 'image' },
      { model: MAIN_NAME, upstream: 'moonshotai/kimi-k2-instruct-0905', expect: 'note' },
    ],
    httpImage: 'image',
  }),
  entry('generic', {
    defaultModel: 'r1-distill-qwen-32b',
    extraModels: { [VISION_NAME]: 'qwen2.5-vl-72b-instruct' },
    main: 'r1-distill-qwen-32b',
    lite: 'r1-distill-qwen-32b',
    thinking: visible(MAIN_NAME, 'r1-distill-qwen-32b'),
    jsonThinks: true,
    keepsDottedNames: false,
    images: [{ model: VISION_NAME, upstream: 'qwen2.5-vl-72b-instruct', expect: 'image' }],
    httpImage: 'image',
  }),
];

/** The proxy config for one provider, pointing at a personality's base URL. */
export function proxyConfig(
  entry: MatrixEntry,
  baseUrl: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const config: Record<string, unknown> = {
    provider: entry.provider,
    openai_base_url: baseUrl,
    openai_api_key: UPSTREAM_KEY,
    default_openai_model: entry.defaultModel,
    ...entry.extraConfig,
    ...extra,
  };
  if (Object.keys(entry.extraModels).length > 0)
    config['model_mapping'] = { ...PROVIDERS[entry.provider].defaultModelMapping, ...entry.extraModels };
  return config;
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real PNG: 4×4 pixels, a red, green, blue and white quadrant (8-bit RGB). */
export function tinyPng(): Buffer {
  const size = 4;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows: number[] = [];
  for (let y = 0; y < size; y++) {
    rows.push(0); // filter: none
    for (let x = 0; x < size; x++) {
      const quadrant = (y < size / 2 ? 0 : 2) + (x < size / 2 ? 0 : 1);
      rows.push(
        ...([
          [255, 0, 0],
          [0, 255, 0],
          [0, 0, 255],
          [255, 255, 255],
        ][quadrant] ?? [0, 0, 0]),
      );
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.from(rows))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export const PNG_BASE64 = tinyPng().toString('base64');
