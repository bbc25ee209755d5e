/**
 * End-to-end: the real Gemini CLI 0.61.0, headless (`-p … --output-format json`), against the real proxy and a
 * scripted OpenAI-compatible upstream (docs/gemini-contract.md §12). Each run gets a fresh HOME with the §12.1 settings
 * and a fresh workspace; the CLI may only talk to the proxy. Assertions cover the CLI's exit code and JSON output AND
 * the Chat Completions bodies the upstream received.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type {
  OpenAIChatRequest,
  OpenAIChunk,
  OpenAIMessage,
  OpenAIToolCall,
} from '../../src/translate/openai-types.js';
import {
  chatBody,
  describeRun,
  errorOutput,
  finishReasons,
  parseErrorBody,
  readTraces,
  removeTemporaryDirectories,
  runCli,
  sentEvents,
  sentText,
  successOutput,
  temporaryDirectory,
  type Trace,
} from '../support/gemini-cli.js';
import { ScriptedUpstream, sseFromChunks, type Script } from '../support/scripted-upstream.js';
import { startProxy, type RunningProxy } from '../support/proxy.js';

// ---------------------------------------------------------------------------------------------------------------
// Upstream helpers

function bodies(upstream: ScriptedUpstream): OpenAIChatRequest[] {
  for (const request of upstream.received) assert.equal(request.url, '/v1/chat/completions');
  return upstream.received.map(chatBody);
}

function hasToolMessage(body: OpenAIChatRequest): boolean {
  return body.messages.some((message) => message.role === 'tool');
}

type ToolMessage = Extract<OpenAIMessage, { role: 'tool' }>;
type AssistantMessage = Extract<OpenAIMessage, { role: 'assistant' }>;

function toolMessages(body: OpenAIChatRequest): ToolMessage[] {
  return body.messages.filter((message): message is ToolMessage => message.role === 'tool');
}

function assistantWithCalls(body: OpenAIChatRequest): {
  index: number;
  message: AssistantMessage;
  calls: OpenAIToolCall[];
} {
  const index = body.messages.findIndex(
    (message) => message.role === 'assistant' && (message.tool_calls?.length ?? 0) > 0,
  );
  assert.ok(
    index >= 0,
    `no assistant message with tool_calls in ${JSON.stringify(body.messages.map((message) => message.role))}`,
  );
  const message = body.messages[index] as AssistantMessage;
  return { index, message, calls: message.tool_calls ?? [] };
}

function textOf(message: OpenAIMessage): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (part.type === 'text' ? part.text : '')).join('');
  return '';
}

const ID = 'chatcmpl-cli-test';

function chunk(
  delta: NonNullable<NonNullable<OpenAIChunk['choices']>[number]['delta']>,
  finishReason: string | null = null,
): OpenAIChunk {
  return { id: ID, model: 'scripted', choices: [{ index: 0, delta, finish_reason: finishReason }] };
}

function usageChunk(prompt: number, completion: number, reasoning?: number): OpenAIChunk {
  const usage: NonNullable<OpenAIChunk['usage']> = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  if (reasoning !== undefined) usage.completion_tokens_details = { reasoning_tokens: reasoning };
  return { id: ID, model: 'scripted', choices: [], usage };
}

function sse(chunks: OpenAIChunk[], options: { done?: boolean; delayMs?: number } = {}): Script {
  const script: Script = { kind: 'sse', writes: sseFromChunks(chunks, { done: options.done ?? true }) };
  if (options.delayMs !== undefined) script.delayMs = options.delayMs;
  return script;
}

/** Fails the test loudly if the CLI makes a request the scenario did not expect. */
function unexpected(reason: string): Script {
  return {
    kind: 'json',
    status: 400,
    body: {
      error: { message: `cli test: unexpected request (${reason})`, type: 'invalid_request_error', code: 'unexpected' },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * For "no retry" scenarios: with maxAttempts 1 a bad stream would not be retried either, so allow mid-stream retries
 * (min(maxAttempts, 4) attempts) and let an extra upstream call expose a stream the CLI found invalid.
 */
const RETRIES_VISIBLE = 3;

const MAIN_MODEL = 'up-main';
const LITE_MODEL = 'up-lite';
const MAPPED_MODEL = 'up-mapped';

describe('Gemini CLI 0.61.0 headless through the proxy', () => {
  let upstream: ScriptedUpstream;
  let proxy: RunningProxy;
  const logDirectory = temporaryDirectory('gemini-proxy-logs-');
  const traces = (expected: number): Promise<Trace[]> => readTraces(logDirectory, expected);

  before(async () => {
    upstream = await new ScriptedUpstream().start();
    proxy = await startProxy({
      openai_base_url: upstream.baseUrl,
      openai_api_key: 'sk-upstream-secret',
      default_openai_model: MAIN_MODEL,
      model_mapping: { 'some-model': MAPPED_MODEL, 'gemini-*flash-lite*': LITE_MODEL },
      logging: { enable_detailed_logs: true, enable_access_logs: true, log_directory: logDirectory },
      // The scenarios count upstream calls to observe the CLI's own retries; the proxy's retries would add to them.
      retries: { attempts_per_target: 1 },
      // Failure scenarios must not open the circuit for the models the next scenarios use.
      circuit_breaker: { failure_threshold: 1000 },
    });
  });
  beforeEach(() => {
    upstream.reset();
    rmSync(join(logDirectory, 'detailed'), { recursive: true, force: true });
  });
  after(async () => {
    await proxy.stop();
    await upstream.stop();
    removeTemporaryDirectories();
  });

  it('model auto: router classifier in JSON mode (fenced reply stripped), then one streamed main turn with usage', async () => {
    const classifierReply =
      'Here is my routing decision:\n```json\n{"complexity_reasoning": "A greeting is trivial.", "complexity_score": 5}\n```\nLet me know if you need more.';
    upstream.setFallback({
      kind: 'dynamic',
      respond: (request) => {
        const body = chatBody(request);
        if (body.response_format !== undefined) {
          return {
            kind: 'json',
            body: {
              id: ID,
              object: 'chat.completion',
              model: LITE_MODEL,
              choices: [{ index: 0, message: { role: 'assistant', content: classifierReply }, finish_reason: 'stop' }],
              usage: { prompt_tokens: 321, completion_tokens: 17, total_tokens: 338 },
            },
          };
        }
        if (body.stream === true && (body.tools?.length ?? 0) > 0) {
          return sse([
            chunk({ role: 'assistant', content: '' }),
            chunk({ content: 'Hello' }),
            chunk({ content: ' from the' }),
            chunk({ content: ' scripted upstream.' }),
            chunk({}, 'stop'),
            usageChunk(1234, 56),
          ]);
        }
        return unexpected('neither classifier nor main turn');
      },
    });

    const run = await runCli(proxy.url, { prompt: 'say hi' });
    const output = successOutput(run, upstream);
    assert.equal(run.code, 0, describeRun(run, upstream));
    assert.equal(output.response, 'Hello from the scripted upstream.');
    assert.equal(output.error, undefined);

    const [classifier, main, ...rest] = bodies(upstream);
    assert.equal(rest.length, 0, `exactly 2 upstream calls (no classifier retries)\n${describeRun(run, upstream)}`);
    assert.ok(classifier !== undefined && main !== undefined);

    // The classifier went to a flash-lite name (mapped by the glob rule), unary, in JSON mode with a lower-cased schema.
    assert.equal(classifier.model, LITE_MODEL);
    assert.notEqual(classifier.stream, true);
    assert.equal(classifier.tools, undefined);
    const format = classifier.response_format;
    assert.ok(
      format !== undefined && format.type === 'json_schema',
      `classifier response_format: ${JSON.stringify(format)}`,
    );
    const schema = format.json_schema.schema as {
      type?: unknown;
      properties?: Record<string, { type?: unknown }>;
      required?: unknown;
    };
    assert.equal(schema.type, 'object');
    assert.equal(schema.properties?.['complexity_reasoning']?.type, 'string');
    assert.equal(schema.properties?.['complexity_score']?.type, 'integer');
    assert.deepEqual(schema.required, ['complexity_reasoning', 'complexity_score']);
    assert.doesNotMatch(JSON.stringify(schema), /"(OBJECT|STRING|INTEGER)"/);
    assert.ok(classifier.messages.some((message) => message.role === 'user' && textOf(message).includes('say hi')));

    // The main turn: the router's flash pick falls through to the default model, streamed, with the CLI's tools.
    assert.equal(main.model, MAIN_MODEL);
    assert.equal(main.stream, true);
    assert.deepEqual(main.stream_options, { include_usage: true });
    assert.equal(main.response_format, undefined);
    const toolNames = (main.tools ?? []).map((tool) => tool.function.name);
    assert.ok(
      toolNames.includes('list_directory') && toolNames.includes('read_file'),
      `main-turn tools: ${toolNames.join(', ')}`,
    );
    assert.equal(main.messages[0]?.role, 'system');
    assert.ok(main.messages.some((message) => message.role === 'user' && textOf(message).includes('say hi')));

    // Stats: keyed on modelVersion (the upstream model), tokens exactly as the upstream reported them.
    const models = output.stats?.models ?? {};
    assert.deepEqual(Object.keys(models).sort(), [LITE_MODEL, MAIN_MODEL].sort(), JSON.stringify(models));
    const lite = models[LITE_MODEL];
    const primary = models[MAIN_MODEL];
    assert.ok(lite !== undefined && primary !== undefined);
    assert.equal(lite.api.totalRequests, 1);
    assert.equal(lite.api.totalErrors, 0);
    assert.equal(lite.tokens.prompt, 321);
    assert.equal(lite.tokens.candidates, 17);
    assert.equal(lite.tokens.total, 338);
    assert.equal(lite.roles?.['utility_router']?.totalRequests, 1);
    assert.equal(primary.api.totalRequests, 1);
    assert.equal(primary.api.totalErrors, 0);
    assert.equal(primary.tokens.prompt, 1234);
    assert.equal(primary.tokens.candidates, 56);
    assert.equal(primary.tokens.total, 1290);
    assert.equal(primary.tokens.thoughts, 0);
    assert.equal(primary.roles?.['main']?.totalRequests, 1);

    // What the CLI asked the proxy for, and what the proxy answered.
    const proxyTraces = await traces(2);
    assert.equal(proxyTraces.length, 2, 'the CLI made exactly two requests to the proxy');
    const [classifierTrace, mainTrace] = proxyTraces;
    assert.ok(classifierTrace !== undefined && mainTrace !== undefined);
    const classifierRequest = classifierTrace['1_GEMINI_REQUEST'];
    assert.match(classifierRequest?.url ?? '', /\/models\/gemini-[^/:]*flash-lite[^/:]*:generateContent$/);
    const generationConfig = (
      classifierRequest?.body as {
        generationConfig?: { responseMimeType?: string; responseJsonSchema?: { type?: string } };
      }
    ).generationConfig;
    assert.equal(generationConfig?.responseMimeType, 'application/json');
    assert.equal(
      generationConfig?.responseJsonSchema?.type?.toLowerCase(),
      'object',
      'the CLI sends responseJsonSchema',
    );
    const classifierText = sentText(sentEvents(classifierTrace));
    assert.deepEqual(
      JSON.parse(classifierText),
      { complexity_reasoning: 'A greeting is trivial.', complexity_score: 5 },
      'bare JSON, fence and prose stripped',
    );
    assert.equal(classifierText.trim().startsWith('{'), true);
    assert.match(
      mainTrace['1_GEMINI_REQUEST']?.url ?? '',
      /\/models\/gemini-[^/:]*flash[^/:]*:streamGenerateContent\?alt=sse$/,
    );
    assert.doesNotMatch(mainTrace['1_GEMINI_REQUEST']?.url ?? '', /flash-lite/);
    const mainEvents = sentEvents(mainTrace);
    assert.deepEqual(finishReasons(mainEvents), ['STOP']);
    assert.deepEqual(mainEvents.at(-1)?.usageMetadata, {
      promptTokenCount: 1234,
      candidatesTokenCount: 56,
      totalTokenCount: 1290,
    });
  });

  it('tool loop: a list_directory call streamed in fragments runs in the workspace and its result goes back as a tool message', async () => {
    const files = { 'alpha-notes.txt': 'alpha\n', 'beta-data.json': '{}\n' };
    upstream.setFallback({
      kind: 'dynamic',
      respond: (request) => {
        const body = chatBody(request);
        if (!hasToolMessage(body)) {
          return sse([
            chunk({
              role: 'assistant',
              content: null,
              tool_calls: [
                { index: 0, id: 'call_ls_7f3a', type: 'function', function: { name: 'list_directory', arguments: '' } },
              ],
            }),
            chunk({ tool_calls: [{ index: 0, function: { arguments: '{"di' } }] }),
            chunk({ tool_calls: [{ index: 0, function: { arguments: 'r_path' } }] }),
            chunk({ tool_calls: [{ index: 0, function: { arguments: '": "' } }] }),
            chunk({ tool_calls: [{ index: 0, function: { arguments: '."}' } }] }),
            chunk({}, 'tool_calls'),
            usageChunk(900, 20),
          ]);
        }
        // Answer from what the tool actually returned, so the final text proves the round trip.
        const listing = toolMessages(body)
          .map((message) => message.content)
          .join('\n');
        const found = Object.keys(files).filter((name) => listing.includes(name));
        return sse([
          chunk({ role: 'assistant', content: 'The directory contains ' }),
          chunk({ content: found.join(' and ') + '.' }, 'stop'),
          usageChunk(1000, 12),
        ]);
      },
    });

    const run = await runCli(proxy.url, {
      prompt: 'list the files in this directory',
      args: ['-m', 'some-model'],
      files,
    });
    const output = successOutput(run, upstream);
    assert.equal(run.code, 0, describeRun(run, upstream));
    assert.equal(output.response, 'The directory contains alpha-notes.txt and beta-data.json.');

    const [first, second, ...rest] = bodies(upstream);
    assert.equal(rest.length, 0, describeRun(run, upstream));
    assert.ok(first !== undefined && second !== undefined);
    assert.equal(first.model, MAPPED_MODEL, '-m some-model: no classifier call, mapped exactly');
    assert.equal(first.stream, true);
    assert.equal(hasToolMessage(first), false);

    // Second request: the assistant's call (same id, complete arguments) immediately followed by its tool result.
    assert.equal(second.model, MAPPED_MODEL);
    const { index, calls } = assistantWithCalls(second);
    assert.equal(calls.length, 1);
    const call = calls[0];
    assert.ok(call !== undefined);
    assert.equal(call.id, 'call_ls_7f3a');
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'list_directory');
    assert.deepEqual(JSON.parse(call.function.arguments), { dir_path: '.' });
    const toolMessage = second.messages[index + 1];
    assert.ok(
      toolMessage !== undefined && toolMessage.role === 'tool',
      `message after the tool call: ${JSON.stringify(toolMessage)}`,
    );
    assert.equal(toolMessage.tool_call_id, 'call_ls_7f3a');
    for (const name of Object.keys(files))
      assert.ok(toolMessage.content.includes(name), `tool result lacks ${name}: ${toolMessage.content}`);
    assert.equal(toolMessages(second).length, 1);
    // Gemini-only artefacts never reach the upstream ([R-SIG-1]).
    assert.doesNotMatch(
      upstream.received[1]?.rawBody ?? '',
      /skip_thought_signature_validator|thoughtSignature|list_directory__/,
    );

    // The proxy emitted the call once, complete, with the upstream id ([R-FC-1], [R-FC-4]); the CLI echoed the id on
    // both the call and its response and added the signature sentinel, which the proxy accepted and dropped.
    const [firstTrace, secondTrace] = await traces(2);
    assert.ok(firstTrace !== undefined && secondTrace !== undefined);
    const firstEvents = sentEvents(firstTrace);
    const emittedCalls = firstEvents
      .flatMap((event) => event.candidates?.[0]?.content?.parts ?? [])
      .filter((part) => part.functionCall !== undefined);
    assert.deepEqual(emittedCalls, [
      { functionCall: { name: 'list_directory', args: { dir_path: '.' }, id: 'call_ls_7f3a' } },
    ]);
    assert.deepEqual(finishReasons(firstEvents), ['STOP']);
    const geminiContents =
      (
        secondTrace['1_GEMINI_REQUEST']?.body as {
          contents?: Array<{ role?: string; parts?: Array<Record<string, unknown>> }>;
        }
      ).contents ?? [];
    const geminiParts = geminiContents.flatMap((content) => content.parts ?? []);
    const echoedCall = geminiParts.find((part) => part['functionCall'] !== undefined);
    assert.deepEqual(echoedCall?.['functionCall'], {
      id: 'call_ls_7f3a',
      name: 'list_directory',
      args: { dir_path: '.' },
    });
    assert.equal(echoedCall?.['thoughtSignature'], 'skip_thought_signature_validator');
    const echoedResponse = geminiParts.find((part) => part['functionResponse'] !== undefined)?.['functionResponse'] as
      { id?: string; name?: string } | undefined;
    assert.equal(echoedResponse?.id, 'call_ls_7f3a');
    assert.equal(echoedResponse?.name, 'list_directory');

    const stats = output.stats;
    assert.ok(stats !== undefined);
    assert.equal(stats.tools.totalCalls, 1);
    assert.equal(stats.tools.totalSuccess, 1);
    assert.equal(stats.tools.byName['list_directory']?.count, 1);
    assert.equal(stats.models[MAPPED_MODEL]?.api.totalRequests, 2);
    assert.equal(stats.models[MAPPED_MODEL]?.tokens.prompt, 1900);
  });

  it('parallel tool calls with interleaved argument fragments: both run, and two tool messages follow in call order', async () => {
    const files = { 'gamma.txt': 'GAMMA-CONTENT-4711\n', 'delta.txt': 'delta\n' };
    upstream.setFallback({
      kind: 'dynamic',
      respond: (request) => {
        const body = chatBody(request);
        if (!hasToolMessage(body)) {
          return sse([
            chunk({
              role: 'assistant',
              content: null,
              tool_calls: [
                { index: 0, id: 'call_par_A', type: 'function', function: { name: 'list_directory', arguments: '' } },
              ],
            }),
            chunk({
              tool_calls: [
                { index: 1, id: 'call_par_B', type: 'function', function: { name: 'read_file', arguments: '' } },
              ],
            }),
            chunk({ tool_calls: [{ index: 0, function: { arguments: '{"dir_pa' } }] }),
            chunk({ tool_calls: [{ index: 1, function: { arguments: '{"file_pa' } }] }),
            chunk({ tool_calls: [{ index: 0, function: { arguments: 'th": "."}' } }] }),
            chunk({ tool_calls: [{ index: 1, function: { arguments: 'th": "gamma.txt"}' } }] }),
            chunk({}, 'tool_calls'),
            usageChunk(900, 40),
          ]);
        }
        const results = toolMessages(body).map((message) => message.content);
        const sawListing = results[0]?.includes('delta.txt') === true;
        const sawContent = results[1]?.includes('GAMMA-CONTENT-4711') === true;
        return sse([
          chunk(
            {
              role: 'assistant',
              content: `listing ok: ${sawListing}; gamma says ${sawContent ? 'GAMMA-CONTENT-4711' : 'nothing'}`,
            },
            'stop',
          ),
          usageChunk(1100, 15),
        ]);
      },
    });

    const run = await runCli(proxy.url, {
      prompt: 'list the files and read gamma.txt',
      args: ['-m', 'some-model'],
      files,
    });
    const output = successOutput(run, upstream);
    assert.equal(run.code, 0, describeRun(run, upstream));
    assert.equal(output.response, 'listing ok: true; gamma says GAMMA-CONTENT-4711');

    const all = bodies(upstream);
    assert.equal(all.length, 2, describeRun(run, upstream));
    const second = all[1];
    assert.ok(second !== undefined);
    const { index, calls } = assistantWithCalls(second);
    assert.deepEqual(
      calls.map((call) => [call.id, call.function.name, JSON.parse(call.function.arguments) as unknown]),
      [
        ['call_par_A', 'list_directory', { dir_path: '.' }],
        ['call_par_B', 'read_file', { file_path: 'gamma.txt' }],
      ],
    );
    const following = second.messages.slice(index + 1, index + 3);
    assert.deepEqual(
      following.map((message) => [message.role, message.role === 'tool' ? message.tool_call_id : undefined]),
      [
        ['tool', 'call_par_A'],
        ['tool', 'call_par_B'],
      ],
    );
    assert.equal(toolMessages(second).length, 2);
    assert.equal(output.stats?.tools.totalCalls, 2);
    assert.equal(output.stats?.tools.totalSuccess, 2);
  });

  it('reasoning_content becomes thoughts: never in the response text nor sent back as content; reasoning tokens reported', async () => {
    const secret = 'REASONING-SECRET-93';
    upstream.setFallback({
      kind: 'dynamic',
      respond: (request) => {
        const body = chatBody(request);
        if (!hasToolMessage(body)) {
          return sse([
            chunk({ role: 'assistant', content: null, reasoning_content: '' }),
            chunk({ reasoning_content: '**Planning** I should look ' }),
            chunk({ reasoning_content: `at the files first (${secret}).` }),
            chunk({
              tool_calls: [
                {
                  index: 0,
                  id: 'call_think_1',
                  type: 'function',
                  function: { name: 'list_directory', arguments: '{"dir_path":"."}' },
                },
              ],
            }),
            chunk({}, 'tool_calls'),
            usageChunk(800, 30, 18),
          ]);
        }
        return sse([
          chunk({ role: 'assistant', content: null, reasoning_content: `Now I can answer (${secret}).` }),
          chunk({ content: 'There is exactly one file: ' }),
          chunk({ content: 'epsilon.txt' }, 'stop'),
          usageChunk(900, 25, 10),
        ]);
      },
    });

    const run = await runCli(proxy.url, {
      prompt: 'what files are here?',
      args: ['-m', 'some-model'],
      files: { 'epsilon.txt': 'e\n' },
    });
    const output = successOutput(run, upstream);
    assert.equal(run.code, 0, describeRun(run, upstream));
    assert.equal(output.response, 'There is exactly one file: epsilon.txt');
    assert.doesNotMatch(output.response ?? '', new RegExp(secret));

    const all = bodies(upstream);
    assert.equal(all.length, 2, describeRun(run, upstream));
    const second = all[1];
    assert.ok(second !== undefined);
    for (const message of second.messages) {
      assert.doesNotMatch(
        textOf(message),
        new RegExp(secret),
        `reasoning leaked into a ${message.role} message's content`,
      );
    }
    assert.equal(assistantWithCalls(second).calls[0]?.id, 'call_think_1');

    // The proxy sent the reasoning as thought parts, each in an event of its own, before any text ([R-THK-1/2]).
    const [, answerTrace] = await traces(2);
    assert.ok(answerTrace !== undefined);
    const events = sentEvents(answerTrace);
    const kinds = events.map((event) => {
      const parts = event.candidates?.[0]?.content?.parts ?? [];
      if (parts.length === 0) return 'none';
      if (parts.every((part) => part.thought === true)) return 'thought';
      assert.ok(
        parts.every((part) => part.thought !== true),
        `thought mixed with other parts: ${JSON.stringify(parts)}`,
      );
      return 'answer';
    });
    assert.equal(kinds[0], 'thought', kinds.join(','));
    assert.ok(kinds.lastIndexOf('thought') < kinds.indexOf('answer'), kinds.join(','));
    const thoughtText = events
      .flatMap((event) => event.candidates?.[0]?.content?.parts ?? [])
      .filter((part) => part.thought === true)
      .map((part) => part.text)
      .join('');
    assert.equal(thoughtText, `Now I can answer (${secret}).`);
    assert.equal(sentText(events), 'There is exactly one file: epsilon.txt');

    // candidates = completion − reasoning; thoughts = reasoning ([R-USE-2]); the CLI sums both turns.
    const tokens = output.stats?.models[MAPPED_MODEL]?.tokens;
    assert.ok(tokens !== undefined, JSON.stringify(output.stats));
    assert.equal(tokens.thoughts, 18 + 10);
    assert.equal(tokens.candidates, 30 - 18 + (25 - 10));
    assert.equal(tokens.prompt, 800 + 900);
    assert.equal(tokens.total, 800 + 30 + 900 + 25);
  });

  describe('upstream errors with general.maxAttempts 1 (exit code = proxy HTTP status mod 256)', () => {
    it('upstream 400 → proxy 400 INVALID_ARGUMENT → exit 144, one call', async () => {
      upstream.setFallback({
        kind: 'json',
        status: 400,
        body: {
          error: {
            message: "Invalid value for 'temperature': must be at most 1.",
            type: 'invalid_request_error',
            param: 'temperature',
            code: null,
          },
        },
      });
      const run = await runCli(proxy.url, { prompt: 'say hi', args: ['-m', 'some-model'] });
      assert.equal(run.code, 144, describeRun(run, upstream));
      const output = errorOutput(run, upstream);
      assert.equal(output.error?.code, 400);
      const body = parseErrorBody(output.error?.message ?? '');
      assert.equal(body.error.code, 400);
      assert.equal(body.error.status, 'INVALID_ARGUMENT');
      assert.match(body.error.message, /must be at most 1/);
      assert.equal(upstream.received.length, 1, describeRun(run, upstream));
    });

    it('DeepSeek 402 Insufficient Balance → proxy 400 FAILED_PRECONDITION → exit 144, exactly one call', async () => {
      upstream.setFallback({
        kind: 'json',
        status: 402,
        body: {
          error: { message: 'Insufficient Balance', type: 'unknown_error', param: null, code: 'invalid_request_error' },
        },
      });
      const run = await runCli(proxy.url, { prompt: 'say hi', args: ['-m', 'some-model'] });
      assert.equal(run.code, 144, describeRun(run, upstream));
      const output = errorOutput(run, upstream);
      assert.equal(output.error?.code, 400);
      const body = parseErrorBody(output.error?.message ?? '');
      assert.equal(body.error.code, 400);
      assert.equal(body.error.status, 'FAILED_PRECONDITION');
      assert.match(body.error.message, /Insufficient Balance/);
      const info = body.error.details?.find((detail) => detail['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo');
      assert.equal(info?.['reason'], 'UPSTREAM_INSUFFICIENT_BALANCE');
      assert.equal((info?.['metadata'] as Record<string, string> | undefined)?.['upstream_status'], '402');
      assert.equal(upstream.received.length, 1, describeRun(run, upstream));
    });

    it('upstream 500 → proxy 503 UNAVAILABLE → exit 247', async () => {
      upstream.setFallback({
        kind: 'json',
        status: 500,
        body: { error: { message: 'Internal server error', type: 'server_error', code: null } },
      });
      const run = await runCli(proxy.url, { prompt: 'say hi', args: ['-m', 'some-model'] });
      assert.equal(run.code, 247, describeRun(run, upstream));
      const output = errorOutput(run, upstream);
      // 503 is retryable: the CLI reports the inner message and the status, not the JSON body.
      assert.equal(output.error?.code, 503);
      assert.match(output.error?.message ?? '', /Internal server error/);
      assert.equal(upstream.received.length, 1, describeRun(run, upstream));
      const [trace] = await traces(1);
      assert.ok(trace !== undefined);
      assert.deepEqual(
        sentEvents(trace).map((event) => [event.error?.code, event.error?.status]),
        [[503, 'UNAVAILABLE']],
      );
    });
  });

  it('a stream that ends with [DONE] but no finish_reason finishes as STOP: exit 0, no retry', async () => {
    upstream.setFallback(
      sse([chunk({ role: 'assistant', content: 'No finish ' }), chunk({ content: 'reason here.' })], { done: true }),
    );
    const run = await runCli(proxy.url, { prompt: 'say hi', args: ['-m', 'some-model'], maxAttempts: RETRIES_VISIBLE });
    const output = successOutput(run, upstream);
    assert.equal(run.code, 0, describeRun(run, upstream));
    assert.equal(output.response, 'No finish reason here.');
    assert.equal(output.error, undefined);
    assert.equal(upstream.received.length, 1, `retried\n${describeRun(run, upstream)}`);
    const [trace] = await traces(1);
    assert.ok(trace !== undefined);
    assert.deepEqual(finishReasons(sentEvents(trace)), ['STOP']);
  });

  it('content with U+2028 and U+2029 survives SSE framing (escaped), no "Incomplete JSON segment"', async () => {
    upstream.setFallback(
      sse([
        chunk({ role: 'assistant', content: 'line one\u2028line two' }),
        chunk({ content: '\u2029end' }, 'stop'),
        usageChunk(10, 5),
      ]),
    );
    const run = await runCli(proxy.url, { prompt: 'say hi', args: ['-m', 'some-model'], maxAttempts: RETRIES_VISIBLE });
    const output = successOutput(run, upstream);
    assert.equal(run.code, 0, describeRun(run, upstream));
    assert.equal(output.response, 'line one\u2028line two\u2029end');
    assert.equal(upstream.received.length, 1, describeRun(run, upstream));
  });

  it('upstream drops the connection after some text: the raw 503 error object, the CLI retries mid-stream, then exits 247 (never 0 with a cut-off answer)', async () => {
    upstream.setFallback({
      kind: 'sse',
      writes: sseFromChunks([chunk({ role: 'assistant', content: 'Partial ' }), chunk({ content: 'answer' })], {
        done: false,
      }),
      destroyAfter: true,
    });
    const run = await runCli(proxy.url, { prompt: 'say hi', args: ['-m', 'some-model'], maxAttempts: RETRIES_VISIBLE });
    assert.equal(run.code, 247, describeRun(run, upstream));
    assert.equal(upstream.received.length, RETRIES_VISIBLE, describeRun(run, upstream));
    const [trace] = await traces(1);
    assert.ok(trace !== undefined);
    const events = sentEvents(trace);
    assert.deepEqual(finishReasons(events), [], JSON.stringify(events));
    assert.equal(sentText(events), 'Partial answer');
    assert.equal(events.at(-1)?.error?.code, 503, JSON.stringify(events));
  });
});
