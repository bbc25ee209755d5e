/**
 * The provider matrix over raw HTTP (issue 3): every preset × {text stream, tool loop, parallel tool calls, thinking,
 * a responseJsonSchema utility call, image input, quota error, forced tool choice}, with Gemini-CLI-shaped requests
 * (tools with parametersJsonSchema including an MCP-style dotted name with a raw MCP schema, temperature 1 / topP 0.95
 * / topK 64 / thinkingConfig includeThoughts) sent with fetch to the real proxy, configured the way a user would
 * configure that provider, in front of that provider's personality (test/support/personalities). Each cell asserts
 * the Gemini response AND what the personality received and accepted.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { assertOneSentence } from '../support/error-sentence.js';
import {
  PersonalityUpstream,
  contentText,
  imageParts,
  toolMessages,
  toolNamed,
  isJsonObject,
  UPSTREAM_KEY,
  type ChatMessage,
  type ChatRequest,
  type Exchange,
  type JsonObject,
  type UsageReport,
} from '../support/personalities/index.js';
import { createLlamacpp } from '../support/personalities/llamacpp.js';
import { LITE_NAME, MAIN_NAME, MATRIX, PNG_BASE64, proxyConfig } from '../support/provider-matrix.js';
import { startProxy, type RunningProxy } from '../support/proxy.js';

// ---------------------------------------------------------------------------------------------------------------
// Gemini-CLI-shaped requests

const DOTTED = 'mcp_workspace__calendar.listEvents';
const SIGNATURE = 'skip_thought_signature_validator';

/** A raw MCP schema: `$schema`, `definitions` + `$ref` (with a sibling), `type` beside `anyOf`, a typeless enum. */
const MCP_SCHEMA: JsonObject = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: {
    calendarId: { type: 'string', description: 'Calendar identifier, "primary" for the main calendar.' },
    timeMin: { type: 'string', anyOf: [{ format: 'date' }, { format: 'date-time' }], description: 'Lower bound.' },
    maxResults: { type: 'integer', minimum: 1, maximum: 250, default: 10 },
    orderBy: { enum: ['startTime', 'updated'], description: 'Sort order.' },
    organizer: { $ref: '#/definitions/Person', description: 'Only events organised by this person.' },
    attendees: { type: 'array', items: { $ref: '#/definitions/Person' } },
  },
  required: ['calendarId'],
  additionalProperties: false,
  definitions: {
    Person: { type: 'object', properties: { email: { type: 'string', format: 'email' } }, required: ['email'] },
  },
};

const TOOLS: JsonObject[] = [
  {
    functionDeclarations: [
      {
        name: 'read_file',
        description: 'Reads and returns the content of a specified file.',
        parametersJsonSchema: {
          type: 'object',
          properties: {
            file_path: { type: 'string', description: 'The path to the file to read.' },
            offset: { type: 'number', minimum: 0 },
            limit: { type: 'number', minimum: 1 },
          },
          required: ['file_path'],
        },
      },
      {
        name: 'list_directory',
        description: 'Lists the names of files and subdirectories directly within a specified directory path.',
        parametersJsonSchema: {
          type: 'object',
          properties: { dir_path: { type: 'string' }, ignore: { type: 'array', items: { type: 'string' } } },
          required: ['dir_path'],
        },
      },
      {
        name: DOTTED,
        description: 'Lists events of a Google calendar (MCP server "workspace").',
        parametersJsonSchema: MCP_SCHEMA,
      },
    ],
  },
];

const SYSTEM: JsonObject = {
  role: 'user',
  parts: [
    { text: 'You are an interactive CLI agent specializing in software engineering tasks. Use the tools to act.' },
  ],
};
const GENERATION: JsonObject = {
  temperature: 1,
  topP: 0.95,
  topK: 64,
  thinkingConfig: { includeThoughts: true, thinkingLevel: 'HIGH' },
};

function userTurn(prompt: string, extraParts: JsonObject[] = []): JsonObject {
  return {
    role: 'user',
    parts: [
      { text: '<session_context>\nThis is the Gemini CLI. Today is Monday.\n</session_context>' },
      { text: prompt },
      ...extraParts,
    ],
  };
}

interface CallOut {
  id?: string;
  name: string;
  args: Record<string, unknown>;
}

/** The model turn as Gemini CLI keeps it: thoughts stripped, the signature sentinel on the first call. */
function modelTurn(calls: CallOut[], thought?: string): JsonObject {
  const parts: JsonObject[] = thought === undefined ? [] : [{ text: thought, thought: true }];
  calls.forEach((call, index) => {
    const functionCall: JsonObject = { name: call.name, args: call.args as JsonObject };
    if (call.id !== undefined) functionCall['id'] = call.id;
    parts.push(index === 0 ? { functionCall, thoughtSignature: SIGNATURE } : { functionCall });
  });
  return { role: 'model', parts };
}

