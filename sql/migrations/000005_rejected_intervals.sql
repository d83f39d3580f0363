-- Elements of Amber responses the collector refused to store: wrong types for their columns, a broken
-- consistency rule (nemTime not endTime, a date outside the days asked for, ...; src/amber/interval-rules.ts)
-- or, should a check ever miss something, a row the database refused. Kept so nothing is lost silently: a
-- user can see what was refused and why (`amber-collector query rejected`), and an API regression shows
-- up as rows here, not as wrong history.
--
-- The same element refused on every cycle is one row: the key is the element's content (md5 of its jsonb
-- text, which is normalised), and each sighting bumps times_seen and last_seen_at. Rows not seen for 90
-- days are pruned with the forecast compaction.
CREATE TABLE rejected_intervals (
  site_id        text NOT NULL,
  data_type      text NOT NULL CHECK (data_type IN ('price', 'usage', 'forecast')), -- forecast: /prices/current
  raw_hash       text NOT NULL,                 -- md5(raw::text)
  requested_from date NOT NULL,                 -- the NEM days asked for (for forecasts, the days the call could cover)
  requested_to   date NOT NULL,
  rule           text NOT NULL,                 -- the rule broken, `schema` (wrong types) or `database`
  problems       text NOT NULL,                 -- what exactly is wrong, with the field paths and values
  raw            jsonb NOT NULL,                -- the element as sent (NUL and lone surrogates replaced by U+FFFD)
  first_seen_at  timestamptz NOT NULL DEFAULT now(),
  last_seen_at   timestamptz NOT NULL DEFAULT now(),
  times_seen     integer NOT NULL DEFAULT 1,
  PRIMARY KEY (site_id, data_type, raw_hash)
);

CREATE INDEX rejected_intervals_last_seen ON rejected_intervals (last_seen_at);
