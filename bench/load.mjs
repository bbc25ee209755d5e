// Load/soak: `npm run load` (1,000 concurrent streams for 60 s), or
//   node bench/load.mjs [--seconds 60] [--streams 1000] [--chunks 20] [--pacing-ms 250] [--json]
//
// Three processes besides this one, all on 127.0.0.1:
//   upstream  a lean OpenAI-compatible server (this file, --role upstream): every streamed request gets `--chunks`
//             content chunks, one every `--pacing-ms`, then a finish chunk with usage and [DONE];
//   proxy     the real proxy, `node dist/src/cli.js --config <tmp>/config.json`;
//   loadgen   the load generator (this file, --role loadgen): `--streams` undici connections, each running
//             streamGenerateContent?alt=sse requests back to back for `--seconds`, checking every answer (200, every
//             chunk's text in order, finishReason STOP, usage) and counting anything else as an error.
// While it runs, this process samples the proxy's RSS (/proc/<pid>/status) and scrapes its /metrics (event-loop lag)
// every 2 s. At the end it prints the figures: streams completed, errors, chunks, RSS start/peak/end and its slope
// after warm-up, the V8 heap's floor (lowest heap used per 10 s: what survives collections) and its slope, event-loop
// lag; it exits 1 on any error, a dead proxy, or a heap floor growing beyond noise (10 % of its mean, or 16 MB).
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    seconds: { type: 'string', default: '60' },
    streams: { type: 'string', default: '1000' },
    chunks: { type: 'string', default: '20' },
    'pacing-ms': { type: 'string', default: '250' },
    port: { type: 'string' },
    target: { type: 'string' },
    json: { type: 'boolean', default: false },
    'warmup-seconds': { type: 'string' },
  },
});

const seconds = Number(values.seconds);
const streams = Number(values.streams);
const chunks = Number(values.chunks);
const pacingMs = Number(values['pacing-ms']);
for (const [name, value] of Object.entries({ seconds, streams, chunks, pacingMs })) {
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`load.mjs: --${name} must be a positive number\n`);
    process.exit(2);
  }
}

const WORD = (index) => `w${index} `;

// ---------------------------------------------------------------------------------------------------------------
// upstream role

function runUpstream() {
  const created = 1_750_000_000;
  const frame = (delta, finish) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-load', object: 'chat.completion.chunk', created, model: 'load-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const frames = Array.from({ length: chunks }, (_, index) =>
    frame(index === 0 ? { role: 'assistant', content: WORD(index) } : { content: WORD(index) }, null),
  );
  const tail = `${frame({}, 'stop')}data: ${JSON.stringify({ id: 'chatcmpl-load', object: 'chat.completion.chunk', created, model: 'load-model', choices: [], usage: { prompt_tokens: 12, completion_tokens: chunks, total_tokens: 12 + chunks } })}\n\ndata: [DONE]\n\n`;
  const unary = JSON.stringify({
    id: 'chatcmpl-load',
    object: 'chat.completion',
    created,
    model: 'load-model',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 1, total_tokens: 13 },
  });
  /** Open streams, advanced together by one ticker (cheaper than a timer per stream). */
  const active = new Set();
  const server = createServer((request, response) => {
    const parts = [];
    request.on('data', (data) => parts.push(data));
    request.on('end', () => {
      let body = {};
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        body = {};
      }
      if (body.stream !== true) {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(unary) });
        response.end(unary);
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const stream = { response, next: 0 };
      active.add(stream);
      response.on('close', () => active.delete(stream));
    });
  });
  setInterval(() => {
    for (const stream of active) {
      if (stream.next < chunks) stream.response.write(frames[stream.next++]);
      else {
        active.delete(stream);
        stream.response.end(tail);
      }
    }
  }, pacingMs);
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.maxConnections = 100_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------------------------
// loadgen role

