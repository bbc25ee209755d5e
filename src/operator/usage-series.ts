/**
 * The dashboard's usage charts from the usage database's rows: per model and time bucket, requests, errors, tokens,
 * web searches and latency percentiles; per model, the totals over the whole range.
 */

/** What a chart point and a model's totals both count. */
interface UsageCounts {
  model: string;
  requests: number;
  errors: number;
  promptTokens: number;
  outputTokens: number;
  thoughtsTokens: number;
  /** Requests that made a web search (googleSearch). */
  webSearches: number;
  p50Ms: number;
  p95Ms: number;
}

export interface SeriesPoint extends UsageCounts {
  /** Bucket start, ms since the epoch. */
  bucket: number;
  p99Ms: number;
}

export interface ModelTotals extends UsageCounts {
  upstreamModels: string[];
}

export interface UsageSeries {
  from: number;
  to: number;
  bucketMs: number;
  models: string[];
  points: SeriesPoint[];
  totals: ModelTotals[];
}

/** One bucket and model, summed by the database. */
export interface AggregateRow {
  bucket: number;
  model: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  output_tokens: number;
  thoughts_tokens: number;
  web_searches: number;
}

/** One request's duration, with its bucket and models. */
export interface DurationRow {
  bucket: number;
  model: string;
  upstream_model: string | null;
  duration_ms: number;
}

interface ModelDurations {
  durations: number[];
  upstream: Set<string>;
}

/** Rows sorted by duration → the durations of each bucket and model (`bucket\0model`), and of each model. */
function groupDurations(rows: readonly DurationRow[]): {
  perBucket: Map<string, number[]>;
  perModel: Map<string, ModelDurations>;
} {
  const perBucket = new Map<string, number[]>();
  const perModel = new Map<string, ModelDurations>();
  for (const row of rows) {
    const key = `${row.bucket}\u0000${row.model}`;
    let list = perBucket.get(key);
    if (list === undefined) perBucket.set(key, (list = []));
    list.push(row.duration_ms);
    let model = perModel.get(row.model);
    if (model === undefined) perModel.set(row.model, (model = { durations: [], upstream: new Set() }));
    model.durations.push(row.duration_ms);
    if (row.upstream_model !== null) model.upstream.add(row.upstream_model);
  }
  return { perBucket, perModel };
}

/** Each model's sums over the points, with its percentiles over the whole range; most requests first. */
function totalsPerModel(points: readonly SeriesPoint[], perModel: ReadonlyMap<string, ModelDurations>): ModelTotals[] {
  const totalsByModel = new Map<string, ModelTotals>();
  for (const point of points) {
    let totals = totalsByModel.get(point.model);
    if (totals === undefined) {
      const info = perModel.get(point.model);
      totals = {
        model: point.model,
        upstreamModels: [...(info?.upstream ?? [])].sort(),
        requests: 0,
        errors: 0,
        promptTokens: 0,
        outputTokens: 0,
        thoughtsTokens: 0,
        webSearches: 0,
        p50Ms: percentile(info?.durations ?? [], 0.5),
        p95Ms: percentile(info?.durations ?? [], 0.95),
      };
      totalsByModel.set(point.model, totals);
    }
    totals.requests += point.requests;
    totals.errors += point.errors;
    totals.promptTokens += point.promptTokens;
    totals.outputTokens += point.outputTokens;
    totals.thoughtsTokens += point.thoughtsTokens;
    totals.webSearches += point.webSearches;
  }
  return [...totalsByModel.values()].sort((a, b) => b.requests - a.requests || a.model.localeCompare(b.model));
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

/** `aggregates`: one row per bucket and model; `durations`: every request's duration in the range, ascending. */
/** `aggregates`: one row per bucket and model; `durations`: every request's in the range, shortest first. */
export function buildSeries(
  aggregates: readonly AggregateRow[],
  durations: readonly DurationRow[],
  from: number,
  to: number,
  bucketMs: number,
): UsageSeries {
  const { perBucket, perModel } = groupDurations(durations);
  const points: SeriesPoint[] = aggregates.map((row) => {
    const sorted = perBucket.get(`${row.bucket}\u0000${row.model}`) ?? [];
    return {
      bucket: row.bucket,
      model: row.model,
      requests: row.requests,
      errors: row.errors,
      promptTokens: row.prompt_tokens,
      outputTokens: row.output_tokens,
      thoughtsTokens: row.thoughts_tokens,
      webSearches: row.web_searches,
      p50Ms: percentile(sorted, 0.5),
      p95Ms: percentile(sorted, 0.95),
      p99Ms: percentile(sorted, 0.99),
    };
  });
  const totals = totalsPerModel(points, perModel);
  return { from, to, bucketMs, models: totals.map((entry) => entry.model), points, totals };
}
