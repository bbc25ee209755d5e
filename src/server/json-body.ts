/**
 * Request bodies ([R-JSON-6]): JSON whatever the content type says; empty means no body; nesting is bounded. Parsed
 * the way Google's front end parses them (issue 11): strict `JSON.parse` is the fast path; only a body it rejects
 * gets a second, tolerant parse (JSON5: trailing commas, comments, unquoted keys, single-quoted strings,
 * backslash-newline continuations) after raw control characters inside strings are escaped, which JSON5 refuses but
 * Google accepts (REST samples written with a line break inside a prompt). A body neither parse accepts is still a
 * 400 naming the position, except on a path that is no Gemini route: that answers 404 whatever it was sent.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import JSON5 from 'json5';
import { invalidRequest } from '../errors.js';
import { parseGeminiPath } from './gemini-path.js';
import { MAX_JSON_DEPTH, exceedsDepth } from './request-edges.js';

export type JsonBodyResult = { ok: true; value: unknown } | { ok: false; message: string };

const CONTROL_ESCAPES: Readonly<Record<string, string>> = {
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

function escapeControl(character: string): string {
  return CONTROL_ESCAPES[character] ?? `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Escapes raw control characters inside string literals, leaving everything else byte for byte. Comments are skipped
 * so a quote inside one does not open a string; a control character right after a backslash is kept, since JSON5
 * reads backslash-newline as a line continuation.
 */
export function escapeRawControlCharacters(text: string): string {
  let out = '';
  let quote: string | undefined;
  let index = 0;
  while (index < text.length) {
    const character = text[index] ?? '';
    if (quote !== undefined) {
      if (character === '\\') {
        out += text.slice(index, index + 2);
        index += 2;
        continue;
      }
      if (character === quote) quote = undefined;
      out += character < ' ' ? escapeControl(character) : character;
      index += 1;
      continue;
    }
    if (character === '"' || character === "'") quote = character;
    else if (character === '/' && (text[index + 1] === '/' || text[index + 1] === '*')) {
      const close = text[index + 1] === '/' ? text.indexOf('\n', index) : text.indexOf('*/', index + 2);
      const end = close === -1 ? text.length : text[index + 1] === '/' ? close : close + 2;
      out += text.slice(index, end);
      index = end;
      continue;
    }
    out += character;
    index += 1;
  }
  return out;
}

function tolerantMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { lineNumber, columnNumber, message } = error as {
      lineNumber?: unknown;
      columnNumber?: unknown;
      message?: unknown;
    };
    const raw =
      typeof message === 'string' ? message.replace(/^JSON5: /, '').replace(/ at \d+:\d+$/, '') : 'invalid syntax';
    const reason = raw.charAt(0).toUpperCase() + raw.slice(1);
    if (typeof lineNumber === 'number' && typeof columnNumber === 'number')
      return `${reason} at line ${lineNumber}, column ${columnNumber}.`;
    return `${reason}.`;
  }
  return 'Invalid syntax.';
}

export function parseJsonBody(text: string): JsonBodyResult {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    try {
      return { ok: true, value: JSON5.parse<unknown>(escapeRawControlCharacters(text)) };
    } catch (error) {
      return { ok: false, message: `Invalid JSON payload received. ${tolerantMessage(error)}` };
    }
  }
}

export function installJsonBodyParser(app: FastifyInstance, basePath: string): void {
  // Routes before bodies: the Gemini catch-all answers 404 for a path it does not serve, so its body does not matter.
  const isUnknownGeminiPath = (request: FastifyRequest): boolean =>
    request.routeOptions.url === '/*' &&
    parseGeminiPath(request.method, request.url.split('?')[0] ?? '', basePath).kind === 'not-found';
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    // What token limits charge: the body really read, also when it came chunked without a Content-Length.
    request.proxyInfo.bodyLength = text.length;
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    const parsed = parseJsonBody(text);
    if (!parsed.ok) {
      if (isUnknownGeminiPath(request)) done(null, undefined);
      else done(invalidRequest(parsed.message), undefined);
      return;
    }
    if (exceedsDepth(parsed.value))
      done(
        invalidRequest(`Invalid JSON payload received. Nesting is deeper than ${MAX_JSON_DEPTH} levels.`),
        undefined,
      );
    else done(null, parsed.value);
  });
}
