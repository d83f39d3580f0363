-- Data fidelity: a coverage ledger that says, for every site, data type, channel and NEM day, how many
-- intervals are stored against how many there should be; the bookkeeping of gap repair; on-demand
-- backfill requests; the history of revised price and usage values; and an archive of price forecasts.

-- ---------------------------------------------------------------------------------------------------
-- Coverage. One row per (site, data type, channel, NEM day) the collector has fetched. Channels are the
-- site's channel types for prices and its meter channel identifiers for usage. It is recounted from the
-- data itself (recount_coverage below) in the same transaction as every chunk's upsert, so it cannot
-- disagree with price_data and usage_data. A day never fetched has no row.
CREATE TABLE coverage (
  site_id    text NOT NULL REFERENCES sites (id),
  data_type  text NOT NULL CHECK (data_type IN ('price', 'usage')),
  nem_date   date NOT NULL,
  channel    text NOT NULL,
  duration   integer NOT NULL,                  -- interval length (minutes) the expectation is based on
  expected   integer NOT NULL,                  -- 1440 / duration: 288 or 48 (NEM time has no DST)
  stored     integer NOT NULL,                  -- rows of that duration stored for the day
  updated_at timestamptz NOT NULL DEFAULT now(), -- when the counts last changed
  PRIMARY KEY (site_id, data_type, nem_date, channel)
);

-- Gap repair bookkeeping, per (site, data type, day): a day stays here while re-fetching it brings
-- nothing new, so a day Amber really has no data for is re-checked with a growing back-off instead of
-- costing API calls every cycle. A day that becomes complete is removed.
CREATE TABLE coverage_checks (
  site_id          text NOT NULL REFERENCES sites (id),
  data_type        text NOT NULL CHECK (data_type IN ('price', 'usage')),
  nem_date         date NOT NULL,
  fruitless_checks integer NOT NULL,            -- re-fetches in a row that added no interval (0 after progress)
  last_checked_at  timestamptz NOT NULL,
  next_check_at    timestamptz NOT NULL,
  PRIMARY KEY (site_id, data_type, nem_date)
);

