/**
 * Text PostgreSQL cannot store. `text` and `jsonb` refuse the NUL character (`\u0000`), and `jsonb` refuses
 * a lone UTF-16 surrogate (`\ud800` without its pair), which JSON.stringify writes as such an escape. One such
 * character in one field of a response would fail the whole statement, so every string of a response
 * (keys too) has these characters replaced by U+FFFD, the Unicode replacement character, before anything is
 * parsed: the element is kept, in its columns and in `raw`, with the poison visible rather than lost.
 */

const REPLACEMENT_CHARACTER = '\uFFFD';

// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
// eslint-disable-next-line no-control-regex -- control characters are what this pattern is for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Whether a JSON text may hold an unstorable character once parsed: both arrive as `\u` escapes (a raw NUL
 * is invalid JSON, and invalid UTF-8 is decoded to U+FFFD already), so a text without `\u0000` or a
 * surrogate escape needs no walk of its parsed value.
 */
export function mayHoldUnstorableText(jsonText: string): boolean {
  return /\\u(?:0000|[dD][89a-fA-F])/.test(jsonText);
}

export interface StorableValue<T> {
  value: T;
  /** Characters replaced, over every string of the value. */
  replaced: number;
  /** The first string that had any replaced, after replacement (for a log line), or null. */
  firstReplaced: string | null;
}

/**
 * `value` (parsed JSON) with every unstorable character replaced. Values without any are returned as they
 * are (the same objects), so a clean response costs one scan of its strings.
 */
export function storableJson<T>(value: T): StorableValue<T> {
  let replaced = 0;
  let firstReplaced: string | null = null;
  const fixString = (text: string): string => {
    let count = 0;
    const fixed = text.replace(UNSTORABLE, () => {
      count += 1;
      return REPLACEMENT_CHARACTER;
    });
    if (count > 0) {
      replaced += count;
      firstReplaced ??= fixed;
    }
    return fixed;
  };
  const visit = (node: unknown): unknown => {
    if (typeof node === 'string') return fixString(node);
    if (Array.isArray(node)) {
      let copy: unknown[] | null = null;
      node.forEach((item, index) => {
        const fixed = visit(item);
        if (fixed !== item) (copy ??= [...node])[index] = fixed;
      });
      return copy ?? node;
    }
    if (node !== null && typeof node === 'object') {
      let changed = false;
      const entries = Object.entries(node).map(([key, item]): [string, unknown] => {
        const fixedKey = fixString(key);
        const fixed = visit(item);
        if (fixedKey !== key || fixed !== item) changed = true;
        return [fixedKey, fixed];
      });
      return changed ? Object.fromEntries(entries) : node;
    }
    return node;
  };
  const result = visit(value) as T;
  return { value: result, replaced, firstReplaced };
}
