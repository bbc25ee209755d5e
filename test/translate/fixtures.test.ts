/**
 * Fixture-driven translator tests: each folder under test/fixtures holds a Gemini request, the expected Chat
 * Completions request, the upstream's raw SSE bytes (in the provider's shapes, docs/providers.md) and the exact SSE
 * bytes the proxy must emit. `fixture.json` names the provider preset whose profile translates both ways (as the
 * server does for a target of that preset), the upstream model and whether the call streams. The upstream bytes are
 * also fed split at every byte boundary; the output must not change. `UPDATE_FIXTURES=1` rewrites the expected files,
 * which are then reviewed by hand before committing.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UpstreamStreamPump } from '../../src/gateway/stream-pump.js';
import { PROVIDERS, isProviderName } from '../../src/providers/index.js';
import { frameSseEvent } from '../../src/server/response-channel.js';
import { geminiRequestToOpenAI } from '../../src/translate/gemini-request-to-openai.js';
import { normalizeGenerateContentRequest } from '../../src/translate/normalize-request.js';
import { streamUsageOverride } from '../../src/upstream/endpoints.js';

const root = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const update = process.env['UPDATE_FIXTURES'] === '1';

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

function expectFile(path: string, actual: string): void {
  if (update || !existsSync(path)) {
    if (!update) assert.fail(`missing expected file ${path}; run with UPDATE_FIXTURES=1 and review it`);
    writeFileSync(path, actual);
    return;
  }
  assert.equal(actual, read(path), path);
}

/** What `fixture.json` declares: the preset, the upstream model, streaming, and Azure's api-version. */
interface FixtureDeclaration {
  provider: string;
  model: string;
  stream: boolean;
  azureApiVersion?: string;
}

function isDeclaration(value: unknown): value is FixtureDeclaration {
  if (typeof value !== 'object' || value === null) return false;
  const fields = value as Record<string, unknown>;
  const known = new Set(['provider', 'model', 'stream', 'azureApiVersion']);
  return (
    Object.keys(fields).every((key) => known.has(key)) &&
    typeof fields['provider'] === 'string' &&
    typeof fields['model'] === 'string' &&
    typeof fields['stream'] === 'boolean' &&
    (fields['azureApiVersion'] === undefined || typeof fields['azureApiVersion'] === 'string')
  );
}

/** The translation options the server would use for a route target of the declared preset and model. */
function translateOptions(directory: string): Parameters<typeof geminiRequestToOpenAI>[1] {
  const path = `${directory}fixture.json`;
  assert.ok(existsSync(path), `${path} is missing: every fixture declares its provider preset, model and stream`);
  const declared: unknown = JSON.parse(read(path));
  assert.ok(isDeclaration(declared), `${path}: expected {provider, model, stream[, azureApiVersion]}`);
  assert.ok(isProviderName(declared.provider), `${path}: unknown provider preset "${declared.provider}"`);
  const profile = PROVIDERS[declared.provider];
  const streamUsage = streamUsageOverride({
    provider: declared.provider,
    profile,
    baseUrl: 'https://fixture.invalid/v1',
    apiKey: undefined,
    azureApiVersion: declared.azureApiVersion ?? '2024-10-21',
  });
  return {
    model: declared.model,
    stream: declared.stream,
    profile,
    ...(streamUsage === undefined ? {} : { streamUsage }),
  };
}

function translateStream(
  upstream: Uint8Array[],
  options: Parameters<typeof geminiRequestToOpenAI>[1],
  requestBody: unknown,
): string {
  const translated = geminiRequestToOpenAI(normalizeGenerateContentRequest(requestBody), options);
  const pump = new UpstreamStreamPump(
    {
      modelVersion: options.model,
      responseId: 'r-fixture',
      includeThoughts: translated.includeThoughts,
      textMode: translated.textMode,
      toolNames: translated.toolNames,
      promptCharacters: JSON.stringify(translated.body).length,
      ...(translated.body.n === undefined ? {} : { candidateCount: translated.body.n }),
      thinkTags: translated.thinkTags,
    },
    { upstreamLabel: 'fixture', redact: (text) => text },
  );
  let out = '';
  for (const chunk of upstream) for (const response of pump.push(chunk)) out += frameSseEvent(response);
  for (const response of pump.endOfInput()) out += frameSseEvent(response);
  const result = pump.finish();
  if (result.kind === 'failed') return `${out}FAILED\n`;
  for (const response of result.responses) out += frameSseEvent(response);
  return out;
}

describe('translator fixtures', () => {
  const defaultRequest: unknown = JSON.parse(read(`${root}default-gemini-request.json`));
  for (const name of readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()) {
    const directory = `${root}${name}/`;
    it(name, () => {
      const request: unknown = existsSync(`${directory}gemini-request.json`)
        ? JSON.parse(read(`${directory}gemini-request.json`))
        : defaultRequest;
      const options = translateOptions(directory);
      const translated = geminiRequestToOpenAI(normalizeGenerateContentRequest(request), options);
      expectFile(`${directory}openai-request.json`, `${JSON.stringify(translated.body, null, 2)}\n`);
      if (translated.warnings.length > 0 || existsSync(`${directory}warnings.json`)) {
        expectFile(`${directory}warnings.json`, `${JSON.stringify(translated.warnings, null, 2)}\n`);
      }

      if (!existsSync(`${directory}upstream.sse`)) return;
      const bytes = new Uint8Array(readFileSync(`${directory}upstream.sse`));
      const whole = translateStream([bytes], options, request);
      expectFile(`${directory}gemini-stream.sse`, whole);
      for (let cut = 1; cut < bytes.length; cut += 1) {
        assert.equal(
          translateStream([bytes.slice(0, cut), bytes.slice(cut)], options, request),
          whole,
          `${name}: split at byte ${cut}`,
        );
      }
    });
  }
});
