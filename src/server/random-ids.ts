/**
 * Request and response ids from a pooled CSPRNG buffer. `crypto.randomBytes(n)` per id costs a native call and, in
 * OpenSSL's fork-safety check, a getpid() syscall each time (two per request, ~7 µs each on the 2-vCPU bench VM);
 * filling 4 KB at once and slicing ids from it gives the same bytes from the same generator at a fraction of that.
 * The ids are correlation handles, not secrets.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

function take(bytes: number): Buffer {
  if (bytes > POOL_BYTES) throw new RangeError(`random id of ${bytes} bytes exceeds the pool`);
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += bytes;
  return pool.subarray(start, offset);
}

/** `bytes` random bytes as lowercase hex (what `randomBytes(bytes).toString('hex')` gives). */
export function randomHex(bytes: number): string {
  return take(bytes).toString('hex');
}

/** `bytes` random bytes as unpadded base64url (what `randomBytes(bytes).toString('base64url')` gives). */
export function randomBase64url(bytes: number): string {
  return take(bytes).toString('base64url');
}
