/**
 * Prometheus metrics fed by the request event: requests, latency and time-to-first-chunk histograms, tokens by model
 * and upstream (these four per request, in prom-text.ts), upstream errors by class, open streams, config reloads, web
 * searches and prom-client's process metrics (prom-client). One registry per app, so several proxies in one process
 * (tests) do not collide.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestRecord } from '../server/context.js';
import { capLabel } from '../server/model-label.js';
import { CounterFamily, HistogramFamily } from './prom-text.js';

/** Distinct values a label may take before the rest are counted as "other" (model names come from clients). */
const MAX_LABEL_VALUES = 200;

/**
 * Names the config itself serves (exact mapping keys, route names, the Gemini CLI names that resolve) always get their
 * own label; only the others share the MAX_LABEL_VALUES slots, so junk names cannot push real models into "other".
 */
class LabelLimiter {
  private readonly seen = new Set<string>();

  constructor(private readonly reserved: (value: string) => boolean = () => false) {}

  value(raw: string | undefined): string {
    const value = raw === undefined || raw === '' ? 'none' : capLabel(raw);
    if (this.seen.has(value) || this.reserved(value)) return value;
    if (this.seen.size >= MAX_LABEL_VALUES) return 'other';
    this.seen.add(value);
    return value;
  }
}

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly models: LabelLimiter;
  private readonly upstreamModels = new LabelLimiter();
  private readonly requests: CounterFamily;
  private readonly duration: HistogramFamily;
  private readonly firstChunk: HistogramFamily;
  private readonly tokens: CounterFamily;
  private readonly upstreamErrors: Counter<'provider' | 'class'>;
  private readonly reloads: Counter<'result'>;
  private readonly webSearches: Counter<'backend' | 'outcome'>;

  /**
   * `openStreams` is read at scrape time: the number of streaming responses in progress. `servedModel` tells the Gemini
   * model names the config serves by name (they never count against the label cap).
   */
  constructor(openStreams: () => number, servedModel: (name: string) => boolean = () => false) {
    this.models = new LabelLimiter(servedModel);
    const registers = [this.registry];
    this.requests = new CounterFamily(
      'gemini_proxy_requests_total',
      'Finished Gemini API requests, by Gemini model, upstream model, provider, HTTP status and streaming.',
      ['model', 'upstream_model', 'provider', 'status', 'stream'],
    );
    this.duration = new HistogramFamily(
      'gemini_proxy_request_duration_seconds',
      'Time from request arrival to the end of the response (whole stream for streaming requests).',
      ['model', 'upstream_model', 'provider', 'stream'],
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600],
    );
    this.firstChunk = new HistogramFamily(
      'gemini_proxy_time_to_first_chunk_seconds',
      'Time from request arrival to the first content byte sent to the client.',
      ['model', 'upstream_model', 'provider'],
      [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 45, 60],
    );
    this.tokens = new CounterFamily(
      'gemini_proxy_tokens_total',
      'Tokens reported for finished requests: type="prompt" (in), "output" (out, thoughts excluded), "thoughts".',
      ['model', 'upstream_model', 'provider', 'type'],
    );
    this.upstreamErrors = new Counter({
      name: 'gemini_proxy_upstream_errors_total',
      help: 'Failed upstream calls by provider and error class (UPSTREAM_RATE_LIMITED, UPSTREAM_TIMEOUT, …).',
      labelNames: ['provider', 'class'],
      registers,
    });
    new Gauge({
      name: 'gemini_proxy_open_streams',
      help: 'Streaming responses in progress.',
      registers,
      collect() {
        this.set(openStreams());
      },
    });
    this.reloads = new Counter({
      name: 'gemini_proxy_config_reloads_total',
      help: 'Config reloads (SIGHUP or file change), by result.',
      labelNames: ['result'],
      registers,
    });
    this.webSearches = new Counter({
      name: 'gemini_proxy_web_searches_total',
      help: 'Web searches made for Gemini googleSearch requests, by backend (searxng, brave, tavily, or a native search) and outcome (ok, native, timeout, unavailable, rejected, bad-response, empty, no-query).',
      labelNames: ['backend', 'outcome'],
      registers,
    });
    collectDefaultMetrics({ register: this.registry });
  }

  observe(record: RequestRecord): void {
    const model = this.models.value(record.model);
    const upstreamModel = this.upstreamModels.value(record.upstreamModel);
    const provider = record.provider;
    const stream = record.stream ? 'true' : 'false';
    this.requests.inc([model, upstreamModel, provider, String(record.status), stream]);
    this.duration.observe([model, upstreamModel, provider, stream], record.durationMs / 1000);
    if (record.firstChunkMs !== undefined)
      this.firstChunk.observe([model, upstreamModel, provider], record.firstChunkMs / 1000);
    if (record.promptTokens > 0) this.tokens.inc([model, upstreamModel, provider, 'prompt'], record.promptTokens);
    if (record.outputTokens > 0) this.tokens.inc([model, upstreamModel, provider, 'output'], record.outputTokens);
    if (record.thoughtsTokens > 0) this.tokens.inc([model, upstreamModel, provider, 'thoughts'], record.thoughtsTokens);
    if (record.upstreamError !== undefined) this.upstreamErrors.inc({ provider, class: record.upstreamError });
    if (record.webSearch !== undefined)
      this.webSearches.inc({ backend: record.webSearch.backend, outcome: record.webSearch.outcome });
  }

  reloaded(ok: boolean): void {
    this.reloads.inc({ result: ok ? 'success' : 'failure' });
  }

  /** The request families first, then prom-client's registry: the order they were declared in before. */
  async render(): Promise<{ contentType: string; body: string }> {
    const own = [this.requests, this.duration, this.firstChunk, this.tokens].map((family) => family.render());
    return { contentType: this.registry.contentType, body: `${own.join('\n\n')}\n\n${await this.registry.metrics()}` };
  }
}
