/**
 * The fake's `randomElements` mode: a fraction of the price and usage elements of a response are replaced
 * by random elements the spec allows (spec-arbitrary.ts). Which elements, and what replaces them, depends
 * only on the seed and the interval, so a re-fetch serves the same bytes, like the real API.
 */
import fc from 'fast-check';
import { Stream, hashString, unit } from './hash.ts';
import { specElement } from './spec-arbitrary.ts';

type Row = Record<string, unknown>;

const PRICE_SCHEMAS = ['ActualInterval', 'CurrentInterval', 'ForecastInterval'] as const;

/** Whether the element of `row`'s interval (and channel) is replaced at this `fraction`. */
export function isReplacedByRandom(row: object, fraction: number, seed: number): boolean {
  return unit(seed, Stream.randomElement, hashString(identity(row))) < fraction;
}

export function withRandomElements(rows: readonly Row[], fraction: number, seed: number): Row[] {
  return rows.map((row) => {
    if (typeof row['endTime'] !== 'string' || !isReplacedByRandom(row, fraction, seed)) return row;
    const schema = row['type'] === 'Usage' ? 'Usage' : PRICE_SCHEMAS[hashString(identity(row)) % PRICE_SCHEMAS.length]!;
    const [element] = fc.sample(specElement(schema), { numRuns: 1, seed: (seed * 31 + hashString(identity(row))) | 0 });
    return element!;
  });
}

function identity(element: object): string {
  const row = element as Row;
  return `${String(row['type'])}|${String(row['channelIdentifier'] ?? row['channelType'])}|${String(row['endTime'])}|${String(row['duration'])}`;
}
