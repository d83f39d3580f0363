-- The initial schema. Table and column names are a public interface: users' own SQL and dashboards query them.
--
-- Conventions:
--   * instants are timestamptz (stored as UTC); NEM calendar dates (UTC+10, no daylight saving) are date;
--   * prices, costs and energy are unconstrained numeric, so a value such as 31.185000000000002 is stored
--     exactly as the API sent it;
--   * `raw` is the API object exactly as received, so fields the collector does not know yet survive;
--   * `first_seen_at` is when a row was first stored and never changes; `updated_at` and `revision_count`
--     change only when a re-fetch brings a different value (identical re-fetches write nothing).
--
-- Indexes: only the primary keys, which start with site_id. Measured on a year of 5-minute prices for two
-- sites (629k rows): a one-day, all-channel range for one site takes ~45 ms through the primary key and
-- ~12 ms with an extra (site_id, nem_time) index, but that index makes every fresh insert ~40% slower.
-- The collector itself never range-scans these tables, so none is added; a later migration can.

CREATE TABLE sites (
  id              text PRIMARY KEY,
  nmi             text NOT NULL,
  network         text NOT NULL,
  status          text NOT NULL,                -- pending | active | closed, or a newer value as sent
  active_from     date,
  closed_on       date,
  interval_length integer NOT NULL,             -- billing interval in minutes (5 or 30)
  channels        jsonb NOT NULL,               -- [{identifier, type, tariff}]
  raw             jsonb NOT NULL,
  first_seen_at   timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE price_data (
  site_id              text NOT NULL REFERENCES sites (id),
  channel_type         text NOT NULL,           -- general | controlledLoad | feedIn
  nem_time             timestamptz NOT NULL,    -- the END of the interval
  duration             integer NOT NULL,        -- minutes
  start_time           timestamptz NOT NULL,    -- as sent: the interval start plus one second
  end_time             timestamptz NOT NULL,
  nem_date             date NOT NULL,           -- the NEM day the interval belongs to (the API's `date`)
  per_kwh              numeric NOT NULL,        -- c/kWh incl. GST; negative feed-in means the customer is paid
  spot_per_kwh         numeric NOT NULL,
  renewables           numeric NOT NULL,        -- % renewables in the grid
  spike_status         text NOT NULL,
  descriptor           text,
  tariff_period        text,
  tariff_season        text,
  tariff_block         integer,
  tariff_demand_window boolean,
  interval_type        text NOT NULL,           -- ActualInterval | CurrentInterval | ForecastInterval
  estimate             boolean,                 -- CurrentInterval only: true while the price may still change
  raw                  jsonb NOT NULL,
  first_seen_at        timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  revision_count       integer NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, channel_type, nem_time, duration)
);

CREATE TABLE usage_data (
  site_id              text NOT NULL REFERENCES sites (id),
  channel_id           text NOT NULL,           -- the meter register, the API's channelIdentifier (E1, B1, ...)
  channel_type         text NOT NULL,
  nem_time             timestamptz NOT NULL,    -- the END of the interval
  duration             integer NOT NULL,
  start_time           timestamptz NOT NULL,
  end_time             timestamptz NOT NULL,
  nem_date             date NOT NULL,
  kwh                  numeric NOT NULL,
  cost                 numeric NOT NULL,        -- cents incl. GST; negative for feed-in income
  quality              text NOT NULL,           -- estimated | billable
  per_kwh              numeric NOT NULL,
  spot_per_kwh         numeric NOT NULL,
  renewables           numeric NOT NULL,
  spike_status         text NOT NULL,
  descriptor           text,
  tariff_period        text,
  tariff_season        text,
  tariff_block         integer,
  tariff_demand_window boolean,
  raw                  jsonb NOT NULL,
  first_seen_at        timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  revision_count       integer NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, channel_id, nem_time, duration)
);

-- Progress of each stream (site x data type). Invariant: every NEM day from backfill_from through
-- collected_through has been fetched and stored; collected_through is null until the first chunk lands.
CREATE TABLE collection_state (
  site_id              text NOT NULL REFERENCES sites (id),
  data_type            text NOT NULL CHECK (data_type IN ('price', 'usage')),
  backfill_from        date NOT NULL,
  collected_through    date,
  last_success_at      timestamptz,
  last_error           text,
  last_error_at        timestamptz,
  consecutive_failures integer NOT NULL DEFAULT 0,
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site_id, data_type)
);
