/**
 * Token counts of AI-written text, for the `ai_tokens` metric. An ESTIMATE: HighLevel does not report how many
 * tokens its model used, so Meterbridge counts the tokens of the message text itself with OpenAI's `o200k_base`
 * encoding (the byte-pair encoding of GPT-4o, GPT-4.1 and the o-series), through the gpt-tokenizer package
 * (https://github.com/niieani/gpt-tokenizer, MIT), whose encodings ship inside the package: nothing is downloaded
 * at run time. Prompt, conversation history and knowledge-base text the model also read are not in the webhook
 * and are not counted (see the README, "AI usage").
 */
import type { countTokens as CountTokens } from 'gpt-tokenizer/encoding/o200k_base';

/** The encoding `countAiTokens` uses; stored with every `ai_tokens` usage record. */
export const AI_TOKEN_ENCODING = 'o200k_base';

/**
 * Runs of more than this many non-space characters are counted in slices of this length. Byte-pair encoding is
 * quadratic in the length of one "word" (100,000 letters without a space take ~14 s); slicing keeps it linear
 * (the same text: ~0.1 s). A run that long is a URL, a hash or garbage; slicing it may shift its count by a token.
 */
const LONGEST_RUN = 64;
const LONG_RUN = new RegExp(`\\S{${LONGEST_RUN + 1},}`, 'gu');

/** Special tokens such as `<|endoftext|>` in a message are plain text, never control tokens (and never an error). */
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

let encoder: typeof CountTokens | undefined;

/** Loaded on first use: the encoding's ranks take ~0.3 s to load, which only deployments that meter AI pay. */
function count(text: string): number {
  encoder ??= (require('gpt-tokenizer/encoding/o200k_base') as { countTokens: typeof CountTokens }).countTokens;
  return text.length === 0 ? 0 : encoder(text, AS_PLAIN_TEXT);
}

/**
 * Estimated tokens of `text` in `o200k_base` (see the module comment). Deterministic; 0 for empty text.
 * Example: "hello world" → 2.
 */
export function countAiTokens(text: string): number {
  let total = 0;
  let last = 0;
  for (const run of text.matchAll(LONG_RUN)) {
    total += count(text.slice(last, run.index));
    for (let i = 0; i < run[0].length; i += LONGEST_RUN) total += count(run[0].slice(i, i + LONGEST_RUN));
    last = run.index + run[0].length;
  }
  return total + count(text.slice(last));
}
