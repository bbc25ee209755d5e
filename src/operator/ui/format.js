// Formatting and table helpers shared by the dashboard's scripts (window.GPFormat). Values are set as text, never HTML.
'use strict';

(function () {
  const integer = new Intl.NumberFormat();
  function ms(value) {
    if (value === undefined || value === null) return '–';
    if (value < 1000) return `${Math.round(value)} ms`;
    return `${(value / 1000).toFixed(value < 10000 ? 2 : 1)} s`;
  }
  function compact(value) {
    if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
    if (value >= 1e4) return `${Math.round(value / 1e3)}k`;
    if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
    return String(Math.round(value * 100) / 100);
  }
  function clock(iso) {
    const date = new Date(iso);
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }
  function cell(row, text, className) {
    const td = document.createElement('td');
    if (className) td.className = className;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function fact(list, label, value) {
    const wrap = document.createElement('div');
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = value === undefined || value === null || value === '' ? '–' : String(value);
    dd.title = dd.textContent;
    wrap.append(dt, dd);
    list.appendChild(wrap);
  }

  window.GPFormat = { integer, ms, compact, clock, cell, fact };
})();
