// Request phases of a CPU profile (`node --cpu-prof`) of gemini-proxy or of the floor, shared by
// bench/profile-summary.mjs and bench/breakdown.mjs. A sample belongs to the phase of the innermost frame on its stack
// that matches a rule below, so a syscall counts in the phase that made it.
/** Request phases, by the innermost frame on the stack that matches (first match in this order wins per frame). */
export const PHASES = [
  ['access log line (format, pino, stdout write)', (f) => /server\/access-line|\/pino\/|sonic-boom/.test(f.url)],
  [
    'operator: request tracker, request event (record, metrics, live list, usage store)',
    (f) => /request-record|operator\/(index|metrics|live|usage-store|prom-text)|prom-client|libsql/.test(f.url),
  ],
  ['request lifecycle (id, close handler)', (f) => /request-lifecycle/.test(f.url)],
  ['body: JSON parse and checks', (f) => /json-body|request-edges/.test(f.url)],
  ['normalise the Gemini request', (f) => /translate\/normalize/.test(f.url)],
  [
    'translate to Chat Completions',
    (f) => /translate\/(request\/|gemini-request-to-openai|schema|tool-names)/.test(f.url),
  ],
  ['prepare target, serialise upstream body', (f) => /target-request|server\/generate/.test(f.url)],
  [
    'translate the answer back',
    (f) =>
      /openai-stream-to-gemini|think-tags|finish-reason|translate\/usage|multi-candidate|logprobs|grounding/.test(
        f.url,
      ),
  ],
  ['write the response (channel, node:http)', (f) => /response-channel|_http_outgoing/.test(f.url)],
  ['upstream call (undici) and gateway', (f) => /upstream\/client|gateway\/|undici/.test(f.url)],
  ['routing, auth, dispatch', (f) => /gemini-routes|gemini-path|client-keys/.test(f.url)],
  ['Fastify', (f) => /fastify|find-my-way|avvio|light-my-request/.test(f.url)],
  ['node:http server (parse, headers)', (f) => /_http_server|_http_common|_http_incoming/.test(f.url)],
  ["the floor's own code", (f) => /bench\/floor\.mjs/.test(f.url)],
];

/** Socket writes: the kernel's share of a `writev` (loopback TCP, waking the reader), made as often by the floor. */
const SOCKET_WRITE = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString']);
const OTHER = 'other (startup, timers, native)';

/**
 * Busy samples per phase, only those taken between `from` and `to` (µs on the monotonic clock, as
 * `process.hrtime.bigint() / 1000n`; both optional). With `separateWrites`, socket writes are a phase of their own
 * instead of counting in the phase that made them.
 */
export function phaseSamples(profile, { from = -Infinity, to = Infinity, separateWrites = false } = {}) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const cache = new Map();
  const phaseOf = (id) => {
    let found = cache.get(id);
    if (found !== undefined) return found;
    const own = nodes.get(id).callFrame;
    found = OTHER;
    if (own.functionName === '(garbage collector)') found = 'garbage collector';
    else if (separateWrites && own.url === '' && SOCKET_WRITE.has(own.functionName)) found = 'socket writes (kernel)';
    else {
      for (let current = id; current !== undefined; current = parent.get(current)) {
        const hit = PHASES.find(([, test]) => test(nodes.get(current).callFrame));
        if (hit !== undefined) {
          found = hit[0];
          break;
        }
      }
    }
    cache.set(id, found);
    return found;
  };
  const counts = new Map();
  let busy = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    at += profile.timeDeltas[index] ?? 0;
    if (at < from || at > to) return;
    if (nodes.get(id).callFrame.functionName === '(idle)') return;
    busy += 1;
    const key = phaseOf(id);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  return { counts, busy };
}
