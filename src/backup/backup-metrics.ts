/**
 * The daily backup's Prometheus series, on the daemon's registry: when the last backup succeeded, its size and
 * duration, and how many attempts failed, so a backup that stopped working shows on a dashboard or an alert.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DailyBackupEvents } from './daily.ts';

export function dailyBackupMetrics(registry: Registry): DailyBackupEvents {
  const lastSuccess = new Gauge({
    name: 'amber_collector_backup_last_success_timestamp_seconds',
    help: 'When the last daily backup was written (Unix time); 0 until one is, since this process started',
    registers: [registry],
  });
  const lastSize = new Gauge({ name: 'amber_collector_backup_last_size_bytes', help: 'Compressed size of the last daily backup', registers: [registry] });
  const lastDuration = new Gauge({ name: 'amber_collector_backup_last_duration_seconds', help: 'How long the last daily backup took', registers: [registry] });
  const failures = new Counter({ name: 'amber_collector_backup_failures_total', help: 'Daily backups that failed (each is logged with its reason)', registers: [registry] });
  lastSuccess.set(0);
  return {
    succeeded(result, at) {
      lastSuccess.set(at.getTime() / 1000);
      lastSize.set(result.bytes ?? 0);
      lastDuration.set(result.durationMs / 1000);
    },
    failed() {
      failures.inc();
    },
  };
}
