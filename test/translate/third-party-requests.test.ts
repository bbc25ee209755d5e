/**
 * Realistic third-party requests (issue 11), written for this suite in the shapes that Google's REST samples, the
 * Gemini cookbook notebooks and the SDK samples send: each relaxed-JSON form, each single-value field, numeric enums,
 * the fileData media-type table, merged turns, candidateCount with and without `n`, and logprobs both ways. Each
 * request goes through the same steps as on the server: body parse, normalisation, translation (and the response
 * translators for the answers).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProxyError } from '../../src/errors.js';
import { PROVIDERS } from '../../src/providers/index.js';
import type { ProviderProfile } from '../../src/providers/profile.js';
import { parseJsonBody } from '../../src/server/json-body.js';
import { parseBatchEmbedContents } from '../../src/translate/embeddings.js';
import { geminiRequestToOpenAI } from '../../src/translate/gemini-request-to-openai.js';
import type { GenerateContentResponse } from '../../src/translate/gemini-types.js';
import { createStreamTranslator } from '../../src/translate/multi-candidate-stream.js';
import { normalizeGenerateContentRequest } from '../../src/translate/normalize-request.js';
import {
  openAICompletionToGemini,
  type StreamTranslationOptions,
} from '../../src/translate/openai-stream-to-gemini.js';
import type { OpenAIChatRequest, OpenAIChunk } from '../../src/translate/openai-types.js';
import { fileMediaType } from '../../src/translate/request/media-type.js';
import { createToolNameCodec } from '../../src/translate/tool-names.js';

function body(text: string): unknown {
  const parsed = parseJsonBody(text);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.message);
  return parsed.value;
}

function translate(
  raw: unknown,
  profile: ProviderProfile = PROVIDERS.generic,
  model = 'up-model',
  stream = false,
): OpenAIChatRequest {
  return geminiRequestToOpenAI(normalizeGenerateContentRequest(raw), { model, stream, profile }).body;
}

function refusal(action: () => unknown): ProxyError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ProxyError, String(error));
    return error;
  }
  assert.fail('expected a refusal');
}

describe('relaxed JSON as Google parses it', () => {
  const forms: Array<[string, string]> = [
    [
      'trailing commas (chat and count_tokens samples)',
      '{"contents": [{"role": "user", "parts": [{"text": "Hello"},]},],}',
    ],
    ['comments', '{\n  // the prompt\n  "contents": [{"parts": [{"text": "Hello"}]}] /* end */\n}'],
    ['unquoted keys', '{contents: [{parts: [{text: "Hello"}]}]}'],
    ['single-quoted strings', "{'contents': [{'parts': [{'text': 'Hello'}]}]}"],
    ['a raw line break inside a string (JSON-mode notebook)', '{"contents": [{"parts": [{"text": "Hel\nlo"}]}]}'],
    ['a backslash line continuation inside a string', '{"contents": [{"parts": [{"text": "Hel\\\nlo"}]}]}'],
  ];
  for (const [name, text] of forms) {
    it(name, () => {
      const sent = translate(body(text));
      const user = sent.messages[0];
      assert.equal(user?.role, 'user');
      assert.match(String(user?.content), /^Hel\n?lo$/);
    });
  }
  it('strict JSON stays on the fast path and keeps its exact value', () => {
    assert.deepEqual(body('{"a":"x\\u0041"}'), { a: 'xA' });
  });
  it('a body that is not JSON-like is refused with its position', () => {
    const parsed = parseJsonBody('{"contents": [{"parts": ]}');
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? '' : parsed.message, /^Invalid JSON payload received\. .* at line 1, column 25\.$/);
    assert.equal(parseJsonBody('hello').ok, false);
  });
});

