/**
 * embedContent / batchEmbedContents ⇄ OpenAI `/embeddings` ([R-EMB-1], [R-EMB-2]). Pure.
 */
import { invalidRequest } from '../errors.js';
import { asList } from './normalize/fields.js';

type Raw = Record<string, unknown>;

export interface EmbeddingInput {
  /** The Gemini model named by the element (`models/x`), or undefined to use the URL's model. */
  model: string | undefined;
  text: string;
  dimensions: number | undefined;
}

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function contentText(content: unknown, path: string): string {
  if (!isObject(content)) throw invalidRequest(`Invalid value at '${path}': expected a Content object.`);
  const parts = asList(content['parts']);
  if (parts.length === 0) throw invalidRequest(`Missing '${path}.parts'.`);
  const texts: string[] = [];
  parts.forEach((part, index) => {
    if (!isObject(part) || typeof part['text'] !== 'string') {
      throw invalidRequest(`Invalid value at '${path}.parts[${index}]': only text parts can be embedded.`);
    }
    texts.push(part['text']);
  });
  const text = texts.join('\n');
  if (text.trim() === '') throw invalidRequest(`'${path}' has no text to embed.`);
  return text;
}

function embedRequest(raw: unknown, path: string): EmbeddingInput {
  if (!isObject(raw)) throw invalidRequest(`Invalid value at '${path}': expected an object.`);
  const dimensionsRaw = raw['outputDimensionality'] ?? raw['output_dimensionality'];
  const dimensions = dimensionsRaw === undefined || dimensionsRaw === null ? undefined : Number(dimensionsRaw);
  if (dimensions !== undefined && (!Number.isInteger(dimensions) || dimensions <= 0)) {
    throw invalidRequest(`Invalid value at '${path}.outputDimensionality': expected a positive integer.`);
  }
  const model = typeof raw['model'] === 'string' ? raw['model'].replace(/^models\//, '') : undefined;
  return { model, text: contentText(raw['content'], `${path}.content`), dimensions };
}

export function parseEmbedContent(body: unknown): EmbeddingInput[] {
  return [embedRequest(body, 'request')];
}

export function parseBatchEmbedContents(body: unknown): EmbeddingInput[] {
  const requests = isObject(body) ? asList(body['requests']) : [];
  if (requests.length === 0) throw invalidRequest("Missing 'requests': batchEmbedContents needs at least one request.");
  return requests.map((item, index) => embedRequest(item, `requests[${index}]`));
}

/** OpenAI `data[]` (floats, or base64 little-endian float32) → vectors in input order. */
export function parseEmbeddingsResponse(body: unknown, expected: number): number[][] {
  if (!isObject(body) || !Array.isArray(body['data'])) throw new Error('the embeddings reply has no data array');
  const vectors: number[][] = new Array<number[]>(expected);
  body['data'].forEach((item, position) => {
    if (!isObject(item)) return;
    const index = typeof item['index'] === 'number' ? item['index'] : position;
    const embedding = item['embedding'];
    if (Array.isArray(embedding)) vectors[index] = embedding.map(Number);
    else if (typeof embedding === 'string') {
      const bytes = Buffer.from(embedding, 'base64');
      const floats = new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4));
      vectors[index] = Array.from(floats);
    }
  });
  for (let index = 0; index < expected; index += 1) {
    const vector = vectors[index];
    if (vector === undefined || vector.length === 0)
      throw new Error(`the embeddings reply has no vector for input ${index}`);
  }
  return vectors;
}