function responsesTurn(results: Array<{ call: CallOut; output: string }>): JsonObject {
  return {
    role: 'user',
    parts: results.map(({ call, output }) => ({
      functionResponse: { ...(call.id === undefined ? {} : { id: call.id }), name: call.name, response: { output } },
    })),
  };
}

function mainRequest(contents: JsonObject[], extra: JsonObject = {}): JsonObject {
  return { contents, systemInstruction: SYSTEM, tools: TOOLS, generationConfig: GENERATION, ...extra };
}

// ---------------------------------------------------------------------------------------------------------------
// Talking to the proxy

interface PartOut {
  text?: string;
  thought?: boolean;
  functionCall?: CallOut;
}
interface ResponseOut {
  candidates?: Array<{ content?: { parts?: PartOut[] }; finishReason?: string }>;
  usageMetadata?: Record<string, number>;
  modelVersion?: string;
  error?: { code: number; status: string; message: string; details?: Array<Record<string, unknown>> };
}

interface Collected {
  status: number;
  contentType: string;
  events: ResponseOut[];
  thoughts: string;
  text: string;
  calls: CallOut[];
  finishReasons: string[];
  usage: Record<string, number> | undefined;
  /** The order of part kinds across the stream, e.g. thought,thought,call. */
  kinds: string[];
  raw: string;
}