describe('a single value where a list is expected', () => {
  it('parts, systemInstruction.parts (system-instruction sample)', () => {
    const sent = translate(
      body(
        '{"system_instruction": {"parts": {"text": "You are a cat."}}, "contents": {"parts": {"text": "Hello there"}}}',
      ),
    );
    assert.deepEqual(sent.messages, [
      { role: 'system', content: 'You are a cat.' },
      { role: 'user', content: 'Hello there' },
    ]);
  });
  it('tools, functionDeclarations, allowedFunctionNames and stopSequences (function-calling sample)', () => {
    const sent = translate({
      contents: { role: 'user', parts: { text: 'Turn on the lights' } },
      tools: { function_declarations: { name: 'enable_lights', description: 'Turn on the lighting system.' } },
      tool_config: { function_calling_config: { mode: 'ANY', allowed_function_names: 'enable_lights' } },
      generationConfig: { stopSequences: 'END' },
    });
    assert.equal(sent.tools?.[0]?.function.name, 'enable_lights');
    assert.deepEqual(sent.tool_choice, { type: 'function', function: { name: 'enable_lights' } });
    assert.deepEqual(sent.stop, ['END']);
  });
  it('safetySettings as one object, with numeric enums (safety notebook)', () => {
    assert.doesNotThrow(() =>
      translate(body('{contents: [{parts: [{text: "hi"}]}], safetySettings: {category: 7, threshold: 4}}')),
    );
    const error = refusal(() =>
      translate({ contents: [{ parts: [{ text: 'hi' }] }], safetySettings: [{ category: 99 }] }),
    );
    assert.match(error.message, /safetySettings\[0\]\.category/);
  });
  it('embed requests and their parts', () => {
    const inputs = parseBatchEmbedContents({
      requests: { model: 'models/text-embedding-004', content: { parts: { text: 'What is the meaning of life?' } } },
    });
    assert.deepEqual(inputs, [
      { model: 'text-embedding-004', text: 'What is the meaning of life?', dimensions: undefined },
    ]);
  });
});

describe('enum numbers', () => {
  it('FunctionCallingConfig.mode 2 is ANY, responseModalities 1 is TEXT', () => {
    const sent = translate({
      contents: [{ parts: [{ text: 'x' }] }],
      tools: [{ functionDeclarations: [{ name: 'a' }, { name: 'b' }] }],
      toolConfig: { functionCallingConfig: { mode: 2 } },
      generationConfig: { responseModalities: [1] },
    });
    assert.equal(sent.tool_choice, 'required');
  });
  it('Schema types by number in a function declaration and a response schema', () => {
    const sent = translate({
      contents: [{ parts: [{ text: 'x' }] }],
      tools: [
        { functionDeclarations: [{ name: 'set_volume', parameters: { type: 6, properties: { level: { type: 3 } } } }] },
      ],
      generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 5, items: { type: 1 } } },
    });
    assert.deepEqual(sent.tools?.[0]?.function.parameters, {
      type: 'object',
      properties: { level: { type: 'integer' } },
    });
    assert.deepEqual(sent.response_format, {
      type: 'json_schema',
      json_schema: { name: 'response', schema: { type: 'array', items: { type: 'string' } }, strict: false },
    });
  });
  it('safety category names Google adds later are taken as they come', () => {
    assert.doesNotThrow(() =>
      translate({
        contents: [{ parts: [{ text: 'x' }] }],
        safetySettings: [{ category: 'HARM_CATEGORY_FUTURE', threshold: 'BLOCK_NONE' }],
      }),
    );
  });
  it('an unknown number names the field', () => {
    assert.match(
      refusal(() =>
        translate({ contents: [{ parts: [{ text: 'x' }] }], toolConfig: { functionCallingConfig: { mode: 9 } } }),
      ).message,
      /functionCallingConfig\.mode/,
    );
  });
});

describe('tools the proxy cannot honour', () => {
  it('mcpServers gets the built-in tool 400', () => {
    const error = refusal(() =>
      translate({
        contents: [{ parts: [{ text: 'x' }] }],
        tools: [{ mcpServers: [{ name: 'weather', streamableHttpTransport: { url: 'https://example.test/mcp' } }] }],
      }),
    );
    assert.equal(error.code, 'UNSUPPORTED_FEATURE');
    assert.match(error.message, /mcpServers/);
  });
  it('ignored fields are reported for the debug log, not dropped silently', () => {
    const request = normalizeGenerateContentRequest({
      contents: [{ parts: [{ text: 'x', videoMetadata: {} }] }],
      labels: { team: 'a' },
      generationConfig: { mediaResolution: 'MEDIA_RESOLUTION_LOW' },
    });
    assert.deepEqual(request.ignoredFields.sort(), [
      'generationConfig.mediaResolution',
      'labels',
      'parts[].videoMetadata',
    ]);
  });
});

