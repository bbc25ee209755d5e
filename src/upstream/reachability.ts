/**
 * A first-run check: does anything listen at the upstream's address? Only a TCP connect (no request, no key sent), so
 * that the embedded default with Ollama not started says so in one line at start instead of on the first prompt.
 */
import { connect } from 'node:net';

export type Reachability = 'listening' | 'refused' | 'unknown';

export function probeListening(baseUrl: string, timeoutMs = 1000): Promise<Reachability> {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return Promise.resolve('unknown');
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: Reachability): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done('unknown'));
    socket.once('connect', () => done('listening'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' ? 'refused' : 'unknown'));
  });
}