-- Recounts the coverage rows of p_site_id's p_data_type for NEM days p_from..p_to from the stored data,
-- and returns, per day, the expected and stored totals over all channels, with the stored total the
-- ledger held before (null for a day never counted).
--
-- Expected intervals follow the durations actually stored that day (a site billed at 30 minutes in the
-- past and at 5 minutes now has 48 per day on its old days): the site's own interval length when rows of
-- that length exist, else the most common stored length, else (no rows at all) the site's interval
-- length. Channels are the site's current ones; filtering the data by them also lets every count use
-- the primary key (site, channel, nem_time, ...) instead of reading the site's whole history.
CREATE FUNCTION recount_coverage(p_site_id text, p_data_type text, p_from date, p_to date)
RETURNS TABLE (nem_date date, expected integer, stored integer, previously_stored integer)
-- plpgsql, not sql: a sql function called in FROM runs lazily, where the INSERT's foreign-key triggers cannot fire.
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH site AS (
    SELECT s.interval_length,
           array(SELECT DISTINCT CASE p_data_type WHEN 'price' THEN c ->> 'type' ELSE c ->> 'identifier' END
                 FROM jsonb_array_elements(s.channels) AS c) AS channels
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
           1440 / coalesce(dd.duration, site.interval_length) AS expected, coalesce(g.n, 0) AS stored
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

-- Every day the watermarks already claim gets its coverage counted now, so an existing database starts
-- with a complete ledger (newer days are counted by the next cycle that fetches them).
SELECT count(*) AS days_counted
FROM collection_state cs, recount_coverage(cs.site_id, cs.data_type, cs.backfill_from, cs.collected_through)
WHERE cs.collected_through IS NOT NULL;

-- ---------------------------------------------------------------------------------------------------
-- On-demand backfill requests (`amber-collector backfill`). Whoever holds the single-writer lock runs
-- them: the daemon (woken by NOTIFY amber_backfill_requests), or the command itself when no daemon runs.
-- `calls` is the plan, fixed when the request is made, so `--dry-run` shows exactly what a run does and
-- an interrupted request resumes at calls[calls_done].
CREATE TABLE backfill_requests (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  site_id      text NOT NULL REFERENCES sites (id),
  from_date    date NOT NULL,
  to_date      date NOT NULL,
  data_types   text[] NOT NULL,
  calls        jsonb NOT NULL,                  -- [{dataType, startDate, endDate}], in order
  calls_done   integer NOT NULL DEFAULT 0,
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed', 'cancelled')),
  requested_by text NOT NULL,                   -- host:pid of the command
  executor     text,                            -- host:pid of the process that ran it
  error        text,
  requested_at timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz,
  CHECK (from_date <= to_date)
);

-- ---------------------------------------------------------------------------------------------------
-- Revisions. The upserts rewrite a row only when a re-fetch brings different values, adding one to
-- revision_count; these triggers keep the values each such rewrite replaced, so an estimated usage
-- figure later replaced by the billable one stays visible. Revision n holds the values the row had
-- while its revision_count was n (0 = as first seen), valid from valid_from until replaced_at.
CREATE TABLE usage_revisions (
  site_id      text NOT NULL,
  channel_id   text NOT NULL,
  nem_time     timestamptz NOT NULL,
  duration     integer NOT NULL,
  revision     integer NOT NULL,
  nem_date     date NOT NULL,
  kwh          numeric NOT NULL,
  cost         numeric NOT NULL,
  quality      text NOT NULL,
  per_kwh      numeric NOT NULL,
  spot_per_kwh numeric NOT NULL,
  valid_from   timestamptz NOT NULL,
  replaced_at  timestamptz NOT NULL,
  PRIMARY KEY (site_id, channel_id, nem_time, duration, revision)
);

CREATE FUNCTION keep_usage_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO usage_revisions (site_id, channel_id, nem_time, duration, revision, nem_date, kwh, cost, quality,
                               per_kwh, spot_per_kwh, valid_from, replaced_at)
  VALUES (OLD.site_id, OLD.channel_id, OLD.nem_time, OLD.duration, OLD.revision_count, OLD.nem_date, OLD.kwh, OLD.cost,
          OLD.quality, OLD.per_kwh, OLD.spot_per_kwh, OLD.updated_at, NEW.updated_at)
  -- A revision_count edited by hand must never make the collector's upsert fail.
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER usage_data_keep_revision AFTER UPDATE ON usage_data
  FOR EACH ROW WHEN (NEW.revision_count > OLD.revision_count) EXECUTE FUNCTION keep_usage_revision();

-- Actual prices are rarely revised (AEMO repricing), but when one is, the old value is kept the same way.
CREATE TABLE price_revisions (
  site_id       text NOT NULL,
  channel_type  text NOT NULL,
  nem_time      timestamptz NOT NULL,
  duration      integer NOT NULL,
  revision      integer NOT NULL,
  nem_date      date NOT NULL,
  per_kwh       numeric NOT NULL,
  spot_per_kwh  numeric NOT NULL,
  renewables    numeric NOT NULL,
  spike_status  text NOT NULL,
  descriptor    text,
  interval_type text NOT NULL,
  valid_from    timestamptz NOT NULL,
  replaced_at   timestamptz NOT NULL,
  PRIMARY KEY (site_id, channel_type, nem_time, duration, revision)
);

CREATE FUNCTION keep_price_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO price_revisions (site_id, channel_type, nem_time, duration, revision, nem_date, per_kwh, spot_per_kwh,
                               renewables, spike_status, descriptor, interval_type, valid_from, replaced_at)
  VALUES (OLD.site_id, OLD.channel_type, OLD.nem_time, OLD.duration, OLD.revision_count, OLD.nem_date, OLD.per_kwh,
          OLD.spot_per_kwh, OLD.renewables, OLD.spike_status, OLD.descriptor, OLD.interval_type, OLD.updated_at,
          NEW.updated_at)
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER price_data_keep_revision AFTER UPDATE ON price_data
  FOR EACH ROW WHEN (NEW.revision_count > OLD.revision_count) EXECUTE FUNCTION keep_price_revision();

-- ---------------------------------------------------------------------------------------------------
-- Forecast archive: every CurrentInterval and ForecastInterval `/prices/current` returned, as snapshots
-- by fetch time. A snapshot identical to the latest stored one of its interval is not stored, so each row
-- is a change: the forecast kept its values from fetched_at until the interval's next row. No `raw`:
-- at a few hundred rows per site and cycle it would dominate the database's size.
CREATE TABLE price_forecasts (
  site_id            text NOT NULL REFERENCES sites (id),
  channel_type       text NOT NULL,
  nem_time           timestamptz NOT NULL,      -- the END of the interval
  duration           integer NOT NULL,
  fetched_at         timestamptz NOT NULL,
  nem_date           date NOT NULL,
  interval_type      text NOT NULL,             -- CurrentInterval | ForecastInterval
  estimate           boolean,                   -- CurrentInterval only
  per_kwh            numeric NOT NULL,
  spot_per_kwh       numeric NOT NULL,
  renewables         numeric NOT NULL,
  spike_status       text NOT NULL,
  descriptor         text,
  range_min          numeric,
  range_max          numeric,
  advanced_low       numeric,
  advanced_predicted numeric,
  advanced_high      numeric,
  PRIMARY KEY (site_id, channel_type, nem_time, duration, fetched_at)
);

-- FORECAST_RETENTION_DAYS prunes by interval end every cycle; BRIN stays tiny on this append-mostly table.
CREATE INDEX price_forecasts_nem_time ON price_forecasts USING brin (nem_time);

-- How forecasts converge: each forecast snapshot beside the actual price of its interval, once known.
-- A 30-minute forecast of a 5-minute site is compared with the mean of the six actual 5-minute prices.
CREATE VIEW price_forecast_accuracy AS
SELECT f.site_id, f.channel_type, f.nem_time, f.duration, f.nem_date, f.fetched_at,
       f.nem_time - f.fetched_at AS lead_time,
       f.interval_type, f.per_kwh AS forecast_per_kwh, f.advanced_low, f.advanced_predicted, f.advanced_high,
       a.per_kwh AS actual_per_kwh, f.per_kwh - a.per_kwh AS error_per_kwh
FROM price_forecasts f
JOIN sites s ON s.id = f.site_id
JOIN LATERAL (
  SELECT avg(p.per_kwh) AS per_kwh, sum(p.duration) AS minutes
  FROM price_data p
  WHERE p.site_id = f.site_id AND p.channel_type = f.channel_type
    AND p.duration = least(f.duration, s.interval_length)
    AND p.nem_time > f.nem_time - make_interval(mins => f.duration) AND p.nem_time <= f.nem_time
) a ON a.minutes = f.duration;