describe('fileData media type', () => {
  const table: Array<[string, string | undefined, string | undefined]> = [
    ['https://www.youtube.com/watch?v=9hE5-98ZeCg', undefined, 'video/*'],
    ['https://youtu.be/9hE5-98ZeCg', undefined, 'video/*'],
    ['https://example.test/photos/cat.JPG', undefined, 'image/jpeg'],
    ['https://example.test/report.pdf?download=1', undefined, 'application/pdf'],
    ['gs://bucket/clip.mp4', undefined, 'video/mp4'],
    ['https://example.test/files/abc123', undefined, undefined],
    ['https://example.test/files/abc123', 'image/png', 'image/png'],
    ['https://example.test/cat.png', 'application/pdf', 'application/pdf'],
  ];
  for (const [uri, mimeType, expected] of table) {
    it(`${uri}${mimeType === undefined ? '' : ` (${mimeType})`} → ${expected ?? 'unknown'}`, () =>
      assert.equal(fileMediaType(uri, mimeType), expected));
  }
  it('only images go as image_url; a YouTube link without mimeType becomes a note (JS quickstart)', () => {
    const sent = translate({
      contents: [
        {
          parts: [
            { text: 'Summarize this video.' },
            { fileData: { fileUri: 'https://www.youtube.com/watch?v=9hE5-98ZeCg' } },
            { fileData: { fileUri: 'https://example.test/cat.png' } },
          ],
        },
      ],
    });
    assert.deepEqual(sent.messages[0]?.content, [
      {
        type: 'text',
        text: 'Summarize this video.\n[file https://www.youtube.com/watch?v=9hE5-98ZeCg (video/*) omitted: not accessible to the upstream model]',
      },
      { type: 'image_url', image_url: { url: 'https://example.test/cat.png' } },
    ]);
  });
});