async function callProxy(
  proxy: RunningProxy,
  model: string,
  method: 'streamGenerateContent' | 'generateContent',
  body: JsonObject,
): Promise<Collected> {
  const query = method === 'streamGenerateContent' ? '?alt=sse' : '';
  const response = await fetch(`${proxy.url}/v1beta/models/${encodeURIComponent(model)}:${method}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'test-client-key' },
    body: JSON.stringify(body),
  });
  const raw = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  let events: ResponseOut[];
  if (contentType.includes('text/event-stream')) {
    events = raw
      .split(/\r?\n\r?\n/)
      .map((block) =>
        block
          .split(/\r?\n/)
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n'),
      )
      .filter((data) => data !== '')
      .map((data) => JSON.parse(data) as ResponseOut);
  } else {
    events = [JSON.parse(raw) as ResponseOut];
  }
  const parts = events.flatMap((event) => event.candidates?.[0]?.content?.parts ?? []);
  return {
    status: response.status,
    contentType,
    events,
    thoughts: parts
      .filter((part) => part.thought === true)
      .map((part) => part.text ?? '')
      .join(''),
    text: parts
      .filter((part) => part.thought !== true && part.text !== undefined)
      .map((part) => part.text)
      .join(''),
    calls: parts.flatMap((part) => (part.functionCall === undefined ? [] : [part.functionCall])),
    finishReasons: events
      .flatMap((event) => event.candidates ?? [])
      .flatMap((candidate) => (candidate.finishReason === undefined ? [] : [candidate.finishReason])),
    usage: [...events].reverse().find((event) => event.usageMetadata !== undefined)?.usageMetadata,
    kinds: parts.map((part) => (part.functionCall !== undefined ? 'call' : part.thought === true ? 'thought' : 'text')),
    raw,
  };
}

/** [R-USE-2]: candidates exclude reasoning tokens, thoughts carry them, cached tokens when reported. */
function expectedUsage(report: UsageReport): Record<string, number> {
  const reasoning = report.reasoning ?? 0;
  const usage: Record<string, number> = {
    promptTokenCount: report.prompt,
    candidatesTokenCount: report.completion - reasoning,
    totalTokenCount: report.prompt + report.completion,
  };
  if (report.cached !== undefined && report.cached > 0) usage['cachedContentTokenCount'] = report.cached;
  if (reasoning > 0) usage['thoughtsTokenCount'] = reasoning;
  return usage;
}

function assistantWithCalls(chat: ChatRequest): ChatMessage {
  const message = chat.messages.find(
    (candidate) => candidate.role === 'assistant' && (candidate.toolCalls?.length ?? 0) > 0,
  );
  assert.ok(
    message !== undefined,
    `no assistant tool-call message in ${chat.messages.map((candidate) => candidate.role).join(',')}`,
  );
  return message;
}

function accepted(upstream: PersonalityUpstream, count: number): Exchange[] {
  const chats = upstream.chats;
  assert.equal(upstream.rejections.length, 0, `the personality rejected a request:\n${upstream.describe()}`);
  assert.equal(chats.length, count, `expected ${count} chat request(s):\n${upstream.describe()}`);
  for (const exchange of chats)
    assert.deepEqual(exchange.ignored, [], `the provider silently ignored parameters:\n${upstream.describe()}`);
  return chats;
}

function chatOf(exchange: Exchange | undefined): ChatRequest {
  assert.ok(exchange?.chat !== undefined, 'no parsed chat request');
  return exchange.chat;
}

function plannedCalls(exchange: Exchange | undefined): Array<{ id: string; name: string; arguments: string }> {
  assert.ok(exchange?.plan !== undefined, 'the personality did not answer');
  return exchange.plan.calls;
}

const SAFE_NAME = /^[a-zA-Z0-9_-]+$/;

// ---------------------------------------------------------------------------------------------------------------

for (const entry of MATRIX) {
  describe(`provider ${entry.provider} over HTTP`, () => {
    let upstream: PersonalityUpstream;
    let proxy: RunningProxy;

    before(async () => {
      upstream = await new PersonalityUpstream(entry.personality).start();
      proxy = await startProxy(proxyConfig(entry, upstream.baseUrl));
    });
    beforeEach(() => upstream.reset());
    after(async () => {
      await proxy.stop();
      await upstream.stop();
    });

    const stream = (model: string, body: JsonObject): Promise<Collected> =>
      callProxy(proxy, model, 'streamGenerateContent', body);

    it('text stream: text, one STOP, usage from wherever this provider puts it; the request fits the provider', async () => {
      const answer = `Hello from the ${entry.provider} personality. Nothing else to add.`;
      upstream.onChat(() => ({ text: answer, usage: { cached: 12 } }));
      const result = await stream(MAIN_NAME, mainRequest([userTurn('say hi')]));
      assert.equal(result.status, 200, result.raw);
      assert.match(result.contentType, /text\/event-stream/);
      assert.equal(result.text, answer);
      assert.equal(result.thoughts, '');
      assert.deepEqual(result.calls, []);
      assert.deepEqual(result.finishReasons, ['STOP']);
      assert.equal(result.events.at(-1)?.candidates?.[0]?.finishReason, 'STOP', 'the finish is on the last event');
      assert.equal(result.events.at(-1)?.modelVersion, entry.main);

      const [exchange] = accepted(upstream, 1);
      const chat = chatOf(exchange);
      assert.equal(chat.model, entry.main);
      assert.equal(chat.stream, true);
      assert.ok(['system', 'developer'].includes(chat.messages[0]?.role ?? ''), 'the system instruction comes first');
      assert.match(contentText(chat.messages[0]?.content), /interactive CLI agent/);
      assert.match(contentText(chat.messages.at(-1)?.content), /say hi/);
      assert.equal(chat.tools.length, 3);
      const upstreamNames = chat.tools.map((tool) => tool.name);
      assert.ok(
        upstreamNames.includes('read_file') && upstreamNames.includes('list_directory'),
        upstreamNames.join(', '),
      );
      if (entry.keepsDottedNames) assert.ok(upstreamNames.includes(DOTTED), upstreamNames.join(', '));
      else
        assert.ok(
          upstreamNames.every((name) => SAFE_NAME.test(name)),
          `renamed for the upstream: ${upstreamNames.join(', ')}`,
        );
      assert.ok(exchange?.usage === undefined || result.usage !== undefined);
      if (exchange?.usage !== undefined)
        assert.deepEqual(
          result.usage,
          expectedUsage(exchange.usage),
          `usage as reported: ${JSON.stringify(exchange.usage)}`,
        );
      else assert.ok((result.usage?.['promptTokenCount'] ?? 0) > 0, 'an estimate when the upstream reports none');
    });

    it('tool loop: the call comes back with the provider’s id, the follow-up carries it with the tool result', async () => {
      const output = 'TODO: ship the provider matrix (item 4711)';
      upstream.onChat((chat) => {
        const results = toolMessages(chat);
        if (results.length === 0) return { calls: [{ name: 'read_file', arguments: { file_path: 'notes/todo.txt' } }] };
        return { text: `The file says: ${contentText(results[0]?.content)}` };
      });
      const first = await stream(MAIN_NAME, mainRequest([userTurn('what is in notes/todo.txt?')]));
      assert.equal(first.status, 200, first.raw);
      const [firstExchange] = accepted(upstream, 1);
      const [planned] = plannedCalls(firstExchange);
      assert.ok(planned !== undefined);
      assert.deepEqual(first.calls, [{ id: planned.id, name: 'read_file', args: { file_path: 'notes/todo.txt' } }]);
      assert.equal(first.text.trim(), '');
      assert.deepEqual(first.finishReasons, ['STOP']);

      const call = first.calls[0];
      assert.ok(call !== undefined);
      const second = await stream(
        MAIN_NAME,
        mainRequest([userTurn('what is in notes/todo.txt?'), modelTurn([call]), responsesTurn([{ call, output }])]),
      );
      assert.equal(second.status, 200, `${second.raw}\n${upstream.describe()}`);
      assert.equal(second.text, `The file says: ${output}`);
      assert.deepEqual(second.finishReasons, ['STOP']);

      const chat = chatOf(accepted(upstream, 2)[1]);
      const assistant = assistantWithCalls(chat);
      assert.deepEqual(
        assistant.toolCalls?.map((toolCall) => [toolCall.id, toolCall.name, JSON.parse(toolCall.arguments) as unknown]),
        [[planned.id, 'read_file', { file_path: 'notes/todo.txt' }]],
      );
      const next = chat.messages[assistant.index + 1];
      assert.equal(next?.role, 'tool');
      assert.equal(next?.toolCallId, planned.id);
      assert.equal(contentText(next?.content), output);
      assert.doesNotMatch(chat.rawText, /skip_thought_signature_validator|thoughtSignature/);
    });

    it('parallel tool calls: both calls, the dotted MCP name restored, both results back in call order', async () => {
      upstream.onChat((chat) => {
        const results = toolMessages(chat);
        if (results.length === 0) {
          return {
            calls: [
              { name: 'list_directory', arguments: { dir_path: 'src' } },
              {
                name: toolNamed(chat, (name) => name.startsWith('mcp_workspace__calendar')),
                arguments: { calendarId: 'primary', maxResults: 5, orderBy: 'startTime' },
              },
            ],
          };
        }
        return {
          text: `Got ${results.length} results: ${results.map((message) => contentText(message.content)).join(' | ')}`,
        };
      });
      const first = await stream(MAIN_NAME, mainRequest([userTurn('list src and my next events')]));
      assert.equal(first.status, 200, first.raw);
      const planned = plannedCalls(accepted(upstream, 1)[0]);
      assert.equal(planned.length, 2, `the provider returned ${planned.length} call(s)`);
      assert.deepEqual(first.calls, [
        { id: planned[0]?.id, name: 'list_directory', args: { dir_path: 'src' } },
        { id: planned[1]?.id, name: DOTTED, args: { calendarId: 'primary', maxResults: 5, orderBy: 'startTime' } },
      ]);
      assert.notEqual(planned[0]?.id, planned[1]?.id);
      assert.deepEqual(first.finishReasons, ['STOP']);

      const [listCall, mcpCall] = first.calls;
      assert.ok(listCall !== undefined && mcpCall !== undefined);
      const second = await stream(
        MAIN_NAME,
        mainRequest([
          userTurn('list src and my next events'),
          modelTurn([listCall, mcpCall]),
          responsesTurn([
            { call: listCall, output: 'cli.ts\nproviders/' },
            { call: mcpCall, output: '[{"summary":"Standup","start":"09:30"}]' },
          ]),
        ]),
      );
      assert.equal(second.status, 200, `${second.raw}\n${upstream.describe()}`);
      assert.equal(second.text, 'Got 2 results: cli.ts\nproviders/ | [{"summary":"Standup","start":"09:30"}]');

      const chat = chatOf(accepted(upstream, 2)[1]);
      const assistant = assistantWithCalls(chat);
      assert.deepEqual(
        assistant.toolCalls?.map((toolCall) => [toolCall.id, toolCall.name]),
        planned.map((call) => [call.id, call.name]),
      );
      assert.deepEqual(
        chat.messages
          .slice(assistant.index + 1, assistant.index + 3)
          .map((message) => [message.role, message.toolCallId]),
        planned.map((call) => ['tool', call.id]),
      );
    });

    if (entry.thinking.kind === 'visible') {
      it(`thinking: reasoning becomes thought parts; the follow-up ${entry.thinking.replayRequired ? 'replays it (the provider rejects it missing)' : entry.thinking.rejectsReasoningFields ? 'carries no reasoning field (the provider rejects one)' : 'is accepted'}`, async () => {
        const reasoning1 = `I should read docs/plan.md before answering (${entry.provider}-R1).`;
        const reasoning2 = `The plan is short; summarise it (${entry.provider}-R2).`;
        upstream.onChat((chat) => {
          if (toolMessages(chat).length === 0)
            return { reasoning: reasoning1, calls: [{ name: 'read_file', arguments: { file_path: 'docs/plan.md' } }] };
          return { reasoning: reasoning2, text: 'The plan has three steps.' };
        });
        const prompt = 'summarise docs/plan.md';
        const first = await stream(entry.thinking.model, mainRequest([userTurn(prompt)]));
        assert.equal(first.status, 200, first.raw);
        const [firstExchange] = accepted(upstream, 1);
        assert.equal(chatOf(firstExchange).model, entry.thinking.upstream);
        assert.equal(firstExchange?.thinking, true, 'the model reasoned');
        assert.equal(first.thoughts.trim(), reasoning1);
        assert.equal(first.text.trim(), '', 'no reasoning leaks into the text');
        assert.equal(first.calls.length, 1);
        assert.ok(
          first.kinds.lastIndexOf('thought') < first.kinds.indexOf('call'),
          `thoughts before the call: ${first.kinds.join(',')}`,
        );
        if (firstExchange?.usage?.reasoning !== undefined)
          assert.equal(first.usage?.['thoughtsTokenCount'], firstExchange.usage.reasoning);

        const call = first.calls[0];
        assert.ok(call !== undefined);
        // Gemini CLI strips thoughts from history; a raw client may keep them (that is the Groq hazard).
        const history = [
          userTurn(prompt),
          modelTurn([call], entry.thinking.rejectsReasoningFields ? reasoning1 : undefined),
          responsesTurn([{ call, output: '1. build 2. test 3. ship' }]),
        ];
        const second = await stream(entry.thinking.model, mainRequest(history));
        assert.equal(second.status, 200, `${second.raw}\n${upstream.describe()}`);
        assert.equal(second.thoughts.trim(), reasoning2);
        assert.equal(second.text.trim(), 'The plan has three steps.');

        const chat = chatOf(accepted(upstream, 2)[1]);
        const assistant = assistantWithCalls(chat);
        if (entry.thinking.replayRequired)
          assert.equal(
            assistant.raw['reasoning_content'],
            reasoning1,
            'the reasoning of the tool-call turn was replayed verbatim',
          );
        if (entry.thinking.rejectsReasoningFields) {
          assert.equal('reasoning_content' in assistant.raw, false);
          assert.equal('reasoning' in assistant.raw, false);
        }
        for (const message of chat.messages)
          assert.doesNotMatch(contentText(message.content), /-R1\)/, `reasoning leaked into a ${message.role} message`);
      });
    } else {
      it('thinking (hidden): reasoning_effort from thinkingLevel, reasoning tokens reported as thoughtsTokenCount, no thought text', async () => {
        upstream.onChat(() => ({
          reasoning: 'Hidden chain of thought that the provider never shows.',
          text: 'Done thinking.',
        }));
        const result = await stream(entry.thinking.model, mainRequest([userTurn('think hard, then say done')]));
        assert.equal(result.status, 200, result.raw);
        const [exchange] = accepted(upstream, 1);
        assert.equal(chatOf(exchange).raw['reasoning_effort'], 'high');
        assert.equal(result.thoughts, '');
        assert.equal(result.text, 'Done thinking.');
        const reasoningTokens = exchange?.usage?.reasoning;
        assert.ok(reasoningTokens !== undefined && reasoningTokens > 0, 'the personality reported reasoning tokens');
        assert.equal(result.usage?.['thoughtsTokenCount'], reasoningTokens);
        assert.equal(result.usage?.['candidatesTokenCount'], (exchange?.usage?.completion ?? 0) - reasoningTokens);
      });
    }

    it('responseJsonSchema utility call (unary, upper-case schema like the router classifier): bare JSON back from a fenced reply', async () => {
      upstream.onChat(() => ({
        reasoning: 'Listing files is trivial.',
        text: 'Here is the routing decision:\n```json\n{"complexity_reasoning": "Listing files is simple.", "complexity_score": 12}\n```\nAnything else?',
      }));
      const body: JsonObject = {
        contents: [
          { role: 'user', parts: [{ text: 'Classify the complexity of this request: "list the files in src"' }] },
        ],
        systemInstruction: {
          role: 'user',
          parts: [{ text: 'You are a routing classifier. Score how complex the user request is, 1 to 100.' }],
        },
        generationConfig: {
          ...GENERATION,
          maxOutputTokens: 1024,
          responseMimeType: 'application/json',
          responseJsonSchema: {
            type: 'OBJECT',
            properties: { complexity_reasoning: { type: 'STRING' }, complexity_score: { type: 'INTEGER' } },
            required: ['complexity_reasoning', 'complexity_score'],
          },
        },
      };
      const result = await callProxy(proxy, LITE_NAME, 'generateContent', body);
      assert.equal(result.status, 200, `${result.raw}\n${upstream.describe()}`);
      assert.deepEqual(JSON.parse(result.text), {
        complexity_reasoning: 'Listing files is simple.',
        complexity_score: 12,
      });
      assert.equal(result.text.trim().startsWith('{'), true, 'bare JSON, no fence or prose');
      assert.deepEqual(result.finishReasons, ['STOP']);
      assert.ok((result.usage?.['promptTokenCount'] ?? 0) > 0);

      const [exchange] = accepted(upstream, 1);
      const chat = chatOf(exchange);
      assert.equal(chat.model, entry.lite);
      assert.equal(chat.stream, false);
      assert.equal(chat.tools.length, 0);
      assert.equal(
        exchange?.thinking,
        entry.jsonThinks,
        `the utility call ${entry.jsonThinks ? 'still reasons here' : 'runs without thinking'}`,
      );
      const format = chat.raw['response_format'];
      assert.ok(isJsonObject(format), 'a response_format was sent');
      if (format['type'] === 'json_schema') {
        assert.doesNotMatch(
          JSON.stringify(format['json_schema']),
          /"(OBJECT|STRING|INTEGER)"/,
          'schema types lower-cased',
        );
      } else {
        assert.equal(format['type'], 'json_object');
        assert.ok(
          chat.messages.some(
            (message) =>
              /json/i.test(contentText(message.content)) && /complexity_score/.test(contentText(message.content)),
          ),
          'the schema travels in the prompt',
        );
      }
    });

    it('unary generateContent with thinking (like the chat-compression call): text, thoughts kept apart, accepted', async () => {
      upstream.onChat(() => ({
        reasoning: 'Summarise the two turns.',
        text: '<state_snapshot>The user asked for a summary.</state_snapshot>',
      }));
      const body: JsonObject = {
        contents: [
          userTurn('summarise our conversation so far'),
          { role: 'model', parts: [{ text: 'We listed files.' }] },
          { role: 'user', parts: [{ text: 'First, reason in your scratchpad. Then, generate the <state_snapshot>.' }] },
        ],
        systemInstruction: {
          role: 'user',
          parts: [{ text: 'You are the component that summarizes internal chat history into a given structure.' }],
        },
        generationConfig: GENERATION,
      };
      const result = await callProxy(proxy, MAIN_NAME, 'generateContent', body);
      assert.equal(result.status, 200, `${result.raw}\n${upstream.describe()}`);
      assert.equal(result.text, '<state_snapshot>The user asked for a summary.</state_snapshot>');
      assert.deepEqual(result.finishReasons, ['STOP']);
      const [exchange] = accepted(upstream, 1);
      assert.equal(chatOf(exchange).stream, false);
      if (exchange?.thinking === true && entry.thinking.kind === 'visible')
        assert.equal(result.thoughts.trim(), 'Summarise the two turns.');
      else assert.equal(result.thoughts, '');
      if (exchange?.usage !== undefined) assert.deepEqual(result.usage, expectedUsage(exchange.usage));
    });

    for (const image of entry.images) {
      it(`image input (inlineData png) on ${image.upstream}: ${image.expect === 'image' ? 'sent as a data URL' : 'replaced by a note, no 400'}`, async () => {
        upstream.onChat((chat) => ({
          text: imageParts(chat).length > 0 ? 'I see a four-colour square.' : 'Only a note about an image arrived.',
        }));
        const result = await stream(
          image.model,
          mainRequest([userTurn('describe this image', [{ inlineData: { mimeType: 'image/png', data: PNG_BASE64 } }])]),
        );
        assert.equal(result.status, 200, `${result.raw}\n${upstream.describe()}`);
        const chat = chatOf(accepted(upstream, 1)[0]);
        assert.equal(chat.model, image.upstream);
        if (image.expect === 'image') {
          assert.deepEqual(
            imageParts(chat).map((part) => part.url),
            [`data:image/png;base64,${PNG_BASE64}`],
          );
          assert.equal(result.text, 'I see a four-colour square.');
        } else {
          assert.deepEqual(imageParts(chat), []);
          assert.match(contentText(chat.messages.at(-1)?.content), /\[image\/png attachment omitted/);
          assert.equal(result.text, 'Only a note about an image arrived.');
        }
      });
    }

    it(`image by https URL (fileData): ${entry.httpImage === 'image' ? 'passed through' : 'replaced by a note (the provider takes no http image URLs)'}`, async () => {
      const url = 'https://example.com/pictures/cat.png';
      const target = entry.images.find((image) => image.expect === 'image') ?? entry.images[0];
      assert.ok(target !== undefined);
      upstream.onChat((chat) => ({ text: imageParts(chat).length > 0 ? 'A linked picture.' : 'A note about a link.' }));
      const result = await stream(
        target.model,
        mainRequest([userTurn('what is in this picture?', [{ fileData: { fileUri: url, mimeType: 'image/png' } }])]),
      );
      assert.equal(result.status, 200, `${result.raw}\n${upstream.describe()}`);
      const chat = chatOf(accepted(upstream, 1)[0]);
      if (entry.httpImage === 'image' && target.expect === 'image') {
        assert.deepEqual(
          imageParts(chat).map((part) => part.url),
          [url],
        );
        assert.equal(result.text, 'A linked picture.');
      } else {
        assert.deepEqual(imageParts(chat), []);
        assert.match(contentText(chat.messages.at(-1)?.content), /omitted/);
        assert.equal(result.text, 'A note about a link.');
      }
    });

    it(`quota error → ${entry.personality.quota.expect.httpStatus} ${entry.personality.quota.expect.status}, one upstream call`, async () => {
      upstream.quotaExhausted = true;
      const result = await stream(MAIN_NAME, mainRequest([userTurn('say hi')]));
      const expect = entry.personality.quota.expect;
      assert.equal(result.status, expect.httpStatus, result.raw);
      const error = result.events[0]?.error;
      assert.equal(error?.code, expect.httpStatus);
      assert.equal(error?.status, expect.status);
      const info = error?.details?.find((detail) => detail['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo');
      assert.equal(info?.['reason'], expect.reason, JSON.stringify(error));
      const retry = error?.details?.find((detail) => detail['@type'] === 'type.googleapis.com/google.rpc.RetryInfo');
      assert.equal(retry?.['retryDelay'], expect.retryDelay, JSON.stringify(error));
      assert.match(
        error?.message ?? '',
        new RegExp(`^Upstream ${entry.provider} .*\\(${String(entry.personality.quota.rejection.status)}\\b`),
      );
      assertOneSentence(error?.message ?? '');
      // A balance error is never retried; the gateway may retry a rate limit once (retries.attempts_per_target,
      // default 2) unless its Retry-After exceeds retries.max_delay_seconds.
      const calls = upstream.chats.length;
      if (expect.reason === 'UPSTREAM_INSUFFICIENT_BALANCE') assert.equal(calls, 1, upstream.describe());
      else assert.ok(calls >= 1 && calls <= 2, upstream.describe());
      for (const exchange of upstream.chats)
        assert.equal(exchange.rejection?.why, entry.personality.quota.rejection.why);
    });

    it('forced tool choice (toolConfig ANY + allowedFunctionNames): degraded to what the provider accepts, the call still comes', async () => {
      upstream.onChat(() => ({ calls: [{ name: 'read_file', arguments: { file_path: 'README.md' } }] }));
      const result = await stream(
        MAIN_NAME,
        mainRequest([userTurn('open the readme')], {
          toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['read_file'] } },
        }),
      );
      assert.equal(result.status, 200, `${result.raw}\n${upstream.describe()}`);
      assert.deepEqual(
        result.calls.map((call) => [call.name, call.args]),
        [['read_file', { file_path: 'README.md' }]],
      );
      const chat = chatOf(accepted(upstream, 1)[0]);
      assert.deepEqual(
        chat.tools.map((tool) => tool.name),
        ['read_file'],
        'the offer narrowed to the allowed function',
      );
      const choice = chat.raw['tool_choice'];
      const named =
        isJsonObject(choice) && isJsonObject(choice['function']) && choice['function']['name'] === 'read_file';
      if (!named && choice !== 'required') {
        assert.ok(
          chat.messages.some(
            (message) =>
              (message.role === 'system' || message.role === 'developer') &&
              /read_file/.test(contentText(message.content)),
          ),
          'a hint stands in for the forced choice',
        );
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Variants that need their own proxy or personality

describe('variants', () => {
  it('kimi: 403 exceeded_current_quota_error is a balance error too → 400 FAILED_PRECONDITION', async () => {
    const entry = MATRIX.find((candidate) => candidate.provider === 'kimi');
    assert.ok(entry !== undefined);
    const upstream = await new PersonalityUpstream(entry.personality).start();
    const proxy = await startProxy(proxyConfig(entry, upstream.baseUrl));
    try {
      upstream.quotaExhausted = true;
      upstream.quotaRejection = {
        status: 403,
        why: 'quota',
        body: {
          error: {
            message:
              'Your account org-4f1c2a <ak-f9e8d7> is not active, organization org-4f1c2a exceeded current quota',
            type: 'exceeded_current_quota_error',
          },
        },
      };
      const result = await callProxy(proxy, MAIN_NAME, 'streamGenerateContent', mainRequest([userTurn('say hi')]));
      assert.equal(result.status, 400, result.raw);
      assert.equal(result.events[0]?.error?.status, 'FAILED_PRECONDITION');
      assert.equal(upstream.chats.length, 1);
    } finally {
      await proxy.stop();
      await upstream.stop();
    }
  });

  it('azure on api-version 2024-06-01: no stream_options (the old API rejects it), usage estimated', async () => {
    const entry = MATRIX.find((candidate) => candidate.provider === 'azure');
    assert.ok(entry !== undefined);
    const upstream = await new PersonalityUpstream(entry.personality).start();
    const proxy = await startProxy(proxyConfig(entry, upstream.baseUrl, { azure_api_version: '2024-06-01' }));
    try {
      upstream.onChat(() => ({ text: 'Legacy API version works.' }));
      const result = await callProxy(proxy, MAIN_NAME, 'streamGenerateContent', mainRequest([userTurn('say hi')]));
      assert.equal(result.status, 200, `${result.raw}\n${upstream.describe()}`);
      assert.equal(result.text, 'Legacy API version works.');
      const [exchange] = accepted(upstream, 1);
      assert.equal(exchange?.received.url, '/openai/deployments/o4-mini/chat/completions?api-version=2024-06-01');
      assert.equal('stream_options' in chatOf(exchange).raw, false);
      assert.equal(exchange?.usage, undefined, 'no usage chunk without include_usage');
      assert.ok((result.usage?.['promptTokenCount'] ?? 0) > 0, 'estimated usage');
    } finally {
      await proxy.stop();
      await upstream.stop();
    }
  });

  it('azure: a base URL that already ends in /openai/deployments/<name> keeps working', async () => {
    const entry = MATRIX.find((candidate) => candidate.provider === 'azure');
    assert.ok(entry !== undefined);
    const upstream = await new PersonalityUpstream(entry.personality).start();
    // The original tool's style: the deployment in the base URL, and the model named after it.
    const proxy = await startProxy(
      proxyConfig(entry, `${upstream.origin}/openai/deployments/gpt-4o`, { default_openai_model: 'gpt-4o' }),
    );
    try {
      upstream.onChat(() => ({ text: 'Deployment from the URL.' }));
      const result = await callProxy(proxy, MAIN_NAME, 'streamGenerateContent', mainRequest([userTurn('say hi')]));
      assert.equal(result.status, 200, `${result.raw}\n${upstream.describe()}`);
      const [exchange] = accepted(upstream, 1);
      assert.match(exchange?.received.url ?? '', /^\/openai\/deployments\/gpt-4o\/chat\/completions\?api-version=/);
      assert.equal(exchange?.received.headers['api-key'], UPSTREAM_KEY);
      assert.equal(exchange?.received.headers['authorization'], undefined, 'no bearer header on Azure');
    } finally {
      await proxy.stop();
      await upstream.stop();
    }
  });

  it('llama.cpp without --mmproj: the 500 "image input is not supported" becomes a 400 INVALID_ARGUMENT (not retried)', async () => {
    const entry = MATRIX.find((candidate) => candidate.provider === 'llamacpp');
    assert.ok(entry !== undefined);
    const upstream = await new PersonalityUpstream(createLlamacpp({ mmproj: false, jinja: true })).start();
    const proxy = await startProxy(proxyConfig(entry, upstream.baseUrl));
    try {
      upstream.onChat(() => ({ text: 'unreachable' }));
      const result = await callProxy(
        proxy,
        MAIN_NAME,
        'streamGenerateContent',
        mainRequest([userTurn('describe', [{ inlineData: { mimeType: 'image/png', data: PNG_BASE64 } }])]),
      );
      assert.equal(result.status, 400, result.raw);
      assert.equal(result.events[0]?.error?.status, 'INVALID_ARGUMENT');
      assert.match(result.events[0]?.error?.message ?? '', /image input is not supported by this server/);
      assert.equal(upstream.chats.length, 1);
      assert.equal(upstream.chats[0]?.rejection?.why, 'image');
    } finally {
      await proxy.stop();
      await upstream.stop();
    }
  });

  it('ollama: a gif (outside its jpeg/png/webp allow-list) becomes a note instead of "invalid image input"', async () => {
    const entry = MATRIX.find((candidate) => candidate.provider === 'ollama');
    assert.ok(entry !== undefined);
    const upstream = await new PersonalityUpstream(entry.personality).start();
    const proxy = await startProxy(proxyConfig(entry, upstream.baseUrl));
    try {
      upstream.onChat((chat) => ({ text: imageParts(chat).length > 0 ? 'image' : 'note' }));
      const gif = 'R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==';
      const result = await callProxy(
        proxy,
        'vision-model',
        'streamGenerateContent',
        mainRequest([userTurn('describe', [{ inlineData: { mimeType: 'image/gif', data: gif } }])]),
      );
      assert.equal(result.status, 200, `${result.raw}\n${upstream.describe()}`);
      assert.equal(result.text, 'note');
      const chat = chatOf(accepted(upstream, 1)[0]);
      assert.match(contentText(chat.messages.at(-1)?.content), /\[image\/gif attachment omitted/);
    } finally {
      await proxy.stop();
      await upstream.stop();
    }
  });
});
