/**
 * Perfect foresight stays within the README's measured bound of the exact optimum (HiGHS's mixed-integer
 * solve of the same model) on every kind of battery and site the bound was measured on: tiny to huge, 70–100%
 * round trip, negative feed-in prices (every window has them), 30-minute sites, an export limit, charge and
 * discharge powers apart. The
 * seven-day bound comes from `npm run bench -- battery-accuracy`; here one-day windows of the same seeded site
 * (two days at 30 minutes) keep the file shorter, and their bound is the README's one-day figure: relative gaps
 * grow as windows shorten. The negative-import-price case is left to the bench: its exact solve takes minutes.
 */
import { expect, it } from 'vitest';
import { ACCURACY_CASES, caseSeries, gapOf } from '../bench/battery-accuracy.ts';

/** The README's claim for one-day windows: within this share of the exact optimum's cost, %. */
const README_BOUND_PERCENT = 0.35;
/** And within this share of what the exact optimum saves against no battery, %. */
const README_SAVINGS_BOUND_PERCENT = 0.3;

it.each(ACCURACY_CASES.filter((c) => c.priceShift === undefined).map((c) => [c.name, c] as const))('%s: never below the exact optimum, within the README bound', (_name, c) => {
  const gap = gapOf(caseSeries({ ...c, days: c.minutes === 5 ? 1 : 2 }), c.params);
  expect(gap.ofOptimum).toBeGreaterThanOrEqual(-1e-6);
  expect(gap.ofOptimum).toBeLessThanOrEqual(README_BOUND_PERCENT);
  expect(gap.ofSavings).toBeLessThanOrEqual(README_SAVINGS_BOUND_PERCENT);
});
