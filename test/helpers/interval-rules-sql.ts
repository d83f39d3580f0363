/**
 * The consistency rules (src/domain/interval-rules.ts) written again, independently, as SQL: the oracle
 * tests hold stored rows and rejections to. Each rule is a predicate over the columns (duration, nem_time,
 * end_time, start_time, nem_date, renewables, requested_from, requested_to), in the code's order.
 */
export const RULES_SQL: ReadonlyArray<[name: string, kept: string]> = [
  ['duration-is-5-15-or-30', 'duration IN (5, 15, 30)'],
  ['nem-time-is-end-time', 'nem_time = end_time'],
  ['start-time-is-end-minus-duration', `start_time = end_time - make_interval(mins => duration) + interval '1 second'`],
  ['date-is-nem-day-of-interval', `nem_date = ((end_time - interval '1 second') AT TIME ZONE 'UTC' + interval '10 hours')::date`],
  ['renewables-is-a-percentage', 'renewables BETWEEN 0 AND 100'],
  ['date-in-requested-range', 'nem_date BETWEEN requested_from AND requested_to'],
];

/** `kept` per rule, in order, as one boolean[] expression (null counts as broken). */
export const KEPT_ARRAY = `ARRAY[${RULES_SQL.map(([, kept]) => `coalesce(${kept}, false)`).join(', ')}]`;

/** Rows of `table` (price_data or usage_data) that break a rule, with `requested` as the range asked for. */
export function brokenRowsSql(table: 'price_data' | 'usage_data', requested: { from: string; to: string }): string {
  return `SELECT * FROM (
      SELECT site_id, nem_time, ${KEPT_ARRAY} AS kept FROM (
        SELECT site_id, duration, nem_time, end_time, start_time, nem_date, renewables,
               '${requested.from}'::date AS requested_from, '${requested.to}'::date AS requested_to
        FROM ${table}) r) k
    WHERE false = ANY (kept)`;
}
