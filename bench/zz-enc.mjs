import { buildCliRequest } from './requests.mjs';
const s = JSON.stringify(buildCliRequest());
const te = new TextEncoder();
let scratch = new Uint8Array(256 * 1024);
const time = (label, n, f) => {
  for (let i = 0; i < 500; i++) f();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  console.log(label.padEnd(44), (Number(process.hrtime.bigint() - t) / n / 1000).toFixed(1), 'µs');
};
for (let rep = 0; rep < 2; rep++) {
  time('Buffer.from(s)', 5000, () => Buffer.from(s));
  time('encodeInto scratch + copy', 5000, () => {
    const r = te.encodeInto(s, scratch);
    return Buffer.from(scratch.subarray(0, r.written));
  });
  time('byteLength + allocUnsafe + write', 5000, () => {
    const b = Buffer.allocUnsafe(Buffer.byteLength(s));
    b.write(s);
    return b;
  });
  time('byteLength + allocUnsafeSlow + latin/utf8Write', 5000, () => {
    const b = Buffer.allocUnsafeSlow(Buffer.byteLength(s));
    b.utf8Write(s);
    return b;
  });
  const buf = Buffer.from(s);
  time('buf.toString()', 5000, () => buf.toString());
  time('buf.utf8Slice()', 5000, () => buf.utf8Slice(0, buf.length));
  const td = new TextDecoder();
  time('TextDecoder.decode', 5000, () => td.decode(buf));
  const parts = [buf.subarray(0, 16384), buf.subarray(16384, 32768), buf.subarray(32768)];
  const { StringDecoder } = await import('node:string_decoder');
  time('StringDecoder over 3 chunks + concat', 5000, () => {
    const d = new StringDecoder('utf8');
    let t = '';
    for (const p of parts) t += d.write(p);
    t += d.end();
    return t.length;
  });
  time('Buffer.concat 3 chunks + toString', 5000, () => Buffer.concat(parts).toString().length);
  time('JSON.stringify(JSON.parse(s))', 3000, () => JSON.stringify(JSON.parse(s)));
}
