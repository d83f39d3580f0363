-- Alerts. One row per event the collector announces: a run of price intervals beyond a threshold (or
-- flagged by Amber as a spike) for a site and channel, or a kind of collector trouble. `phases_sent` is
-- what was already announced (forecast, started, ended; opened, resolved), so an event is announced at
-- most once per phase, across cycles and restarts. An event is open until `closed_at` is set.
CREATE TABLE alert_events (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  site_id       text REFERENCES sites (id),     -- null for trouble of the whole collector (a rejected API key)
  kind          text NOT NULL,                  -- price_above | price_below | feed_in_above | spike |
                                                -- stale | stream_failing | api_key_rejected | gaps_unrepaired
  subject       text NOT NULL DEFAULT '',       -- the channel type of a price event, the data type of a stream
  starts_at     timestamptz,                    -- price events: start of the run's first interval beyond the threshold
  ends_at       timestamptz,                    -- price events: end of the run's last interval, as last forecast
  forecast_peak numeric,                        -- price events: the most extreme price forecast before the start
  phases_sent   text[] NOT NULL DEFAULT '{}',
  detail        jsonb NOT NULL DEFAULT '{}',    -- what the announcements need beyond the columns above
  opened_at     timestamptz NOT NULL,
  closed_at     timestamptz
);

-- Every evaluation reads the open events; closed ones are history.
CREATE INDEX alert_events_open ON alert_events (site_id, kind) WHERE closed_at IS NULL;

-- Collector trouble is one open event per site, kind and subject at a time.
CREATE UNIQUE INDEX alert_events_open_trouble ON alert_events (coalesce(site_id, ''), kind, subject)
  WHERE closed_at IS NULL AND kind IN ('stale', 'stream_failing', 'api_key_rejected', 'gaps_unrepaired');
