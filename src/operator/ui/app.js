// The gemini-proxy dashboard: polls the proxy's /ui/api endpoints (relative to this page, so a base path works) with
// the key kept in sessionStorage and sent as x-goog-api-key. Every value from the server is set as text, never HTML.
'use strict';

(function () {
  const KEY_STORAGE = 'gemini-proxy.dashboard-key';
  const STAGES = [
    ['1_GEMINI_REQUEST', '1 · Gemini request (from the client)'],
    ['2_OPENAI_REQUEST', '2 · OpenAI request (to the upstream)'],
    ['3_OPENAI_RESPONSE', '3 · OpenAI response (from the upstream)'],
    ['4_GEMINI_RESPONSE', '4 · Gemini response (to the client)'],
  ];
  const MAX_ROWS = 500;
  const REQUESTS_EVERY_MS = 2000;
  const HEALTH_EVERY_MS = 5000;
  const USAGE_EVERY_MS = 10000;

  const $ = (selector) => document.querySelector(selector);
  const state = { after: 0, rows: new Map(), selected: null, authFailed: false, usage: null, timers: [] };

  // A key passed as ?key= is moved into sessionStorage and taken out of the address bar.
  const params = new URLSearchParams(location.search);
  if (params.has('key')) {
    sessionStorage.setItem(KEY_STORAGE, params.get('key') || '');
    params.delete('key');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path) {
    const headers = { accept: 'application/json' };
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (key) headers['x-goog-api-key'] = key;
    const response = await fetch(path, { headers, cache: 'no-store' });
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const message =
        body && body.error && body.error.message ? body.error.message : `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, message);
    }
    return body;
  }

  function showAuthProblem(error) {
    const banner = $('#auth-message');
    if (error.status === 400 || error.status === 401 || error.status === 403) {
      state.authFailed = true;
      banner.textContent =
        error.status === 403
          ? error.message
          : 'This dashboard needs a key: enter admin_api_key (or one of client_api_keys when no admin key is set) above.';
      banner.hidden = false;
      return true;
    }
    return false;
  }

  function clearAuthProblem() {
    state.authFailed = false;
    $('#auth-message').hidden = true;
  }

  const { integer, ms, clock, cell, fact } = window.GPFormat;

  function statusText(entry) {
    if (entry.clientClosed && entry.status === 499) return '499 closed';
    if (entry.errorStatus) return `${entry.status} ${entry.errorStatus}`;
    return String(entry.status);
  }
  function statusClass(entry) {
    if (entry.error) return 'status bad';
    if (entry.clientClosed) return 'status closed';
    return 'status ok';
  }

  // The live request list.
  function renderRow(entry) {
    const row = document.createElement('tr');
    row.dataset.requestId = entry.requestId;
    row.dataset.seq = String(entry.seq);
    if (state.selected === entry.requestId) row.classList.add('selected');
    cell(row, clock(entry.time));
    cell(row, statusText(entry), statusClass(entry));
    const model = cell(row, '', 'model');
    const gemini = document.createElement('span');
    gemini.textContent = entry.model || '–';
    const arrow = document.createElement('span');
    arrow.className = 'arrow';
    arrow.textContent = '→';
    const upstream = document.createElement('span');
    upstream.textContent = entry.upstreamModel || '–';
    model.append(gemini, arrow, upstream);
    model.title = `${entry.model || ''} → ${entry.upstreamModel || ''} (${entry.provider})`;
    const stream = cell(row, '');
    if (entry.stream) {
      const tag = document.createElement('span');
      tag.className = 'tag';
      tag.textContent = 'stream';
      stream.appendChild(tag);
    } else stream.textContent = 'unary';
    cell(row, ms(entry.durationMs), 'num');
    cell(row, ms(entry.firstChunkMs), 'num');
    cell(
      row,
      `${integer.format(entry.promptTokens)} / ${integer.format(entry.outputTokens)} / ${integer.format(entry.thoughtsTokens)}`,
      'num',
    );
    cell(row, entry.requestId).appendChild(document.createTextNode(entry.hasTrace ? ' ●' : ''));
    row.addEventListener('click', () => openDetail(entry.requestId));
    return row;
  }

  async function pollRequests() {
    const body = await api(`api/requests?after=${state.after}`);
    if (body.last < state.after) {
      // The proxy restarted: start over.
      state.after = 0;
      state.rows.clear();
      $('#requests tbody').textContent = '';
      return pollRequests();
    }
    const tbody = $('#requests tbody');
    for (const entry of body.requests) {
      const row = renderRow(entry);
      const old = state.rows.get(entry.requestId);
      if (old) old.remove();
      tbody.insertBefore(row, tbody.firstChild);
      state.rows.set(entry.requestId, row);
      state.after = Math.max(state.after, entry.seq);
    }
    state.after = Math.max(state.after, body.last);
    while (tbody.rows.length > MAX_ROWS) {
      const last = tbody.rows[tbody.rows.length - 1];
      state.rows.delete(last.dataset.requestId);
      last.remove();
    }
    $('#requests-empty').hidden = tbody.rows.length > 0;
    $('#requests-note').textContent = body.detailedLogs
      ? '● = the four stages are available; click a row'
      : 'click a row for details; stages need logging.enable_detailed_logs';
  }

  // One request's details and its four stages side by side.
  function stageText(value) {
    if (value === undefined) return '(not recorded)';
    let shown = value;
    // The upstream's raw answer is kept as the strings it sent: JSON bodies are shown parsed, SSE text as it came.
    if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')) {
      const parsed = value.map((item) => {
        try {
          return JSON.parse(item);
        } catch {
          return undefined;
        }
      });
      if (!parsed.every((item) => item !== undefined)) return value.join('\n');
      shown = parsed.length === 1 ? parsed[0] : parsed;
    }
    const text = typeof shown === 'string' ? shown : JSON.stringify(shown, null, 2);
    return text.length > 300000 ? `${text.slice(0, 300000)}\n… (${text.length - 300000} more characters)` : text;
  }

  async function openDetail(requestId) {
    state.selected = requestId;
    for (const [id, row] of state.rows) row.classList.toggle('selected', id === requestId);
    const panel = $('#detail');
    panel.hidden = false;
    $('#detail-id').textContent = requestId;
    const summary = $('#detail-summary');
    const stages = $('#stages');
    const note = $('#detail-note');
    summary.textContent = '';
    stages.textContent = '';
    note.hidden = true;
    let body;
    try {
      body = await api(`api/requests/${encodeURIComponent(requestId)}`);
    } catch (error) {
      if (!showAuthProblem(error)) {
        note.textContent = error.status === 404 ? 'This request is no longer kept in memory.' : error.message;
        note.hidden = false;
      }
      return;
    }
    const entry = body.request;
    fact(summary, 'Time', new Date(entry.time).toLocaleString());
    fact(summary, 'Status', statusText(entry));
    fact(summary, 'Method', `${entry.method} ${entry.path}`);
    fact(summary, 'Gemini model', entry.model);
    fact(summary, 'Upstream model', entry.upstreamModel);
    fact(summary, 'Provider', entry.provider);
    fact(summary, 'Stream', entry.stream ? 'yes' : 'no');
    fact(summary, 'Latency', ms(entry.durationMs));
    fact(summary, 'First chunk', ms(entry.firstChunkMs));
    fact(
      summary,
      'Tokens in / out / thoughts',
      `${entry.promptTokens} / ${entry.outputTokens} / ${entry.thoughtsTokens}`,
    );
    if (entry.upstreamError) fact(summary, 'Upstream error', entry.upstreamError);
    if (entry.errorMessage) fact(summary, 'Error message', entry.errorMessage);
    if (entry.attempts) fact(summary, 'Upstream attempts', entry.attempts.join(' → '));
    if (entry.webSearch) fact(summary, 'Web search', entry.webSearch);
    if (entry.client) fact(summary, 'Client', entry.client);
    if (entry.clientClosed) fact(summary, 'Client', 'closed the connection early');
    if (!entry.trace) {
      note.textContent = !body.detailedLogs
        ? 'The four stages are recorded only with logging.enable_detailed_logs on.'
        : entry.stored
          ? 'This request was served before the last restart; its stages are in the detailed log files, not in memory.'
          : 'The stages of this request are no longer kept in memory (only the newest ones are); see the detailed log files.';
      note.hidden = false;
      return;
    }
    for (const [key, title] of STAGES) {
      const box = document.createElement('section');
      box.className = 'stage';
      box.dataset.stage = key;
      const heading = document.createElement('h3');
      heading.textContent = title;
      const pre = document.createElement('pre');
      pre.textContent = stageText(entry.trace[key]);
      box.append(heading, pre);
      stages.appendChild(box);
    }
  }

  // Upstream health.
  async function pollHealth(probe) {
    const body = await api(probe ? 'api/health?probe=1' : 'api/health');
    const upstream = body.health.upstream || {};
    const recent = body.recent;
    const list = $('#upstream');
    list.textContent = '';
    fact(list, 'Provider', upstream.provider);
    fact(list, 'Base URL', upstream.base_url);
    fact(list, 'Last success', upstream.lastSuccessAt ? new Date(upstream.lastSuccessAt).toLocaleString() : undefined);
    fact(
      list,
      'Last failure',
      upstream.lastFailureAt
        ? `${new Date(upstream.lastFailureAt).toLocaleString()} · ${upstream.lastFailure || ''}`
        : undefined,
    );
    fact(list, 'Upstream calls / failures', `${upstream.requests ?? 0} / ${upstream.failures ?? 0}`);
    fact(list, 'Last 5 min: requests / errors', `${recent.requests} / ${recent.errors}`);
    if (upstream.probe)
      fact(
        list,
        'Probe',
        upstream.probe.reachable ? `reachable (HTTP ${upstream.probe.status})` : `unreachable: ${upstream.probe.error}`,
      );
    if (body.health.upstreams) {
      for (const [name, info] of Object.entries(body.health.upstreams)) {
        const keys = Array.isArray(info.keys) ? info.keys : [];
        const open = keys.filter((key) => key.state && key.state !== 'closed').length;
        fact(
          list,
          `Upstream ${name}`,
          `${info.provider} · ${info.base_url}${open > 0 ? ` · ${open} key(s) cooling down` : ''}`,
        );
      }
    }
    fact(
      list,
      'Config',
      `${body.proxy.config}${body.proxy.reloads.last ? ` · reloaded ${new Date(body.proxy.reloads.last).toLocaleTimeString()}` : ''}`,
    );
    if (body.proxy.reloads.lastError) fact(list, 'Last rejected reload', body.proxy.reloads.lastError);
    fact(
      list,
      'Uptime',
      `${Math.floor(body.proxy.uptimeSeconds / 3600)} h ${Math.floor((body.proxy.uptimeSeconds % 3600) / 60)} min (pid ${body.proxy.pid})`,
    );

    const badge = $('#health');
    const failedLately = recent.errors > 0 && recent.errors >= recent.requests / 2;
    const probeDown = upstream.probe && !upstream.probe.reachable;
    const lastFailureNewer =
      upstream.lastFailureAt && (!upstream.lastSuccessAt || upstream.lastFailureAt > upstream.lastSuccessAt);
    const level =
      probeDown || (failedLately && lastFailureNewer)
        ? 'down'
        : recent.errors > 0 || lastFailureNewer
          ? 'degraded'
          : upstream.requests > 0
            ? 'ok'
            : 'unknown';
    badge.className = `health ${level}`;
    $('#health-text').textContent =
      level === 'ok'
        ? `${upstream.provider}: healthy`
        : level === 'degraded'
          ? `${upstream.provider}: some errors`
          : level === 'down'
            ? `${upstream.provider}: failing`
            : `${upstream.provider}: no traffic yet`;
  }

  function renderUsage() {
    if (state.usage) window.GPUsage.render(state.usage, $('#percentile').value);
  }

  async function pollUsage() {
    state.usage = await api(`api/usage?range=${encodeURIComponent($('#range').value)}`);
    renderUsage();
  }

  // Polling loop: each poller runs on its own interval; an auth failure pauses all until a key is entered.
  function every(fn, period) {
    const run = async () => {
      if (state.authFailed) return;
      try {
        await fn();
        $('#live').textContent = `live · updated ${new Date().toLocaleTimeString()}`;
      } catch (error) {
        if (!showAuthProblem(error)) $('#live').textContent = `offline: ${error.message}`;
      }
    };
    state.timers.push({ run, id: setInterval(run, period) });
    return run();
  }

  function refreshAll() {
    clearAuthProblem();
    return Promise.all(state.timers.map((timer) => timer.run()));
  }

  $('#login').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('#key').value.trim();
    if (value) sessionStorage.setItem(KEY_STORAGE, value);
    $('#key').value = '';
    refreshAll();
  });
  $('#forget').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORAGE);
    refreshAll();
  });
  $('#detail-close').addEventListener('click', () => {
    $('#detail').hidden = true;
    state.selected = null;
    for (const row of state.rows.values()) row.classList.remove('selected');
  });
  $('#probe').addEventListener('click', () => {
    pollHealth(true).catch((error) => showAuthProblem(error));
  });
  $('#range').addEventListener('change', () => {
    pollUsage().catch((error) => showAuthProblem(error));
  });
  $('#percentile').addEventListener('change', renderUsage);

  every(pollRequests, REQUESTS_EVERY_MS);
  every(() => pollHealth(false), HEALTH_EVERY_MS);
  every(pollUsage, USAGE_EVERY_MS);
})();
