/**
 * Gemini REST path parsing ([R-URL-1]…[R-URL-7]). The model id is everything between `models/` (or `tunedModels/`,
 * `dynamic/`) and the *last* `:`, percent-decoded once, so `qwen3:8b`, `openai/gpt-4o` and `%3A` all work. Pure.
 */

export type GeminiMethod =
  'generateContent' | 'streamGenerateContent' | 'countTokens' | 'embedContent' | 'batchEmbedContents';

const METHODS = new Set<string>([
  'generateContent',
  'streamGenerateContent',
  'countTokens',
  'embedContent',
  'batchEmbedContents',
]);

export type GeminiRoute =
  | { kind: 'method'; version: string; resource: string; model: string; method: GeminiMethod }
  | { kind: 'list-models'; version: string }
  | { kind: 'get-model'; version: string; model: string }
  | { kind: 'list-tuned-models'; version: string }
  | { kind: 'get-tuned-model'; version: string; model: string }
  | { kind: 'bad-model'; message: string }
  | { kind: 'not-found' };

/**
 * Longest accepted model name, in UTF-8 bytes. Real names are under 100; a long name only costs (glob matching, logs,
 * labels), so it is refused before anything looks at it.
 */
export const MAX_MODEL_NAME_BYTES = 256;

/** The 400 message for a model name that is too long, or undefined when it is fine. */
export function modelNameProblem(model: string): string | undefined {
  return Buffer.byteLength(model, 'utf8') > MAX_MODEL_NAME_BYTES
    ? `The model name is longer than ${MAX_MODEL_NAME_BYTES} bytes.`
    : undefined;
}

function decode(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** `path` is the request path without the query string. */
export function parseGeminiPath(httpMethod: string, path: string, basePath: string): GeminiRoute {
  let rest = path;
  if (basePath !== '') {
    if (rest !== basePath && !rest.startsWith(`${basePath}/`)) return { kind: 'not-found' };
    rest = rest.slice(basePath.length);
  }
  const match = /^\/(v1alpha|v1beta|v1)\/(models|tunedModels|dynamic)(?:\/(.*))?$/.exec(rest);
  if (match === null) return { kind: 'not-found' };
  const version = match[1] ?? 'v1beta';
  const resource = match[2] ?? 'models';
  const remainder = match[3];

  if (httpMethod === 'GET') {
    if (remainder === undefined || remainder === '') {
      if (resource === 'models') return { kind: 'list-models', version };
      if (resource === 'tunedModels') return { kind: 'list-tuned-models', version };
      return { kind: 'not-found' };
    }
    const model = decode(remainder);
    if (model === undefined) return { kind: 'bad-model', message: 'The model name is not valid percent-encoding.' };
    const tooLong = modelNameProblem(model);
    if (tooLong !== undefined) return { kind: 'bad-model', message: tooLong };
    // [R-URL-5]: GET ids are never split at ':' (qwen3:8b).
    if (resource === 'models') return { kind: 'get-model', version, model };
    return { kind: 'get-tuned-model', version, model };
  }

  if (httpMethod !== 'POST' || remainder === undefined) return { kind: 'not-found' };
  const decoded = decode(remainder);
  if (decoded === undefined) return { kind: 'bad-model', message: 'The model name is not valid percent-encoding.' };
  const colon = decoded.lastIndexOf(':');
  if (colon === -1) return { kind: 'not-found' };
  const method = decoded.slice(colon + 1);
  if (!METHODS.has(method)) return { kind: 'not-found' };
  const model = decoded.slice(0, colon);
  if (model.trim() === '') return { kind: 'bad-model', message: 'The model name must not be empty.' };
  const tooLong = modelNameProblem(model);
  if (tooLong !== undefined) return { kind: 'bad-model', message: tooLong };
  return { kind: 'method', version, resource, model, method: method as GeminiMethod };
}
