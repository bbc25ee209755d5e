/**
 * The request metrics' counters and histograms, kept in plain maps and written in the Prometheus text format only when
 * scraped. prom-client hashes a label object (sorting its keys) and validates it on every increment, ~50 µs of CPU per
 * request for the request event's six updates (bench/cost.mjs, metrics on vs off); here a request costs one string key
 * and a map lookup per family. The text is byte for byte what prom-client 15 writes for the same observations
 * (test/operator/prom-text.test.ts checks it against prom-client itself).
 */

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(text: string): string {
  return escapeHelp(text).replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/** `name="value",…` in the family's label order. */
function formatLabels(names: readonly string[], values: readonly string[]): string {
  return names.map((name, index) => `${name}="${escapeLabelValue(values[index] ?? '')}"`).join(',');
}

abstract class Family<Series> {
  protected readonly series = new Map<string, { labels: string; value: Series }>();

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly type: 'counter' | 'histogram',
    protected readonly labelNames: readonly string[],
  ) {}

  /** The series for these label values (in `labelNames` order), created at first use. */
  protected at(labelValues: readonly string[], create: () => Series): Series {
    const key = labelValues.join('\u0000');
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { labels: formatLabels(this.labelNames, labelValues), value: create() };
      this.series.set(key, entry);
    }
    return entry.value;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const { labels, value } of this.series.values()) this.lines(labels, value, lines);
    return lines.join('\n');
  }

  protected abstract lines(labels: string, value: Series, out: string[]): void;
}

export class CounterFamily extends Family<{ value: number }> {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, 'counter', labelNames);
  }

  inc(labelValues: readonly string[], amount = 1): void {
    this.at(labelValues, () => ({ value: 0 })).value += amount;
  }

  protected lines(labels: string, series: { value: number }, out: string[]): void {
    out.push(`${this.name}{${labels}} ${formatValue(series.value)}`);
  }
}

interface HistogramSeries {
  /** Observations per bucket (not cumulative), in `bounds` order. */
  buckets: number[];
  sum: number;
  count: number;
}

export class HistogramFamily extends Family<HistogramSeries> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
  ) {
    super(name, help, 'histogram', labelNames);
  }

  observe(labelValues: readonly string[], value: number): void {
    const series = this.at(labelValues, () => ({ buckets: this.bounds.map(() => 0), sum: 0, count: 0 }));
    const index = this.bounds.findIndex((bound) => value <= bound);
    if (index !== -1) series.buckets[index] = (series.buckets[index] ?? 0) + 1;
    series.sum += value;
    series.count += 1;
  }

  protected lines(labels: string, series: HistogramSeries, out: string[]): void {
    let cumulative = 0;
    this.bounds.forEach((bound, index) => {
      cumulative += series.buckets[index] ?? 0;
      out.push(`${this.name}_bucket{le="${bound}",${labels}} ${formatValue(cumulative)}`);
    });
    out.push(`${this.name}_bucket{le="+Inf",${labels}} ${formatValue(series.count)}`);
    out.push(`${this.name}_sum{${labels}} ${formatValue(series.sum)}`);
    out.push(`${this.name}_count{${labels}} ${formatValue(series.count)}`);
  }
}
