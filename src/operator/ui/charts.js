// Small SVG line charts for the dashboard: one line per series over shared time buckets, light grid, time and value
// axes, native tooltips on points, and a legend. No dependencies.
'use strict';

(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const PALETTE = [
    '#2563eb',
    '#16a34a',
    '#d97706',
    '#dc2626',
    '#7c3aed',
    '#0891b2',
    '#db2777',
    '#65a30d',
    '#475569',
    '#ea580c',
  ];
  const WIDTH = 560;
  const HEIGHT = 210;
  const PAD = { left: 52, right: 12, top: 10, bottom: 26 };

  function el(name, attributes, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, String(value));
    if (parent) parent.appendChild(node);
    return node;
  }

  /** 1, 2, 5 × 10^n steps, about `count` of them up to `max`. */
  function niceTicks(max, count) {
    if (!(max > 0)) return [0, 1];
    const raw = max / count;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= raw) || raw;
    const ticks = [];
    for (let value = 0; value <= max + step * 0.001; value += step) ticks.push(value);
    if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
    return ticks;
  }

  function timeLabel(ms, spanMs) {
    const date = new Date(ms);
    const two = (n) => String(n).padStart(2, '0');
    const hm = `${two(date.getHours())}:${two(date.getMinutes())}`;
    if (spanMs <= 60 * 60 * 1000) return `${hm}:${two(date.getSeconds())}`.slice(0, spanMs <= 15 * 60 * 1000 ? 8 : 5);
    if (spanMs <= 24 * 60 * 60 * 1000) return hm;
    return `${two(date.getMonth() + 1)}-${two(date.getDate())} ${hm}`;
  }

  /** The value grid with its labels, the y axis, and up to five time labels under the plot. */
  function drawAxes(svg, { ticks, buckets, spanMs, format, x, y, plotHeight }) {
    for (const tick of ticks) {
      el(
        'line',
        { class: tick === 0 ? 'axis' : 'grid', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(tick), y2: y(tick) },
        svg,
      );
      const label = el('text', { x: PAD.left - 6, y: y(tick) + 3, 'text-anchor': 'end' }, svg);
      label.textContent = format(tick);
    }
    el('line', { class: 'axis', x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: PAD.top + plotHeight }, svg);
    const labelCount = Math.min(5, buckets.length);
    for (let i = 0; i < labelCount; i += 1) {
      const index = labelCount === 1 ? 0 : Math.round((i / (labelCount - 1)) * (buckets.length - 1));
      const label = el(
        'text',
        { x: x(index), y: HEIGHT - 8, 'text-anchor': i === 0 ? 'start' : i === labelCount - 1 ? 'end' : 'middle' },
        svg,
      );
      label.textContent = timeLabel(buckets[index], spanMs);
    }
  }

  /** One colored name per series, in the palette's order. */
  function legendFor(series) {
    const legend = document.createElement('div');
    legend.className = 'legend';
    series.forEach((line, seriesIndex) => {
      const item = document.createElement('span');
      item.style.color = PALETTE[seriesIndex % PALETTE.length];
      item.textContent = line.name;
      legend.appendChild(item);
    });
    return legend;
  }

  /**
   * options: { buckets: number[] (ms), series: [{ name, values: (number|null)[] }], format(value) → string,
   *            label: string (for the svg's aria-label) }
   */
  function lineChart(container, options) {
    container.textContent = '';
    const buckets = options.buckets;
    const series = options.series;
    const format = options.format || ((value) => String(Math.round(value)));
    const svg = el(
      'svg',
      { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': options.label || 'chart' },
      container,
    );
    const plotWidth = WIDTH - PAD.left - PAD.right;
    const plotHeight = HEIGHT - PAD.top - PAD.bottom;
    let max = 0;
    for (const line of series) for (const value of line.values) if (value !== null && value > max) max = value;
    const ticks = niceTicks(max, 4);
    const top = ticks[ticks.length - 1] || 1;
    const x = (index) => PAD.left + (buckets.length <= 1 ? plotWidth / 2 : (index / (buckets.length - 1)) * plotWidth);
    const y = (value) => PAD.top + plotHeight - (value / top) * plotHeight;

    const spanMs = buckets.length > 1 ? buckets[buckets.length - 1] - buckets[0] : 0;
    drawAxes(svg, { ticks, buckets, spanMs, format, x, y, plotHeight });

    const hasData = series.some((line) => line.values.some((value) => value !== null && value > 0));
    if (!hasData) {
      const text = el(
        'text',
        { class: 'nodata', x: PAD.left + plotWidth / 2, y: PAD.top + plotHeight / 2, 'text-anchor': 'middle' },
        svg,
      );
      text.textContent = 'no data in this range';
    }

    series.forEach((line, seriesIndex) => {
      const color = PALETTE[seriesIndex % PALETTE.length];
      // A null value (no request in that bucket, for latency) breaks the line.
      let points = [];
      const flush = () => {
        if (points.length > 1)
          el('polyline', { class: 'series', stroke: color, points: points.join(' '), 'data-series': line.name }, svg);
        points = [];
      };
      line.values.forEach((value, index) => {
        if (value === null) {
          flush();
          return;
        }
        points.push(`${x(index).toFixed(1)},${y(value).toFixed(1)}`);
        if (value > 0 || buckets.length <= 60) {
          const dot = el(
            'circle',
            { cx: x(index).toFixed(1), cy: y(value).toFixed(1), r: value > 0 ? 2.5 : 1.2, fill: color },
            svg,
          );
          const title = el('title', {}, dot);
          title.textContent = `${line.name} · ${timeLabel(buckets[index], spanMs)} · ${format(value)}`;
        }
      });
      flush();
    });

    container.appendChild(legendFor(series));
    return svg;
  }

  window.GPCharts = { lineChart };
})();
