import { describe, expect, test } from 'vitest';
import { mayHoldUnstorableText, storableJson } from '../../src/amber/storable-text.ts';

describe('storableJson', () => {
  test('replaces NUL and lone surrogates with U+FFFD in values and keys, at any depth, keeping surrogate pairs', () => {
    const value = JSON.parse('[{"a\\u0000":"x\\u0000y","n":1,"deep":{"list":["\\ud800","ok","\\udc00z","\\ud83d\\ude00"]}}]') as unknown;
    const result = storableJson(value);
    expect(result.value).toEqual([{ 'a\uFFFD': 'x\uFFFDy', n: 1, deep: { list: ['\uFFFD', 'ok', '\uFFFDz', '\u{1F600}'] } }]);
    expect(result.replaced).toBe(4);
    expect(result.firstReplaced).toBe('a\uFFFD');
  });

  test('returns a clean value as it is, the same objects', () => {
    const value = [{ a: 'b', c: [1, null, true, { d: 'é😀' }] }];
    const result = storableJson(value);
    expect(result.value).toBe(value);
    expect(result).toMatchObject({ replaced: 0, firstReplaced: null });
  });

  test('mayHoldUnstorableText finds the escapes that can produce them, and passes ordinary text', () => {
    expect(mayHoldUnstorableText('{"a":"\\u0000"}')).toBe(true);
    expect(mayHoldUnstorableText('{"a":"\\uD800"}')).toBe(true);
    expect(mayHoldUnstorableText('{"a":"\\udfff"}')).toBe(true);
    expect(mayHoldUnstorableText('{"a":"\\u00e9 \\u20ac x"}')).toBe(false);
    expect(mayHoldUnstorableText('[{"descriptor":"low"}]')).toBe(false);
  });
});
