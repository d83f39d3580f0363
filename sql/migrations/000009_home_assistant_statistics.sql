-- What was sent to Home Assistant's long-term statistics and read back as written, hour by hour: a sync compares
-- the database's hourly figures with these and sends again from the first hour that differs (a usage revision
-- changes an hour, and every later cumulative sum with it).
CREATE TABLE home_assistant_statistics (
  statistic_id text NOT NULL,
  hour timestamptz NOT NULL,
  state double precision,
  sum double precision,
  mean double precision,
  min double precision,
  max double precision,
  sent_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (statistic_id, hour)
);
