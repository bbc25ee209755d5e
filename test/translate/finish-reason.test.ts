/**
 * Upstream `finish_reason` → Gemini `finishReason` (src/translate/finish-reason.ts), as the table of
 * docs/providers.md §5 and [R-FIN-4] give it: every documented value, the failures that must never read as a clean
 * stop, and unknown values that must not throw.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFailureFinish, mapFinishReason } from '../../src/translate/finish-reason.js';
import type { FinishReason } from '../../src/translate/gemini-types.js';

const FINISHED: Array<[upstream: string, who: string, gemini: FinishReason]> = [
  ['stop', 'everyone', 'STOP'],
  ['tool_calls', 'tool-capable servers', 'STOP'],
  ['function_call', 'the legacy functions API', 'STOP'],
  ['length', 'everyone', 'MAX_TOKENS'],
  ['model_context_window_exceeded', 'GLM 4.7/5, after content was sent', 'MAX_TOKENS'],
  ['content_filter', 'OpenAI, Azure, Kimi', 'SAFETY'],
  ['sensitive', 'Zhipu / Z.ai', 'SAFETY'],
  ['end_turn', 'Anthropic-style gateways', 'STOP'],
  ['eos', 'self-hosted servers', 'STOP'],
  ['max_tokens', 'Anthropic-style gateways', 'MAX_TOKENS'],
];

const FAILURES: Array<[upstream: string, who: string]> = [
  ['abort', 'vLLM engine abort, GLM coding plan, sglang'],
  ['error', 'OpenRouter'],
  ['network_error', 'Zhipu / Z.ai'],
  ['insufficient_system_resource', 'DeepSeek'],
];

describe('finish reasons', () => {
  for (const [upstream, who, gemini] of FINISHED) {
    it(`${upstream} (${who}) → ${gemini}, not a failure`, () => {
      assert.equal(mapFinishReason(upstream), gemini);
      assert.equal(isFailureFinish(upstream), false);
    });
  }

  for (const [upstream, who] of FAILURES) {
    it(`${upstream} (${who}) is a failure and never maps to STOP`, () => {
      assert.equal(isFailureFinish(upstream), true);
      assert.notEqual(mapFinishReason(upstream), 'STOP');
    });
  }

  it('anything else is OTHER and not a failure; case and spelling are not guessed', () => {
    for (const unknown of ['', 'recitation', 'STOP', 'Stop', 'tool_use', 'null', 'length ', '🙂']) {
      assert.equal(mapFinishReason(unknown), 'OTHER', JSON.stringify(unknown));
      assert.equal(isFailureFinish(unknown), false, JSON.stringify(unknown));
    }
  });
});
