/** [R-JSON-6]: the body is JSON whatever the content type says; empty means no body; nesting is bounded. */
import type { FastifyInstance } from 'fastify';
import { invalidRequest } from '../errors.js';
import { MAX_JSON_DEPTH, exceedsDepth } from './request-edges.js';

export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      done(invalidRequest(`Invalid JSON payload received. ${error instanceof Error ? error.message : ''}`.trim()), undefined);
      return;
    }
    if (exceedsDepth(parsed)) done(invalidRequest(`Invalid JSON payload received. Nesting is deeper than ${MAX_JSON_DEPTH} levels.`), undefined);
    else done(null, parsed);
  });
}
