/**
 * The Home Assistant sync's Prometheus series, on the daemon's own registry (see metrics.ts): when it last worked,
 * how much is still to send, and how often it failed.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { HomeAssistantSyncEvents } from './syncer.ts';

export function homeAssistantMetrics(registry: Registry): HomeAssistantSyncEvents {
  const registers = [registry];
  const lastSuccess = new Gauge({ name: 'amber_collector_home_assistant_last_sync_timestamp_seconds', help: 'When Home Assistant last held every statistic as the database has it (Unix seconds).', registers });
  const pending = new Gauge({ name: 'amber_collector_home_assistant_hours_pending', help: 'Statistic hours still to be sent to Home Assistant (or not read back as sent) after the last sync.', registers });
  const sent = new Counter({ name: 'amber_collector_home_assistant_hours_sent_total', help: 'Statistic hours sent to Home Assistant.', registers });
  const failures = new Counter({ name: 'amber_collector_home_assistant_sync_failures_total', help: 'Home Assistant syncs that failed (unreachable, refused, or a read-back mismatch); each is retried.', registers });
  const mismatches = new Counter({ name: 'amber_collector_home_assistant_mismatches_total', help: 'Statistics Home Assistant did not return as sent when read back.', registers });
  return {
    synced: (summary, at) => {
      lastSuccess.set(at.getTime() / 1000);
      pending.set(summary.hoursPending);
      sent.inc(summary.hoursSent);
    },
    mismatched: (statistics) => mismatches.inc(statistics),
    failed: () => failures.inc(),
  };
}
