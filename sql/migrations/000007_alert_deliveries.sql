-- Alert deliveries: one row per announcement (a phase of an alert_events row) and webhook target, written
-- in the same transaction that records the phase as announced. So an announcement is never lost between
-- that record and its delivery: one held for quiet hours, retrying, or cut short by a stop is delivered by
-- the next start, or ends as dropped with its reason. The unique key keeps it to one delivery per phase
-- and target. A new table only: a database holding events and data upgrades without a rewrite, and the
-- events announced before it keep their phases as sent.
CREATE TABLE alert_deliveries (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id        bigint NOT NULL REFERENCES alert_events (id),
  phase           text NOT NULL,                -- forecast | started | ended | opened | resolved
  target          text NOT NULL,                -- SHA-256 of the webhook URL, hex: never the URL, a secret
  alert           jsonb NOT NULL,               -- the announcement, as every format renders it
  state           text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'delivered', 'dropped', 'superseded')),
  drop_reason     text,                         -- dropped: hourly_cap | gave_up | target_removed
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,         -- pending: not tried again before this
  dispatched_at   timestamptz,                  -- past the quiet hours and the hourly cap (null: not yet)
  created_at      timestamptz NOT NULL,
  finished_at     timestamptz,
  UNIQUE (event_id, phase, target)
);

-- Every start reads what is still pending; finished rows are history.
CREATE INDEX alert_deliveries_pending ON alert_deliveries (id) WHERE state = 'pending';
