-- The expected-intervals rule in one place. Until now `recount_coverage` counted a day's expected
-- intervals inline while the status read model computed the same rule again in TypeScript for days never
-- fetched; both now call these functions, so the two cannot drift apart.

-- The channels coverage is kept for: the site's channel types for prices, its meter channels for usage.
CREATE FUNCTION coverage_channels(p_channels jsonb, p_data_type text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(array_agg(DISTINCT CASE p_data_type WHEN 'price' THEN c ->> 'type' ELSE c ->> 'identifier' END), '{}')
  FROM jsonb_array_elements(p_channels) AS c
$$;

-- Intervals in a NEM day at `p_duration` minutes: 288 at 5, 48 at 30 (NEM time has no daylight saving).
CREATE FUNCTION intervals_per_day(p_duration integer) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 1440 / p_duration $$;

-- Intervals expected on a day of p_site_id's p_data_type that was never fetched: every coverage channel
-- at the site's interval length. (A fetched day's expectation follows the durations stored that day; see
-- recount_coverage.) Null for an unknown site.
CREATE FUNCTION expected_intervals_per_day(p_site_id text, p_data_type text) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT cardinality(coverage_channels(s.channels, p_data_type)) * intervals_per_day(s.interval_length)
  FROM sites s WHERE s.id = p_site_id
$$;

-- Unchanged but for counting through the functions above (see 000002_data_fidelity.sql for what it does).
CREATE OR REPLACE FUNCTION recount_coverage(p_site_id text, p_data_type text, p_from date, p_to date)
RETURNS TABLE (nem_date date, expected integer, stored integer, previously_stored integer)
-- plpgsql, not sql: a sql function called in FROM runs lazily, where the INSERT's foreign-key triggers cannot fire.
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH site AS (
    SELECT s.interval_length, coverage_channels(s.channels, p_data_type) AS channels
    FROM sites s WHERE s.id = p_site_id
  ), bounds AS (
    -- Intervals are keyed by their END: day D runs from D 00:00+10:00 (exclusive) to D+1 00:00+10:00.
    SELECT (p_from::timestamp - interval '10 hours') AT TIME ZONE 'UTC' AS after,
           ((p_to + 1)::timestamp - interval '10 hours') AT TIME ZONE 'UTC' AS through
  ), stored_rows AS (
    SELECT p.channel_type AS channel, p.nem_date, p.duration
    FROM price_data p, site, bounds
    WHERE p_data_type = 'price' AND p.site_id = p_site_id AND p.channel_type = ANY (site.channels)
      AND p.nem_time > bounds.after AND p.nem_time <= bounds.through AND p.nem_date BETWEEN p_from AND p_to
    UNION ALL
    SELECT u.channel_id, u.nem_date, u.duration
    FROM usage_data u, site, bounds
    WHERE p_data_type = 'usage' AND u.site_id = p_site_id AND u.channel_id = ANY (site.channels)
      AND u.nem_time > bounds.after AND u.nem_time <= bounds.through AND u.nem_date BETWEEN p_from AND p_to
  ), grouped AS (
    SELECT r.nem_date, r.channel, r.duration, count(*)::int AS n FROM stored_rows r GROUP BY 1, 2, 3
  ), day_duration AS (
    SELECT DISTINCT ON (g.nem_date) g.nem_date, g.duration
    FROM grouped g, site
    GROUP BY g.nem_date, g.duration, site.interval_length
    ORDER BY g.nem_date, (g.duration = site.interval_length) DESC, sum(g.n) DESC, g.duration
  ), counted AS (
    SELECT p_from + d.offset_days AS nem_date, c.channel, coalesce(dd.duration, site.interval_length) AS duration,
           intervals_per_day(coalesce(dd.duration, site.interval_length)) AS expected, coalesce(g.n, 0) AS stored
    FROM site
    CROSS JOIN generate_series(0, p_to - p_from) AS d (offset_days)
    CROSS JOIN unnest(site.channels) AS c (channel)
    LEFT JOIN day_duration dd ON dd.nem_date = p_from + d.offset_days
    LEFT JOIN grouped g ON g.nem_date = p_from + d.offset_days AND g.channel = c.channel AND g.duration = coalesce(dd.duration, site.interval_length)
  ), previous AS (
    SELECT k.nem_date, sum(k.stored)::int AS stored
    FROM coverage k
    WHERE k.site_id = p_site_id AND k.data_type = p_data_type AND k.nem_date BETWEEN p_from AND p_to
    GROUP BY k.nem_date
  ), written AS (
    INSERT INTO coverage AS t (site_id, data_type, nem_date, channel, duration, expected, stored)
    SELECT p_site_id, p_data_type, c.nem_date, c.channel, c.duration, c.expected, c.stored FROM counted c
    ON CONFLICT (site_id, data_type, nem_date, channel) DO UPDATE
      SET duration = excluded.duration, expected = excluded.expected, stored = excluded.stored, updated_at = now()
      WHERE (t.duration, t.expected, t.stored) IS DISTINCT FROM (excluded.duration, excluded.expected, excluded.stored)
  )
  SELECT c.nem_date, sum(c.expected)::int, sum(c.stored)::int, p.stored
  FROM counted c LEFT JOIN previous p ON p.nem_date = c.nem_date
  GROUP BY c.nem_date, p.stored
  ORDER BY c.nem_date;
END
$$;
