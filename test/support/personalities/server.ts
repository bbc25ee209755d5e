/**
 * A personality on the wire: a ScriptedUpstream whose every answer is computed by the personality from the request
 * (route → credentials → parse → model → quota → provider rules → the test's Utterance → the provider's bytes).
 * Every exchange is recorded with its verdict, so tests assert both what the proxy sent and what was accepted.
 */
import { ScriptedUpstream, type ReceivedRequest, type Script } from '../scripted-upstream.js';
import {
  Rng,
  parseChat,
  reject,
  type ChatRequest,
  type ModelTraits,
  type Personality,
  type Rejection,
  type UsageReport,
  type Utterance,
} from './core.js';
import { encodeStream, encodeUnary, reportedUsage, streamSendsUsage, type Plan } from './encode.js';

export interface Exchange {
  received: ReceivedRequest;
  route: 'chat' | 'tokens' | 'not-found';
  chat?: ChatRequest;
  traits?: ModelTraits;
  /** Whether the model reasoned on this request. */
  thinking: boolean;
  rejection?: Rejection;
  plan?: Plan;
  /** The usage the client was told (undefined: none was sent). */
  usage?: UsageReport | undefined;
  /** Parameters the provider silently ignored. */
  ignored: string[];
}

export interface ResponderContext {
  thinking: boolean;
  traits: ModelTraits;
  /** 0 for the first accepted chat request since the last reset. */
  turn: number;
}

export type Responder = (chat: ChatRequest, context: ResponderContext) => Utterance;

const CREATED = 1779700000;

function lookupModel(personality: Personality, name: string): ModelTraits | undefined {
  return Object.hasOwn(personality.models, name) ? personality.models[name] : personality.anyModel;
}

export class PersonalityUpstream {
  readonly scripted = new ScriptedUpstream();
  readonly exchanges: Exchange[] = [];
  /** When set, every chat request is answered with the provider's quota / balance error. */
  quotaExhausted = false;
  /** Another documented quota body to answer with instead of the personality's main one. */
  quotaRejection: Rejection | undefined;
  /** A transient rate limit: quota answers only for this long after the first chat request hit it. */
  quotaWindowMs: number | undefined;
  private quotaStartedAt: number | undefined;
  private responder: Responder | undefined;
  private rng: Rng;
  private turn = 0;

  constructor(readonly personality: Personality) {
    this.rng = new Rng(personality.name);
  }

  async start(): Promise<this> {
    await this.scripted.start();
    this.installFallback();
    return this;
  }

  stop(): Promise<void> {
    return this.scripted.stop();
  }

  /** `http://127.0.0.1:PORT` */
  get origin(): string {
    return `http://127.0.0.1:${this.scripted.port}`;
  }

  /** The base URL in the provider's path shape, as the proxy is configured with it. */
  get baseUrl(): string {
    return `${this.origin}${this.personality.basePath}`;
  }

  /** What the model says to each accepted chat request. */
  onChat(responder: Responder): this {
    this.responder = responder;
    return this;
  }

  reset(): void {
    this.scripted.reset();
    this.installFallback();
    this.exchanges.length = 0;
    this.quotaExhausted = false;
    this.quotaRejection = undefined;
    this.quotaWindowMs = undefined;
    this.quotaStartedAt = undefined;
    this.responder = undefined;
    this.turn = 0;
    this.rng = new Rng(this.personality.name);
  }

  get chats(): Exchange[] {
    return this.exchanges.filter((exchange) => exchange.route === 'chat');
  }

  get rejections(): Exchange[] {
    return this.exchanges.filter((exchange) => exchange.rejection !== undefined);
  }

  /** One line per exchange, for assertion messages. */
  describe(): string {
    return this.exchanges
      .map((exchange, index) => {
        const chat = exchange.chat;
        const head = `#${index} ${exchange.received.method} ${exchange.received.url} ${exchange.route}`;
        const body =
          chat === undefined
            ? ''
            : ` model=${chat.model} stream=${chat.stream} messages=${chat.messages.map((message) => message.role).join(',')} tools=${chat.tools.length}`;
        const verdict =
          exchange.rejection === undefined
            ? ' → 200'
            : ` → ${exchange.rejection.status} ${exchange.rejection.why}: ${JSON.stringify(exchange.rejection.body).slice(0, 400)}`;
        return head + body + verdict;
      })
      .join('\n');
  }

  private installFallback(): void {
    this.scripted.setFallback({ kind: 'dynamic', respond: (received) => this.answer(received) });
  }

