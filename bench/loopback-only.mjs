// Preloaded into the reference gateway (`node --import`): its CLI listens on every interface and has no host flag,
// so a listen() without a host is pinned to 127.0.0.1. The benchmark never opens a port beyond loopback.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first] = args;
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof args[1] !== 'string') args.splice(1, args[1] === undefined ? 1 : 0, '127.0.0.1');
  } else if (
    first !== null &&
    typeof first === 'object' &&
    first.path === undefined &&
    first.fd === undefined &&
    first.host === undefined
  ) {
    args[0] = { ...first, host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
