/**
 * The form of an error message a Gemini CLI user reads ([R-ERR-8]): one sentence on one line, no JSON, no stack, no
 * `upstream NAME STATUS type:` prefix, no secret. Quoted text (an upstream's own words in "…", a command in `…`) is
 * someone else's and may hold full stops of its own.
 */
import assert from 'node:assert/strict';

export function assertOneSentence(message: string, label = message, secrets: string[] = []): void {
  assert.doesNotMatch(message, /[\r\n]/, `${label}: one line`);
  assert.ok(message.length <= 400, `${label}: at most 400 characters, got ${message.length}`);
  assert.doesNotMatch(message, /[{[]\s*"/, `${label}: no JSON inside the message`);
  assert.doesNotMatch(message, /\bat \S+ \(\S+:\d+:\d+\)|\bat \S+:\d+:\d+/, `${label}: no stack frames`);
  assert.doesNotMatch(message, /^upstream \S+ \d{3}/i, `${label}: no "upstream NAME STATUS" prefix`);
  assert.match(message, /^[A-Z]/, `${label}: starts as a sentence`);
  const unquoted = message.replace(/"[^"]*"/g, '"…"').replace(/`[^`]*`/g, '`…`');
  const ends = unquoted.match(/[.?!](?=\s|$)/g) ?? [];
  assert.equal(ends.length, 1, `${label}: exactly one sentence, found ${ends.length} sentence ends in: ${unquoted}`);
  assert.match(unquoted, /[.?!]$/, `${label}: ends with its full stop`);
  for (const secret of secrets) assert.ok(!message.includes(secret), `${label}: a secret in the message`);
}