  private answer(received: ReceivedRequest): Script {
    const personality = this.personality;
    const url = new URL(received.url, 'http://127.0.0.1');
    const exchange: Exchange = { received, route: 'not-found', thinking: false, ignored: [] };
    this.exchanges.push(exchange);
    const fail = (rejection: Rejection): Script => {
      exchange.rejection = rejection;
      const script: Script = { kind: 'json', status: rejection.status, body: rejection.body };
      if (rejection.headers !== undefined) script.headers = rejection.headers;
      return script;
    };

    const route = received.method === 'POST' ? personality.route(url) : undefined;
    if (route === undefined) return fail(personality.notFound(url));
    const denied = personality.authenticate(received.headers, url);
    if (denied !== undefined) return fail(denied);

    if (route.kind === 'tokens') {
      exchange.route = 'tokens';
      if (personality.countTokens === undefined) return fail(personality.notFound(url));
      const counted = personality.countTokens(received.body, received.rawBody);
      if ('rejection' in counted) return fail(counted.rejection);
      return { kind: 'json', body: counted.reply };
    }

    exchange.route = 'chat';
    const chat = parseChat(received.rawBody, received.body);
    if (typeof chat === 'string') return fail(reject(personality, { status: 400, message: chat, why: 'malformed' }));
    exchange.chat = chat;
    const modelName = route.model ?? chat.model;
    const traits = lookupModel(personality, modelName);
    if (traits === undefined) return fail(personality.unknownModel(modelName));
    exchange.traits = traits;
    if (this.quotaExhausted) {
      this.quotaStartedAt ??= Date.now();
      const over = this.quotaWindowMs !== undefined && Date.now() - this.quotaStartedAt >= this.quotaWindowMs;
      if (!over) return fail(this.quotaRejection ?? personality.quota.rejection);
    }
    const thinking = personality.thinking(chat, traits);
    exchange.thinking = thinking;
    const rejection = personality.validate(chat, { url, headers: received.headers, traits, thinking });
    if (rejection !== undefined) return fail(rejection);
    exchange.ignored = personality.ignored?.(chat, { url, headers: received.headers, traits, thinking }) ?? [];
    const responder = this.responder;
    if (responder === undefined)
      return fail({
        status: 500,
        why: 'no-responder',
        body: { error: { message: 'personality: the test set no responder', type: 'server_error' } },
      });

    const utterance = responder(chat, { thinking, traits, turn: this.turn++ });
    const plan = this.plan(chat, utterance, traits, modelName, thinking);
    exchange.plan = plan;
    if (chat.stream) {
      exchange.usage = reportedUsage(personality.stream, plan, streamSendsUsage(personality.stream, plan));
      return { kind: 'sse', writes: encodeStream(personality.stream, plan) };
    }
    exchange.usage = reportedUsage(personality.stream, plan, true);
    const { body, rawPrefix } = encodeUnary(personality.unary, plan);
    return { kind: 'json', body, rawPrefix };
  }

  private plan(
    chat: ChatRequest,
    utterance: Utterance,
    traits: ModelTraits,
    modelName: string,
    thinking: boolean,
  ): Plan {
    const personality = this.personality;
    const rng = this.rng;
    const thought = thinking ? (utterance.reasoning ?? '') : '';
    const field =
      personality.reasoningFor?.(chat) ?? (chat.stream ? personality.stream.reasoning : personality.unary.reasoning);
    let calls = utterance.calls ?? [];
    const limit = personality.callLimit?.(chat);
    if (limit !== undefined) calls = calls.slice(0, limit);
    const idFor = chat.stream
      ? personality.stream.toolCallId
      : (personality.unary.toolCallId ?? personality.stream.toolCallId);
    const planned = calls.map((call, index) => ({
      id: idFor(call.name, index, rng),
      name: call.name,
      arguments: JSON.stringify(call.arguments),
    }));
    const text = utterance.text ?? '';
    const outputCharacters = text.length + planned.reduce((sum, call) => sum + call.arguments.length, 0);
    const reasoningTokens = thought === '' ? 0 : Math.ceil(thought.length / 4);
    const usage: UsageReport = {
      prompt: utterance.usage?.prompt ?? Math.ceil(chat.rawText.length / 4),
      completion: utterance.usage?.completion ?? Math.ceil(outputCharacters / 4) + 1 + reasoningTokens,
    };
    if (reasoningTokens > 0) usage.reasoning = reasoningTokens;
    if (utterance.usage?.cached !== undefined) usage.cached = utterance.usage.cached;
    return {
      id: personality.responseId(rng),
      created: CREATED + this.turn,
      model: traits.reportedAs ?? modelName,
      reasoning: field === 'hidden' ? '' : thought,
      reasoningField: field,
      text,
      calls: planned,
      finish: utterance.finish ?? (planned.length > 0 ? 'tool_calls' : 'stop'),
      usage,
      includeUsage: chat.includeUsage,
      rng,
    };
  }
}
