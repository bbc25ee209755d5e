/**
 * Moonshot's builtin `$web_search` (https://platform.moonshot.ai/docs/guide/use-web-search): the model answers a
 * search with `finish_reason:"tool_calls"` and a `builtin_function` call whose arguments Moonshot already filled; the
 * client sends that call back unchanged as a `tool` message and asks again, until a real answer comes. The proxy runs
 * this loop itself, so the Gemini client sees one answer. The rounds are unary; a streaming client gets the final
 * answer as one stream event.
 *
 * Shaped as the upstream POST it replaces, so retries, fallbacks and error classification stay the gateway's.
 */
import { readBody, type UpstreamClient, type UpstreamPost, type UpstreamReply } from '../upstream/client.js';

/** Searches one answer may chain before the proxy takes what it has. */
export const MAX_SEARCH_ROUNDS = 4;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isBuiltinCall(call: unknown): call is { id: string; function: { name: string; arguments: string } } {
  if (!isRecord(call) || typeof call['id'] !== 'string' || !isRecord(call['function'])) return false;
  const name = call['function']['name'];
  return call['type'] === 'builtin_function' || (typeof name === 'string' && name.startsWith('$'));
}

function reply(statusCode: number, headers: UpstreamReply['headers'], text: string): UpstreamReply {
  return { statusCode, headers, body: Buffer.from(text, 'utf8') };
}

/** The final completion in the form the caller asked for: the JSON body, or one SSE event plus [DONE]. */
function finalReply(
  completion: Record<string, unknown>,
  headers: UpstreamReply['headers'],
  stream: boolean,
): UpstreamReply {
  if (!stream) return reply(200, headers, JSON.stringify(completion));
  // The stream translator reads `message` where `delta` is absent, so the completion is a valid single chunk.
  return reply(
    200,
    { ...headers, 'content-type': 'text/event-stream' },
    `data: ${JSON.stringify(completion)}\n\ndata: [DONE]\n\n`,
  );
}

export function kimiBuiltinSearchPost(client: UpstreamClient, onRound?: (round: number) => void): UpstreamPost {
  return async (target, url, body, signal, stream) => {
    const request = JSON.parse(body) as Record<string, unknown>;
    request['stream'] = false;
    delete request['stream_options'];
    const messages = Array.isArray(request['messages']) ? (request['messages'] as unknown[]) : [];
    request['messages'] = messages;
    for (let round = 1; ; round += 1) {
      const response = await client.post(target, url, JSON.stringify(request), signal, false);
      if (response.statusCode < 200 || response.statusCode >= 300) return response;
      const text = await readBody(response.body);
      let completion: unknown;
      try {
        completion = JSON.parse(text.trim());
      } catch {
        return reply(response.statusCode, response.headers, text);
      }
      if (!isRecord(completion) || !Array.isArray(completion['choices']))
        return reply(response.statusCode, response.headers, text);
      const choice: unknown = completion['choices'][0];
      const message = isRecord(choice) && isRecord(choice['message']) ? choice['message'] : undefined;
      const calls = Array.isArray(message?.['tool_calls']) ? (message['tool_calls'] as unknown[]) : [];
      const builtin = calls.filter(isBuiltinCall);
      if (message === undefined || builtin.length === 0) return finalReply(completion, response.headers, stream);
      onRound?.(round);
      if (round >= MAX_SEARCH_ROUNDS || builtin.length < calls.length) {
        // Out of rounds, or searches mixed with the client's own calls: the client gets its calls, never ours.
        const own = calls.filter((call) => !isBuiltinCall(call));
        const cleaned = { ...message, tool_calls: own.length > 0 ? own : undefined };
        const finish = own.length > 0 ? 'tool_calls' : 'stop';
        return finalReply(
          {
            ...completion,
            choices: [{ ...(choice as Record<string, unknown>), message: cleaned, finish_reason: finish }],
          },
          response.headers,
          stream,
        );
      }
      // Moonshot rejects an empty assistant content beside tool calls (docs/providers.md §3.6).
      const content =
        typeof message['content'] === 'string' && message['content'] !== '' ? { content: message['content'] } : {};
      messages.push({ role: 'assistant', ...content, tool_calls: builtin });
      for (const call of builtin)
        messages.push({
          role: 'tool',
          tool_call_id: call.id,
          name: call.function.name,
          content: call.function.arguments,
        });
    }
  };
}