async function runLoadgen() {
  const { Agent, request } = await import('undici');
  const target = values.target;
  const agent = new Agent({
    connections: streams,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  const body = JSON.stringify({
    contents: [{ role: 'user', parts: [{ text: 'Stream me twenty words, please.' }] }],
    generationConfig: { temperature: 0.2 },
  });
  const expectedText = Array.from({ length: chunks }, (_, index) => WORD(index)).join('');
  const stats = { started: 0, completed: 0, errors: 0, chunks: 0, errorSamples: [], firstChunkMs: [] };
  const deadline = Date.now() + seconds * 1000;
  const fail = (message) => {
    stats.errors += 1;
    if (stats.errorSamples.length < 10) stats.errorSamples.push(message.slice(0, 300));
  };

  async function one() {
    stats.started += 1;
    const started = performance.now();
    try {
      const response = await request(`${target}/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        dispatcher: agent,
      });
      if (response.statusCode !== 200) {
        fail(`HTTP ${response.statusCode}: ${await response.body.text()}`);
        return;
      }
      let buffered = '';
      let text = '';
      let finish;
      let usage;
      let first = true;
      for await (const data of response.body) {
        buffered += data.toString('utf8');
        let end = buffered.indexOf('\r\n\r\n');
        while (end >= 0) {
          const event = buffered.slice(0, end).replace(/^(\r\n)+/, '');
          buffered = buffered.slice(end + 4);
          end = buffered.indexOf('\r\n\r\n');
          if (event === '') continue;
          if (!event.startsWith('data: ')) throw new Error(`not an SSE event: ${event.slice(0, 100)}`);
          const parsed = JSON.parse(event.slice(6));
          if (parsed.error !== undefined) throw new Error(`error event: ${event.slice(0, 200)}`);
          if (first) {
            stats.firstChunkMs.push(performance.now() - started);
            first = false;
          }
          stats.chunks += 1;
          for (const part of parsed.candidates?.[0]?.content?.parts ?? [])
            if (part.thought !== true && typeof part.text === 'string') text += part.text;
          finish = parsed.candidates?.[0]?.finishReason ?? finish;
          usage = parsed.usageMetadata ?? usage;
        }
      }
      if (buffered.trim() !== '') throw new Error(`trailing bytes: ${buffered.slice(0, 200)}`);
      if (text !== expectedText)
        throw new Error(
          `text ${JSON.stringify(text.slice(0, 80))}… ≠ expected (${text.length}/${expectedText.length} chars)`,
        );
      if (finish !== 'STOP') throw new Error(`finishReason ${finish}`);
      if (usage?.candidatesTokenCount !== chunks) throw new Error(`usage ${JSON.stringify(usage)}`);
      stats.completed += 1;
    } catch (error) {
      fail(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
  }

  async function slot(index) {
    // Ramp up over the first second so the proxy is not handed 1,000 connects in one tick.
    await new Promise((resolve) => setTimeout(resolve, (index / streams) * 1000));
    while (Date.now() < deadline) await one();
  }

  const reporter = setInterval(
    () =>
      process.send?.({
        progress: { started: stats.started, completed: stats.completed, errors: stats.errors, chunks: stats.chunks },
      }),
    2000,
  );
  await Promise.all(Array.from({ length: streams }, (_, index) => slot(index)));
  clearInterval(reporter);
  await agent.close();
  const sorted = stats.firstChunkMs.sort((a, b) => a - b);
  const pick = (q) =>
    sorted.length === 0 ? null : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
  process.send?.({
    done: {
      started: stats.started,
      completed: stats.completed,
      errors: stats.errors,
      chunks: stats.chunks,
      errorSamples: stats.errorSamples,
      firstChunkP50Ms: pick(0.5),
      firstChunkP99Ms: pick(0.99),
    },
  });
  process.disconnect?.();
}

// ---------------------------------------------------------------------------------------------------------------
// main role

function rssBytes(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Least-squares slope of (t, y). */
function slope(points) {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function scrapeLag(url) {
  try {
    const response = await fetch(`${url}/metrics`);
    const text = await response.text();
    const read = (name) => {
      const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
      return match ? Number(match[1]) * 1000 : undefined;
    };
    const bytes = (name) => {
      const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
      return match ? Number(match[1]) : undefined;
    };
    return {
      p50: read('nodejs_eventloop_lag_p50_seconds'),
      p99: read('nodejs_eventloop_lag_p99_seconds'),
      max: read('nodejs_eventloop_lag_max_seconds'),
      heapUsed: bytes('nodejs_heap_size_used_bytes'),
      external: bytes('nodejs_external_memory_bytes'),
    };
  } catch {
    return undefined;
  }
}

async function main() {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = join(here, '..');
  const cli = join(root, 'dist', 'src', 'cli.js');
  const self = fileURLToPath(import.meta.url);
  const common = [
    '--seconds',
    String(seconds),
    '--streams',
    String(streams),
    '--chunks',
    String(chunks),
    '--pacing-ms',
    String(pacingMs),
  ];
  const log = (line) => {
    if (!values.json) process.stdout.write(`${line}\n`);
  };
  const directory = mkdtempSync(join(tmpdir(), 'gemini-proxy-load-'));
  const children = [];
  const cleanup = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  try {
    // 1. upstream
    const upstream = fork(self, ['--role', 'upstream', ...common], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(upstream);
    const upstreamPort = await new Promise((resolve, reject) => {
      upstream.once('message', (message) => resolve(message.port));
      upstream.once('exit', (code) => reject(new Error(`upstream exited with ${code}`)));
    });

    // 2. proxy
    const logDirectory = join(directory, 'logs');
    const configPath = join(directory, 'config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        server: { host: '127.0.0.1', port: 0, log_level: 'info' },
        openai_base_url: `http://127.0.0.1:${upstreamPort}/v1`,
        default_openai_model: 'load-model',
        logging: { enable_detailed_logs: false, enable_access_logs: true, log_directory: logDirectory },
      }),
    );
    const proxy = spawn(process.execPath, [cli, '--config', configPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(proxy);
    const proxyUrl = await new Promise((resolve, reject) => {
      let buffered = '';
      const onData = (data) => {
        buffered += data.toString('utf8');
        const match = /listening on (http:\/\/[^\s)"]+)/.exec(buffered);
        if (match) {
          proxy.stdout.off('data', onData);
          // Keep draining its stdout (the access log) so the pipe never fills.
          proxy.stdout.resume();
          resolve(match[1]);
        }
      };
      proxy.stdout.on('data', onData);
      proxy.once('exit', (code) =>
        reject(new Error(`the proxy exited with ${code} before listening: ${buffered.slice(-2000)}`)),
      );
      setTimeout(() => reject(new Error('the proxy did not start within 20 s')), 20_000).unref();
    });
    let proxyExit;
    proxy.on('exit', (code, signal) => (proxyExit = { code, signal }));
    log(
      `load: ${streams} concurrent streams for ${seconds} s (${chunks} chunks per stream, one every ${pacingMs} ms) through ${proxyUrl} (pid ${proxy.pid})`,
    );

    // 3. samplers, then the load generator
    const started = Date.now();
    const samples = [];
    const lags = [];
    await scrapeLag(proxyUrl); // resets the lag histogram
    const sample = async () => {
      const rss = rssBytes(proxy.pid);
      if (rss !== undefined) samples.push([(Date.now() - started) / 1000, rss]);
      const lag = await scrapeLag(proxyUrl);
      if (lag !== undefined) lags.push({ t: (Date.now() - started) / 1000, ...lag });
    };
    await sample();
    const sampler = setInterval(() => void sample(), 2000);
    const loadgen = fork(self, ['--role', 'loadgen', '--target', proxyUrl, ...common], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(loadgen);
    const result = await new Promise((resolve, reject) => {
      loadgen.on('message', (message) => {
        if (message.progress) {
          const { started: begun, completed, errors, chunks: received } = message.progress;
          const rss = samples.at(-1)?.[1];
          log(
            `  t=${((Date.now() - started) / 1000).toFixed(0)}s started ${begun} completed ${completed} errors ${errors} chunks ${received} proxy RSS ${rss === undefined ? '?' : (rss / 1048576).toFixed(1)} MB`,
          );
        }
        if (message.done) resolve(message.done);
      });
      loadgen.once('exit', (code) => reject(new Error(`the load generator exited with ${code} before reporting`)));
    });
    clearInterval(sampler);
    await sample();
    const elapsed = (Date.now() - started) / 1000;

    // 4. figures
    const warmup =
      values['warmup-seconds'] !== undefined ? Number(values['warmup-seconds']) : Math.min(15, seconds / 4);
    const steady = samples.filter(([t]) => t >= warmup && t <= seconds);
    const mb = (bytes) => Math.round((bytes / 1048576) * 10) / 10;
    const rssStart = samples[0]?.[1];
    const rssWarm = steady[0]?.[1];
    const rssPeak = Math.max(...samples.map(([, rss]) => rss));
    const rssEnd = samples.at(-1)?.[1];
    const slopeBytesPerSecond = slope(steady);
    const steadyMean = steady.length === 0 ? 0 : steady.reduce((sum, [, rss]) => sum + rss, 0) / steady.length;
    const steadySpan = steady.length < 2 ? 0 : steady.at(-1)[0] - steady[0][0];
    const fittedGrowth = slopeBytesPerSecond * steadySpan;
    // Within noise: the fitted growth over the steady window stays under 10 % of the steady mean, or 16 MB.
    const withinNoise = (growth, mean) => growth <= Math.max(0.1 * mean, 16 * 1048576);
    const rssFlat = steady.length >= 3 ? withinNoise(fittedGrowth, steadyMean) : null;
    const lagSteady = lags.filter((entry) => entry.t >= warmup);
    // The V8 heap after warm-up: its floor per 10 s window (what survives collections) shows a leak better than RSS,
    // which also holds garbage not yet collected and memory V8 keeps after a collection.
    const heapFloors = [];
    for (let from = warmup; from < seconds; from += 10) {
      const window = lagSteady.filter(
        (entry) => entry.t >= from && entry.t < from + 10 && entry.heapUsed !== undefined,
      );
      if (window.length > 0) heapFloors.push([from + 5, Math.min(...window.map((entry) => entry.heapUsed))]);
    }
    const heapFloorSlope = slope(heapFloors);
    const heapFloorMean =
      heapFloors.length === 0 ? 0 : heapFloors.reduce((sum, [, bytes]) => sum + bytes, 0) / heapFloors.length;
    const heapFloorSpan = heapFloors.length < 2 ? 0 : heapFloors.at(-1)[0] - heapFloors[0][0];
    // The verdict on leaks: memory that survives collections must not grow with the work done.
    const heapFlat = heapFloors.length >= 3 ? withinNoise(heapFloorSlope * heapFloorSpan, heapFloorMean) : null;
    const lagMax = Math.max(0, ...lagSteady.map((entry) => entry.max ?? 0));
    const lagP99 =
      lagSteady.length === 0 ? null : Math.round(Math.max(...lagSteady.map((entry) => entry.p99 ?? 0)) * 10) / 10;
    const lagP50 =
      lagSteady.length === 0
        ? null
        : Math.round((lagSteady.reduce((sum, entry) => sum + (entry.p50 ?? 0), 0) / lagSteady.length) * 10) / 10;
    const figures = {
      command: `node bench/load.mjs --seconds ${seconds} --streams ${streams} --chunks ${chunks} --pacing-ms ${pacingMs}`,
      streams,
      seconds,
      elapsedSeconds: Math.round(elapsed * 10) / 10,
      streamsStarted: result.started,
      streamsCompleted: result.completed,
      errors: result.errors,
      errorSamples: result.errorSamples,
      chunksReceived: result.chunks,
      chunksPerSecond: Math.round(result.chunks / elapsed),
      streamsPerSecond: Math.round((result.completed / elapsed) * 10) / 10,
      firstChunkP50Ms: result.firstChunkP50Ms,
      firstChunkP99Ms: result.firstChunkP99Ms,
      proxyRssMB: {
        start: rssStart === undefined ? null : mb(rssStart),
        afterWarmup: rssWarm === undefined ? null : mb(rssWarm),
        peak: mb(rssPeak),
        end: rssEnd === undefined ? null : mb(rssEnd),
      },
      proxyRssSlopeMBPerMinute: Math.round((slopeBytesPerSecond * 60 * 10) / 1048576) / 10,
      warmupSeconds: warmup,
      rssSamples: samples.length,
      rssFlat,
      eventLoopLagMs: { meanP50: lagP50, maxP99: lagP99, max: Math.round(lagMax * 10) / 10 },
      heapUsedFloorMB: heapFloors.map(([t, bytes]) => [t, mb(bytes)]),
      heapUsedFloorSlopeMBPerMinute: Math.round((heapFloorSlope * 60 * 10) / 1048576) / 10,
      heapFlat,
      proxyAlive: proxyExit === undefined,
    };
    if (values.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
    else {
      log('');
      log(
        `streams: ${figures.streamsCompleted} completed of ${figures.streamsStarted} started, ${figures.errors} errors, ${figures.streamsPerSecond} streams/s, ${figures.chunksReceived} chunks (${figures.chunksPerSecond}/s)`,
      );
      log(`time to first chunk: p50 ${figures.firstChunkP50Ms} ms, p99 ${figures.firstChunkP99Ms} ms`);
      log(
        `proxy RSS: start ${figures.proxyRssMB.start} MB, after ${warmup} s warm-up ${figures.proxyRssMB.afterWarmup} MB, peak ${figures.proxyRssMB.peak} MB, end ${figures.proxyRssMB.end} MB; linear fit after warm-up ${figures.proxyRssSlopeMBPerMinute} MB/min over ${steady.length} samples → ${rssFlat === null ? 'too short to judge' : rssFlat ? 'flat' : 'rising beyond noise over this window (RSS includes garbage not yet collected: compare with the heap floor, or run longer)'}`,
      );
      log(
        `event-loop lag (from /metrics, after warm-up): mean p50 ${figures.eventLoopLagMs.meanP50} ms, worst p99 ${figures.eventLoopLagMs.maxP99} ms, max ${figures.eventLoopLagMs.max} ms`,
      );
      log(
        `V8 heap used, lowest per 10 s after warm-up (MB): ${figures.heapUsedFloorMB.map(([t, value]) => `t=${t}s ${value}`).join(', ')}; slope ${figures.heapUsedFloorSlopeMBPerMinute} MB/min → ${heapFlat === null ? 'too short to judge' : heapFlat ? 'flat' : 'GROWING'}`,
      );
      for (const sample of figures.errorSamples) log(`  error: ${sample}`);
    }
    proxy.kill('SIGTERM');
    upstream.kill('SIGTERM');
    const ok = figures.errors === 0 && figures.streamsCompleted > 0 && figures.proxyAlive && heapFlat !== false;
    cleanup();
    process.exit(ok ? 0 : 1);
  } catch (error) {
    cleanup();
    process.stderr.write(`load.mjs: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

if (values.role === 'upstream') runUpstream();
else if (values.role === 'loadgen') await runLoadgen();
else await main();
