// The dashboard's usage panel (window.GPUsage): one chart per measure over the range's buckets, a line per Gemini
// model, and the per-model totals table.
'use strict';

(function () {
  const { integer, ms, compact, cell } = window.GPFormat;
  const $ = (selector) => document.querySelector(selector);

  function chartData(body) {
    const buckets = [];
    for (let bucket = body.from; bucket < body.to; bucket += body.bucketMs) buckets.push(bucket);
    const index = new Map(buckets.map((bucket, position) => [bucket, position]));
    const byModel = new Map(body.models.map((model) => [model, []]));
    for (const point of body.points) {
      const list = byModel.get(point.model);
      if (list) list.push(point);
    }
    return { buckets, index, byModel };
  }

  function seriesOf(data, pick, emptyValue) {
    return [...data.byModel.entries()].map(([model, points]) => {
      const values = data.buckets.map(() => emptyValue);
      for (const point of points) {
        const position = data.index.get(point.bucket);
        if (position !== undefined) values[position] = pick(point);
      }
      return { name: model || '(none)', values };
    });
  }

  /** `body`: the /ui/api/usage answer; `percentile`: which latency to chart (p50Ms, p95Ms or p99Ms). */
  function render(body, percentile) {
    const data = chartData(body);
    const charts = window.GPCharts;
    charts.lineChart($('#chart-requests .plot'), {
      label: 'requests',
      buckets: data.buckets,
      series: seriesOf(data, (p) => p.requests, 0),
      format: compact,
    });
    charts.lineChart($('#chart-tokens .plot'), {
      label: 'tokens',
      buckets: data.buckets,
      series: seriesOf(data, (p) => p.promptTokens + p.outputTokens + p.thoughtsTokens, 0),
      format: compact,
    });
    charts.lineChart($('#chart-latency .plot'), {
      label: 'latency',
      buckets: data.buckets,
      series: seriesOf(data, (p) => p[percentile], null),
      format: ms,
    });
    charts.lineChart($('#chart-errors .plot'), {
      label: 'errors',
      buckets: data.buckets,
      series: seriesOf(data, (p) => p.errors, 0),
      format: compact,
    });
    $('#chart-latency figcaption').textContent = `Latency (${percentile.replace('Ms', '')})`;

    const tbody = $('#totals tbody');
    tbody.textContent = '';
    for (const totals of body.totals) {
      const row = document.createElement('tr');
      cell(row, totals.model || '(none)');
      cell(row, totals.upstreamModels.join(', ') || '–');
      cell(row, integer.format(totals.requests), 'num');
      cell(row, integer.format(totals.errors), 'num');
      cell(row, integer.format(totals.promptTokens), 'num');
      cell(row, integer.format(totals.outputTokens), 'num');
      cell(row, integer.format(totals.thoughtsTokens), 'num');
      cell(row, integer.format(totals.webSearches ?? 0), 'num');
      cell(row, ms(totals.p50Ms), 'num');
      cell(row, ms(totals.p95Ms), 'num');
      tbody.appendChild(row);
    }
    $('#usage-note').textContent = body.persistent
      ? `stored in SQLite${body.retentionDays > 0 ? `, kept ${body.retentionDays} days` : ''}`
      : 'in memory only (usage store off): since the last start';
  }

  window.GPUsage = { render };
})();
