/**
 * The provider matrix through the REAL Gemini CLI 0.61.0 headless (issue 3): per preset, three CLI runs against the
 * real proxy configured for that provider, in front of its personality:
 *   A. no `-m` (model auto): the router classifier (unary, JSON mode, upper-case schema, fenced reply), then a main turn
 *      with reasoning and two parallel tool calls the CLI really executes in its workspace, then the follow-up with
 *      both results (on DeepSeek and Kimi the personality rejects it unless the reasoning is replayed);
 *   B. `describe @pic.png` with a real PNG in the workspace: the CLI sends it as inlineData, the upstream gets a data
 *      URL (vision model) or a note (text-only model), never a 400;
 *   C. the provider's quota error with general.maxAttempts 1: a balance error (or a rate limit with a day-long delay)
 *      ends the run at once with exit code = Gemini status mod 256 and one request; a plain rate limit stays retryable,
 *      so the CLI retries after its backoff and the run succeeds once the limit has passed.
 * Providers run three at a time; each run is asserted on the CLI's output, the proxy's traces, and what the
 * personality received and accepted.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { assertOneSentence } from '../support/error-sentence.js';
import {
  describeRun,
  errorOutput,
  parseErrorBody,
  readTraces,
  removeTemporaryDirectories,
  runCli,
  sentEvents,
  successOutput,
  temporaryDirectory,
  type CliRun,
} from '../support/gemini-cli.js';
import {
  PersonalityUpstream,
  contentText,
  imageParts,
  toolMessages,
  type ChatRequest,
  type Exchange,
} from '../support/personalities/index.js';
import { MAIN_NAME, MATRIX, PNG_BASE64, proxyConfig, tinyPng, type MatrixEntry } from '../support/provider-matrix.js';
import { startProxy, type RunningProxy } from '../support/proxy.js';

const CLASSIFIER_REPLY =
  'Routing decision:\n```json\n{"complexity_reasoning": "Listing and reading two files is simple.", "complexity_score": 15}\n```';

function chatOf(exchange: Exchange | undefined): ChatRequest {
  assert.ok(exchange?.chat !== undefined, 'no parsed chat request');
  return exchange.chat;
}

function explain(run: CliRun, upstream: PersonalityUpstream): string {
  return `${describeRun(run, upstream.scripted)}\npersonality:\n${upstream.describe()}`;
}

/** The JSON-mode request of a run (the router classifier). */
function isUtilityCall(chat: ChatRequest): boolean {
  return chat.raw['response_format'] !== undefined;
}

