-- Forecast accuracy rolled up by NEM day, so a year's report sums a few hundred thousand small rows instead of
-- joining ~1.6M archived forecasts with their settled prices (src/db/accuracy-rollup.ts). The collector fills
-- these after each cycle, one bounded slice of whole days at a time, once a day's archive is final: compacted
-- (FORECAST_COMPACT_AFTER_DAYS), or a week old when compaction is off. A report over a range adds the rolled-up
-- days to a direct computation of the rest, and the answer is the same as computing it all directly.
--
-- One row per site, NEM day and hour of the interval's start, channel and lead bucket: sums and counts, from
-- which the report derives mean absolute error, bias and coverage.
CREATE TABLE forecast_accuracy_daily (
  site_id         text NOT NULL REFERENCES sites (id),
  day             date NOT NULL,       -- NEM day of the interval's start
  channel_type    text NOT NULL,
  hour            smallint NOT NULL,   -- NEM hour of the interval's start, 0-23
  bucket          smallint NOT NULL,   -- lead-time bucket, the index into LEAD_BUCKETS (src/db/accuracy-rollup.ts)
  forecasts       integer NOT NULL,
  per_kwh_count   integer NOT NULL,
  per_kwh_abs     double precision,    -- sum of |forecast - settled|, c/kWh
  per_kwh_sum     double precision,    -- sum of (forecast - settled)
  predicted_count integer NOT NULL,
  predicted_abs   double precision,
  predicted_sum   double precision,
  range_count     integer NOT NULL,
  range_inside    integer NOT NULL,
  hits            integer NOT NULL,
  misses          integer NOT NULL,
  false_alarms    integer NOT NULL,
  PRIMARY KEY (site_id, day, channel_type, hour, bucket)
);

-- Each settled spike of a rolled-up day, and how far ahead (minutes) it was first warned of; null when no
-- forecast warned. A median cannot be summed, so the report keeps the spikes themselves (they are rare).
CREATE TABLE forecast_accuracy_spikes (
  site_id       text NOT NULL REFERENCES sites (id),
  channel_type  text NOT NULL,
  nem_time      timestamptz NOT NULL,  -- the END of the spiked interval
  day           date NOT NULL,         -- its NEM day
  first_warning double precision,
  PRIMARY KEY (site_id, channel_type, nem_time)
);

-- How far each site's roll-up reached: every NEM day up to and including rolled_through is in the tables above.
CREATE TABLE forecast_accuracy_rollup (
  site_id        text PRIMARY KEY REFERENCES sites (id),
  rolled_through date NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
