/**
 * The daemon's daily backup, with the day shortened: a backup at start when the folder has none, one per
 * interval after that, only the newest BACKUP_KEEP kept; a failure is logged and counted, then retried; a
 * stop in the middle of a backup leaves no file.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dailyBackupMetrics } from '../../src/backup/backup-metrics.ts';
import { DailyBackup } from '../../src/backup/daily.ts';
import { createPool } from '../../src/db/pool.ts';
import { silentLogger } from '../../src/logger.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { databaseForTest } from '../helpers/database.ts';

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'amber-daily-'));
});
afterEach(async () => rm(folder, { recursive: true, force: true }));

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

const backups = async (): Promise<string[]> => (await readdir(folder)).filter((name) => name.endsWith('.backup')).sort();

describe('the daily backup', () => {
  it('writes one at start, one per interval, keeps the newest N and reports them as metrics', async () => {
    const db = await databaseForTest();
    const pool = createPool({ url: db.url, ssl: false }, silentLogger(), { max: 1, pipeline: false });
    const registry = new Registry();
    // A clock a minute further on at every backup, so each gets a name of its own.
    let clock = Date.parse('2026-12-01T00:00:00Z');
    const daily = new DailyBackup({ pool, dir: join(folder, 'nested'), keep: 2, logger: silentLogger(), events: dailyBackupMetrics(registry), intervalMs: 50, now: () => new Date((clock += 60_000)) });
    folder = join(folder, 'nested');
    await daily.start();
    await until(async () => (await backups()).length === 2 && (await registry.getSingleMetricAsString('amber_collector_backup_last_size_bytes')).includes(' '));
    await until(async () => Number(/ (\d+)$/m.exec(await registry.getSingleMetricAsString('amber_collector_backup_last_success_timestamp_seconds'))?.[1]) >= Date.parse('2026-12-01T00:04:00Z') / 1000);
    await daily.stop();
    await pool.end();
    const names = await backups();
    expect(names).toHaveLength(2);
    expect(names.every((name) => /^amber-collector-20261201T00\d{4}Z\.backup$/.test(name))).toBe(true);
    expect(await registry.getSingleMetricAsString('amber_collector_backup_failures_total')).toMatch(/ 0$/m);
  });

  it('waits for the next day when the newest backup in the folder is recent', async () => {
    const db = await databaseForTest();
    const pool = createPool({ url: db.url, ssl: false }, silentLogger(), { max: 1, pipeline: false });
    await writeFile(join(folder, 'amber-collector-20261201T000000Z.backup'), 'x');
    const daily = new DailyBackup({ pool, dir: folder, keep: 7, logger: silentLogger(), intervalMs: 60 * 60_000, now: () => new Date('2026-12-01T00:30:00Z') });
    await daily.start();
    await sleep(300);
    await daily.stop();
    await pool.end();
    expect(await backups()).toEqual(['amber-collector-20261201T000000Z.backup']);
  });

  it('logs and counts a failure, tries again, and never leaves a partial file', async () => {
    const pool = createPool({ url: 'postgres://postgres@127.0.0.1:5432/amber_no_such_database', ssl: false }, silentLogger(), { max: 1, pipeline: false });
    const registry = new Registry();
    const log = captureLogger();
    const daily = new DailyBackup({ pool, dir: folder, keep: 7, logger: log.logger, events: dailyBackupMetrics(registry), intervalMs: 50, retryMs: 50 });
    await daily.start();
    await until(async () => /failures_total (\d+)$/m.exec(await registry.getSingleMetricAsString('amber_collector_backup_failures_total'))?.[1] === '2');
    await daily.stop();
    await pool.end();
    expect(log.lines.filter((line) => line['message'] === 'daily backup failed; collection carries on, and the backup is tried again in an hour').length).toBeGreaterThanOrEqual(2);
    expect(await readdir(folder)).toEqual([]);
  });
});