describe('provider matrix through Gemini CLI 0.61.0', { concurrency: 3 }, () => {
  after(() => removeTemporaryDirectories());

  for (const entry of MATRIX) {
    describe(`provider ${entry.provider} via Gemini CLI`, { concurrency: 1 }, () => {
      let upstream: PersonalityUpstream;
      let proxy: RunningProxy;
      const logDirectory = temporaryDirectory(`gemini-proxy-matrix-${entry.provider}-`);

      before(async () => {
        upstream = await new PersonalityUpstream(entry.personality).start();
        proxy = await startProxy(
          proxyConfig(entry, upstream.baseUrl, {
            logging: { enable_detailed_logs: true, enable_access_logs: false, log_directory: logDirectory },
          }),
        );
      });
      beforeEach(() => {
        upstream.reset();
        rmSync(join(logDirectory, 'detailed'), { recursive: true, force: true });
      });
      after(async () => {
        await proxy.stop();
        await upstream.stop();
      });

      it('A: auto model — classifier JSON call, reasoning + parallel tool calls run by the CLI, follow-up with both results', async () => {
        const reasoning = `Two things to do: list the directory and read alpha.txt (${entry.provider}-A1).`;
        upstream.onChat((chat) => {
          if (isUtilityCall(chat)) return { text: CLASSIFIER_REPLY };
          const results = toolMessages(chat);
          if (results.length === 0) {
            return {
              reasoning,
              calls: [
                { name: 'list_directory', arguments: { dir_path: '.' } },
                { name: 'read_file', arguments: { file_path: 'alpha.txt' } },
              ],
            };
          }
          const listing = contentText(results[0]?.content);
          const content = contentText(results[1]?.content);
          return {
            reasoning: 'Both results are in; answer briefly.',
            text: `listing has beta.md: ${listing.includes('beta.md')}; alpha says ${content.includes('ALPHA-4711') ? 'ALPHA-4711' : 'nothing'}`,
          };
        });
        const run = await runCli(proxy.url, {
          prompt: 'list this directory and read alpha.txt',
          files: { 'alpha.txt': 'ALPHA-4711\n', 'beta.md': '# beta\n' },
        });
        const output = successOutput(run, upstream.scripted);
        assert.equal(run.code, 0, explain(run, upstream));
        assert.equal(output.response, 'listing has beta.md: true; alpha says ALPHA-4711', explain(run, upstream));

        assert.equal(upstream.rejections.length, 0, explain(run, upstream));
        const chats = upstream.chats;
        assert.equal(chats.length, 3, `classifier, main turn, follow-up\n${explain(run, upstream)}`);
        const [classifier, main, followUp] = chats.map(chatOf);
        assert.ok(classifier !== undefined && main !== undefined && followUp !== undefined);
        assert.ok(isUtilityCall(classifier), 'the classifier comes first');
        assert.equal(classifier.model, entry.lite);
        assert.equal(classifier.stream, false);
        assert.equal(main.model, entry.main);
        assert.equal(main.stream, true);
        assert.ok(
          main.tools.some((tool) => tool.name === 'list_directory') &&
            main.tools.some((tool) => tool.name === 'read_file'),
        );

        const planned = chats[1]?.plan?.calls ?? [];
        assert.equal(planned.length, 2, 'the personality returned both calls');
        const assistant = followUp.messages.find(
          (message) => message.role === 'assistant' && (message.toolCalls?.length ?? 0) > 0,
        );
        assert.ok(assistant !== undefined, explain(run, upstream));
        assert.deepEqual(
          assistant.toolCalls?.map((call) => [call.id, call.name]),
          planned.map((call) => [call.id, call.name]),
          'the CLI echoed the provider ids, the proxy sent them back',
        );
        assert.deepEqual(
          followUp.messages
            .slice(assistant.index + 1, assistant.index + 3)
            .map((message) => [message.role, message.toolCallId]),
          planned.map((call) => ['tool', call.id]),
        );
        if (entry.thinking.replayRequired) {
          assert.equal(chats[1]?.thinking, true);
          assert.equal(assistant.raw['reasoning_content'], reasoning, 'the reasoning the CLI stripped was replayed');
        }
        if (entry.thinking.rejectsReasoningFields)
          assert.equal('reasoning_content' in assistant.raw || 'reasoning' in assistant.raw, false);

        // The CLI classified through the proxy (bare JSON back) and ran both tools.
        const traces = await readTraces(logDirectory, 3);
        const classifierTrace = traces.find((trace) => /:generateContent$/.test(trace['1_GEMINI_REQUEST']?.url ?? ''));
        assert.ok(classifierTrace !== undefined, 'a generateContent (classifier) request reached the proxy');
        const classifierText = sentEvents(classifierTrace)
          .flatMap((event) => event.candidates?.[0]?.content?.parts ?? [])
          .filter((part) => part.thought !== true && part.text !== undefined)
          .map((part) => part.text)
          .join('');
        assert.deepEqual(JSON.parse(classifierText), {
          complexity_reasoning: 'Listing and reading two files is simple.',
          complexity_score: 15,
        });
        assert.equal(output.stats?.tools.totalCalls, 2);
        assert.equal(output.stats?.tools.totalSuccess, 2);
      });

      const imageCase = entry.images[0];
      assert.ok(imageCase !== undefined);
      it(`B: "describe @pic.png" on ${imageCase.upstream} — inlineData from the CLI, ${imageCase.expect === 'image' ? 'a data URL upstream' : 'a note upstream (no image support)'}`, async () => {
        upstream.onChat((chat) => ({
          text:
            imageParts(chat).length > 0
              ? 'A square in four colours.'
              : 'I was told an image was attached but cannot see it.',
        }));
        const run = await runCli(proxy.url, {
          prompt: 'describe @pic.png',
          args: ['-m', imageCase.model],
          files: { 'pic.png': tinyPng() },
        });
        const output = successOutput(run, upstream.scripted);
        assert.equal(run.code, 0, explain(run, upstream));
        assert.equal(
          output.response,
          imageCase.expect === 'image'
            ? 'A square in four colours.'
            : 'I was told an image was attached but cannot see it.',
        );
        assert.equal(upstream.rejections.length, 0, explain(run, upstream));
        const chats = upstream.chats;
        // The CLI counts tokens for media: through the provider's tokenizer where it has one (docs/providers.md §9.1).
        const counted = upstream.exchanges.filter((exchange) => exchange.route === 'tokens');
        assert.equal(counted.length, entry.personality.countTokens === undefined ? 0 : 1, explain(run, upstream));
        assert.equal(upstream.exchanges.length, chats.length + counted.length, explain(run, upstream));
        assert.equal(chats.length, 1, explain(run, upstream));
        const chat = chatOf(chats[0]);
        assert.equal(chat.model, imageCase.upstream);
        if (imageCase.expect === 'image')
          assert.deepEqual(
            imageParts(chat).map((part) => part.url),
            [`data:image/png;base64,${PNG_BASE64}`],
          );
        else {
          assert.deepEqual(imageParts(chat), []);
          assert.ok(
            chat.messages.some((message) => /\[image\/png attachment omitted/.test(contentText(message.content))),
            explain(run, upstream),
          );
        }

        const traces = await readTraces(logDirectory, 1);
        const generate = traces.find((trace) => /:streamGenerateContent/.test(trace['1_GEMINI_REQUEST']?.url ?? ''));
        assert.ok(generate !== undefined);
        const parts = (
          (
            generate['1_GEMINI_REQUEST']?.body as {
              contents?: Array<{ parts?: Array<{ inlineData?: { mimeType?: string; data?: string } }> }>;
            }
          ).contents ?? []
        ).flatMap((content) => content.parts ?? []);
        assert.deepEqual(
          parts
            .filter((part) => part.inlineData !== undefined)
            .map((part) => [part.inlineData?.mimeType, part.inlineData?.data]),
          [['image/png', PNG_BASE64]],
          'the CLI sent the file as inlineData',
        );
      });

      const quota = entry.personality.quota.expect;
      const retryDelaySeconds =
        quota.retryDelay === undefined ? undefined : Number(/^(\d+)s$/.exec(quota.retryDelay)?.[1]);
      if (
        quota.reason === 'UPSTREAM_INSUFFICIENT_BALANCE' ||
        (retryDelaySeconds !== undefined && retryDelaySeconds > 300)
      ) {
        // Terminal for Gemini CLI: a 400, or a quota error whose retry delay exceeds 300 s (docs/gemini-contract.md
        // §6.4).
        it(`C: quota error, maxAttempts 1 → exit ${quota.httpStatus % 256} (${quota.status}), one CLI request, no retry`, async () => {
          upstream.quotaExhausted = true;
          const run = await runCli(proxy.url, { prompt: 'say hi', args: ['-m', MAIN_NAME] });
          assert.equal(run.code, quota.httpStatus % 256, explain(run, upstream));
          const output = errorOutput(run, upstream.scripted);
          assert.equal(output.error?.code, quota.httpStatus);
          if (quota.httpStatus === 400) {
            const body = parseErrorBody(output.error?.message ?? '');
            assert.equal(body.error.status, quota.status);
            assertOneSentence(body.error.message); // [R-ERR-8]: what the CLI prints
            assert.equal(
              body.error.details?.find((detail) => detail['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo')?.[
                'reason'
              ],
              quota.reason,
            );
          }
          const traces = await readTraces(logDirectory, 1);
          assert.equal(traces.length, 1, 'the CLI did not retry');
          assert.equal(sentEvents(traces[0] ?? { request_id: '', started_at: '' })[0]?.error?.status, quota.status);
          // A balance error is never retried upstream either; a rate limit whose delay is too long is not waited for.
          assert.equal(upstream.chats.length, 1, explain(run, upstream));
          assert.equal(upstream.chats[0]?.rejection?.why, entry.personality.quota.rejection.why);
        });
      } else {
        // A real rate limit stays retryable: Gemini CLI retries it (even with maxAttempts 1) and the next call works.
        it(`C: transient rate limit (${quota.status}) → the CLI retries after its backoff and succeeds, exit 0`, async () => {
          upstream.quotaExhausted = true;
          upstream.quotaWindowMs = 3000;
          upstream.onChat(() => ({ text: 'Back after the rate limit.' }));
          const run = await runCli(proxy.url, { prompt: 'say hi', args: ['-m', MAIN_NAME] });
          const output = successOutput(run, upstream.scripted);
          assert.equal(run.code, 0, explain(run, upstream));
          assert.equal(output.response, 'Back after the rate limit.');
          const traces = await readTraces(logDirectory, 2);
          assert.equal(traces.length, 2, 'one failed CLI request, one retry');
          const [failed, retried] = traces;
          assert.ok(failed !== undefined && retried !== undefined);
          const error = sentEvents(failed)[0]?.error;
          assert.equal(error?.status, quota.status);
          assert.equal(
            error?.details?.find((detail) => detail['@type'] === 'type.googleapis.com/google.rpc.RetryInfo')?.[
              'retryDelay'
            ],
            quota.retryDelay,
          );
          const rejected = upstream.chats.filter((exchange) => exchange.rejection !== undefined);
          assert.ok(rejected.length >= 1 && rejected.length <= 2, explain(run, upstream));
          for (const exchange of rejected) assert.equal(exchange.rejection?.why, entry.personality.quota.rejection.why);
          assert.equal(upstream.chats.length - rejected.length, 1, explain(run, upstream));
        });
      }
    });
  }
});

/** Kimi both ways: a text-only model gets a note for the same picture. */
describe('kimi via Gemini CLI: the picture on a text-only model', () => {
  it('B′: "describe @pic.png" on kimi-k2-turbo-preview → a note, no 400', async () => {
    const entry: MatrixEntry | undefined = MATRIX.find((candidate) => candidate.provider === 'kimi');
    const textOnly = entry?.images.find((image) => image.expect === 'note');
    assert.ok(entry !== undefined && textOnly !== undefined);
    const upstream = await new PersonalityUpstream(entry.personality).start();
    const proxy = await startProxy(proxyConfig(entry, upstream.baseUrl));
    try {
      upstream.onChat((chat) => ({ text: imageParts(chat).length > 0 ? 'saw it' : 'a note only' }));
      const run = await runCli(proxy.url, {
        prompt: 'describe @pic.png',
        args: ['-m', textOnly.model],
        files: { 'pic.png': tinyPng() },
      });
      const output = successOutput(run, upstream.scripted);
      assert.equal(run.code, 0, explain(run, upstream));
      assert.equal(output.response, 'a note only');
      assert.equal(upstream.rejections.length, 0, explain(run, upstream));
      assert.equal(chatOf(upstream.chats[0]).model, textOnly.upstream);
    } finally {
      await proxy.stop();
      await upstream.stop();
      removeTemporaryDirectories();
    }
  });
});
