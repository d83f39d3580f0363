-- The state of the daemon's connections to other systems (the MQTT broker, later Home Assistant), written by the
-- daemon when it changes, so `amber-collector status` (another process) and /api/status can show it.
CREATE TABLE integration_status (
  integration text PRIMARY KEY,
  state jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
