/** `<think>` tags in content split into reasoning and text, whatever the delta boundaries (src/translate/think-tags.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ThinkTagSplitter } from '../../src/translate/think-tags.js';

describe('think-tag splitter', () => {
  function run(deltas: string[]): {
    reasoning: string;
    text: string;
    steps: Array<{ reasoning: string; text: string }>;
  } {
    const splitter = new ThinkTagSplitter();
    const steps = deltas.map((delta) => splitter.push(delta));
    steps.push(splitter.flush());
    return {
      reasoning: steps.map((step) => step.reasoning).join(''),
      text: steps.map((step) => step.text).join(''),
      steps,
    };
  }
  it('separates tagged reasoning even when tags are split across deltas', () => {
    const whole = '<think>plan it</think>The answer.';
    for (let cut = 1; cut < whole.length; cut += 1) {
      const result = run([whole.slice(0, cut), whole.slice(cut)]);
      assert.equal(result.reasoning, 'plan it', `cut ${cut}`);
      assert.equal(result.text, 'The answer.', `cut ${cut}`);
    }
    assert.deepEqual(run(['◁think▷k2◁/think▷done']).reasoning, 'k2');
  });
  it('drops the blank lines after the closing tag, also when they come in deltas of their own', () => {
    const result = run(['<think>\nplan it\n</think>', '\n', '\nThe answer.\n', '\nMore.']);
    assert.equal(result.reasoning, '\nplan it\n');
    assert.equal(result.text, 'The answer.\n\nMore.');
  });
  it('does not hold back ordinary text', () => {
    const result = run(['Hello', ' world', ' a < b']);
    assert.deepEqual(
      result.steps.slice(0, 2).map((step) => step.text),
      ['Hello', ' world'],
    );
    assert.equal(result.text, 'Hello world a < b');
  });
});
