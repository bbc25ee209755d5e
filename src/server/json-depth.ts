/**
 * A nesting limit for request bodies. JSON.parse accepts any depth, but everything after it recurses (JSON.stringify
 * overflows its stack at about 10,000 levels, the schema translators earlier): a deeply nested body made the proxy
 * answer 500, and with detailed logs on crashed it when the request's trace was serialised. Google's own API stops
 * at a nesting depth of about 100; this limit is far above anything a real client sends. Pure.
 */

/** Deepest accepted nesting of arrays and objects in a request body. */
export const MAX_JSON_DEPTH = 512;

/** True when `value` nests arrays/objects deeper than `limit` levels. Iterative, stops at the first excess. */
export function exceedsDepth(value: unknown, limit: number = MAX_JSON_DEPTH): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: Array<{ node: object; depth: number }> = [{ node: value, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: object; depth: number };
    if (depth > limit) return true;
    const children: unknown[] = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) if (typeof child === 'object' && child !== null) stack.push({ node: child, depth: depth + 1 });
  }
  return false;
}
