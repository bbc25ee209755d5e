/**
 * The local BPE tokenizer (cl100k_base from gpt-tokenizer), loaded on first use: it costs ~40 MB and ~0.2 s, and
 * Gemini CLI calls countTokens only for requests with media, so most processes never load it.
 */
export type CountTokens = (text: string) => number;

let loading: Promise<CountTokens> | undefined;

export function loadTokenizer(): Promise<CountTokens> {
  loading ??= import('gpt-tokenizer/encoding/cl100k_base').then((module) => (text: string) => module.countTokens(text));
  return loading;
}
