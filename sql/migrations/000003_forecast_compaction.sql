-- Forecast compaction. price_forecasts stores a row every time an interval's forecast changes, which for a
-- 5-minute, 3-channel site is ~73k rows (~24 MB) a day. Once an interval has ended more than
-- FORECAST_COMPACT_AFTER_DAYS ago, the collector keeps only the vintages a forecast-accuracy study needs
-- (the one in force at each of a fixed set of lead times before the interval's start, the first and the
-- last) and deletes the rest; see src/db/forecasts.ts.
--
-- Compaction walks each site's archive forward by interval end, one bounded slice per cycle, and records
-- here how far it got, so no cycle rescans what is already compacted. The marker advances in the same
-- transaction as the slice's deletions: an interrupted slice is redone whole, and redoing a compacted
-- slice deletes nothing (compaction keeps exactly what it would keep again).
CREATE TABLE forecast_compaction (
  site_id           text PRIMARY KEY REFERENCES sites (id),
  compacted_through timestamptz NOT NULL,       -- every interval of the site with nem_time <= this is compacted
  updated_at        timestamptz NOT NULL DEFAULT now()
);
