/**
 * Deterministic randomness for the fake server. Every "random" number is a pure hash of its coordinates
 * (seed, stream, site, interval, ...), so any interval can be computed on demand in any order, the same seed
 * always gives the same bytes, and no state is kept. Math.random is never used.
 */

/** Mixes 32-bit integers into one well-distributed 32-bit hash (murmur3-style mixing and finaliser). */
function hashInts(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const value of values) {
    // Split each number into two 32-bit words so inputs above 2^32 (epoch milliseconds) still count fully.
    const low = value | 0;
    const high = Math.floor(value / 0x1_0000_0000) | 0;
    h = mixWord(h, low);
    h = mixWord(h, high);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixWord(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let mixed = h ^ k;
  mixed = (mixed << 13) | (mixed >>> 19);
  return (Math.imul(mixed, 5) + 0xe6546b64) | 0;
}

/** A uniform number in [0, 1) for the given coordinates. */
export function unit(...values: number[]): number {
  return hashInts(...values) / 0x1_0000_0000;
}

/**
 * A roughly normal number (mean 0, sd ≈ 1): the Irwin–Hall sum of the four bytes of one hash. Cheap (one
 * hash, no allocation) and bounded (|x| < 3.5), which is all the noise in the fake needs.
 */
export function gaussian(...values: number[]): number {
  const h = hashInts(...values);
  const sum = (h & 0xff) + ((h >>> 8) & 0xff) + ((h >>> 16) & 0xff) + (h >>> 24);
  return (sum / 255 - 2) * Math.sqrt(3);
}

/** FNV-1a of a string, to turn ids and names into hash coordinates. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Named hash streams, so two uses of the same coordinates never share random numbers. */
export const Stream = {
  spikeDay: 1,
  spikeShape: 2,
  solarDay: 3,
  priceNoiseSlow: 4,
  priceNoiseFast: 5,
  windDay: 6,
  numberStyle: 7,
  forecastError: 8,
  forecastBand: 9,
  forecastRange: 10,
  currentLock: 11,
  load: 12,
  loadDay: 13,
  hotWater: 14,
  cloud: 15,
  usageEstimate: 16,
  usageEstimateBlock: 17,
  dropInterval: 18,
  lossFactor: 19,
  inconsistent: 20,
  randomElement: 21,
} as const;

const float64 = new Float64Array(1);
const int64 = new BigInt64Array(float64.buffer);

/** The next representable double after `value` away from zero: `31.185` → `31.185000000000002`. */
function nextFloatAwayFromZero(value: number): number {
  if (value === 0) return value;
  float64[0] = value;
  int64[0] = (int64[0] ?? 0n) + 1n;
  return float64[0] ?? value;
}

/**
 * Rounds a value the way the live API's numbers look (API-NOTES §4: the same field can be an int, a short
 * float or a float with a long binary tail like `31.185000000000002`). Most values get `decimals` places;
 * a deterministic few become integers or grow a long tail.
 */
export function styleNumber(value: number, decimals: number, ...coordinates: number[]): number {
  const roll = unit(Stream.numberStyle, ...coordinates);
  if (roll < 0.02) return Math.round(value) || 0;
  if (roll < 0.05) return nextFloatAwayFromZero(roundTo(value, 3));
  return roundTo(value, decimals);
}

export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  const rounded = Math.round(value * factor) / factor;
  // Avoid emitting -0, which JSON prints as 0 but which compares oddly in tests.
  return rounded === 0 ? 0 : rounded;
}
