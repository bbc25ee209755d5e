/**
 * The `default:` branch of every switch over a union: it compiles only when every member was handled, so adding a
 * member (a route kind, an error class, a provider capability) fails the build where it is not handled yet.
 */
export function unreachable(value: never, what: string): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}