describe('consecutive same-role turns', () => {
  it('SDK 1.30 history (one model content per streamed chunk, calls split across them) goes up as alternating messages', () => {
    for (const profile of Object.values(PROVIDERS)) {
      const sent = translate(
        {
          contents: [
            { role: 'user', parts: [{ text: 'context' }] },
            { role: 'user', parts: [{ text: 'What is the weather in Paris and Rome?' }] },
            { role: 'model', parts: [{ text: 'Let me ' }] },
            {
              role: 'model',
              parts: [{ text: 'check.' }, { functionCall: { name: 'get_weather', args: { city: 'Paris' } } }],
            },
            { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Rome' } } }] },
            {
              role: 'user',
              parts: [
                { functionResponse: { name: 'get_weather', response: { output: 'sunny' } } },
                { functionResponse: { name: 'get_weather', response: { output: 'rain' } } },
              ],
            },
          ],
          tools: [{ functionDeclarations: [{ name: 'get_weather' }] }],
        },
        profile,
        'up-model',
      );
      const roles = sent.messages.map((message) => message.role).filter((role) => role !== 'system');
      assert.deepEqual(roles, ['user', 'assistant', 'tool', 'tool'], profile.name);
      const assistant = sent.messages.find((message) => message.role === 'assistant');
      assert.ok(assistant?.role === 'assistant');
      assert.equal(assistant.content, 'Let me check.', profile.name);
      assert.deepEqual(
        assistant.tool_calls?.map((call) => call.function.arguments),
        ['{"city":"Paris"}', '{"city":"Rome"}'],
        profile.name,
      );
      assert.equal(
        sent.messages.find((message) => message.role === 'user')?.content,
        'context\nWhat is the weather in Paris and Rome?',
      );
    }
  });
});

function streamOptions(extra: Partial<StreamTranslationOptions> = {}): StreamTranslationOptions {
  return {
    modelVersion: 'up-model',
    responseId: 'r',
    includeThoughts: false,
    textMode: 'text',
    toolNames: createToolNameCodec([], {
      forbidden: undefined,
      maxLength: 64,
      minLength: 1,
      firstCharacter: undefined,
    }),
    promptCharacters: 40,
    ...extra,
  };
}

describe('candidateCount', () => {
  const request = { contents: [{ parts: [{ text: 'Name a color.' }] }], generationConfig: { candidateCount: 2 } };
  it('→ n where the preset says the upstream takes it', () => {
    assert.equal(translate(request, PROVIDERS.openai, 'gpt-4o').n, 2);
    assert.equal(translate(request, PROVIDERS.vllm).n, 2);
  });
  it('parallel calls where it does not take n; a 400 above 8', () => {
    const translated = geminiRequestToOpenAI(normalizeGenerateContentRequest(request), {
      model: 'deepseek-chat',
      stream: false,
      profile: PROVIDERS.deepseek,
    });
    assert.equal(translated.body.n, undefined);
    assert.equal(translated.parallelCalls, 2);
    assert.match(
      refusal(() => translate({ ...request, generationConfig: { candidateCount: 9 } }, PROVIDERS.openai)).message,
      /from 1 to 8/,
    );
  });
  it('unary: each choice becomes the candidate of its index; usage is the call’s', () => {
    const completion: OpenAIChunk = {
      choices: [
        { index: 1, message: { content: 'Blue' }, finish_reason: 'length' },
        { index: 0, message: { content: 'Red' }, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    };
    const response = openAICompletionToGemini(completion, streamOptions({ candidateCount: 2 })).response;
    assert.deepEqual(response?.candidates, [
      { index: 0, content: { role: 'model', parts: [{ text: 'Red' }] }, finishReason: 'STOP' },
      { index: 1, content: { role: 'model', parts: [{ text: 'Blue' }] }, finishReason: 'MAX_TOKENS' },
    ]);
    assert.equal(response?.usageMetadata?.totalTokenCount, 7);
  });
  it('stream: chunks keep their choice index, the last response finishes every candidate', () => {
    const machine = createStreamTranslator(streamOptions({ candidateCount: 2 }));
    const out: GenerateContentResponse[] = [];
    out.push(
      ...machine.push({
        choices: [
          { index: 0, delta: { content: 'Red' } },
          { index: 1, delta: { content: 'Blue' } },
        ],
      }),
    );
    out.push(
      ...machine.push({
        choices: [
          { index: 1, delta: {}, finish_reason: 'stop' },
          { index: 0, delta: {}, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
      }),
    );
    const end = machine.end('done');
    assert.deepEqual(
      out.map((response) => [response.candidates?.[0]?.index, response.candidates?.[0]?.content?.parts[0]?.text]),
      [
        [0, 'Red'],
        [1, 'Blue'],
      ],
    );
    assert.deepEqual(
      end.response?.candidates?.map((candidate) => [candidate.index, candidate.finishReason]),
      [
        [0, 'STOP'],
        [1, 'STOP'],
      ],
    );
    assert.equal(end.response?.usageMetadata?.totalTokenCount, 7);
  });
});

describe('logprobs', () => {
  const request = {
    contents: [{ parts: [{ text: 'Yes or no?' }] }],
    generationConfig: { responseLogprobs: true, logprobs: 2 },
  };
  it('request: responseLogprobs/logprobs → logprobs/top_logprobs', () => {
    const sent = translate(request, PROVIDERS.openai, 'gpt-4o');
    assert.equal(sent.logprobs, true);
    assert.equal(sent.top_logprobs, 2);
  });
  it('a clear 400 where the upstream returns none', () => {
    const error = refusal(() => translate(request, PROVIDERS.kimi, 'kimi-k2'));
    assert.equal(error.code, 'UNSUPPORTED_FEATURE');
    assert.match(error.message, /responseLogprobs/);
    assert.match(refusal(() => translate(request, PROVIDERS.openai, 'o3')).message, /responseLogprobs/);
  });
  const logprobs = {
    content: [
      {
        token: 'Yes',
        logprob: -0.25,
        top_logprobs: [
          { token: 'Yes', logprob: -0.25 },
          { token: 'No', logprob: -1.5 },
        ],
      },
      { token: '.', logprob: -0.75, top_logprobs: [{ token: '.', logprob: -0.75 }] },
    ],
  };
  const expected = {
    avgLogprobs: -0.5,
    logprobsResult: {
      topCandidates: [
        {
          candidates: [
            { token: 'Yes', logProbability: -0.25 },
            { token: 'No', logProbability: -1.5 },
          ],
        },
        { candidates: [{ token: '.', logProbability: -0.75 }] },
      ],
      chosenCandidates: [
        { token: 'Yes', logProbability: -0.25 },
        { token: '.', logProbability: -0.75 },
      ],
    },
  };
  it('response, unary: logprobsResult and avgLogprobs on the candidate', () => {
    const candidate = openAICompletionToGemini(
      { choices: [{ index: 0, message: { content: 'Yes.' }, finish_reason: 'stop', logprobs }] },
      streamOptions(),
    ).response?.candidates?.[0];
    assert.deepEqual({ avgLogprobs: candidate?.avgLogprobs, logprobsResult: candidate?.logprobsResult }, expected);
  });
  it('response, stream: collected over the chunks, on the final candidate', () => {
    const machine = createStreamTranslator(streamOptions());
    machine.push({
      choices: [{ index: 0, delta: { content: 'Yes' }, logprobs: { content: logprobs.content.slice(0, 1) } }],
    });
    machine.push({
      choices: [
        { index: 0, delta: { content: '.' }, logprobs: { content: logprobs.content.slice(1) }, finish_reason: 'stop' },
      ],
    });
    const candidate = machine.end('done').response?.candidates?.[0];
    assert.deepEqual({ avgLogprobs: candidate?.avgLogprobs, logprobsResult: candidate?.logprobsResult }, expected);
  });
});
