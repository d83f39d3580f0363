/**
 * Backup and restore with the embedded PostgreSQL (no DATABASE_URL): a backup restored into a new DATA_DIR,
 * whose server the command starts for itself, backed up from there and restored into another: the path a user
 * takes when the embedded PostgreSQL's major version changes.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { runCli } from '../helpers/cli-process.ts';
import { databaseForTest } from '../helpers/database.ts';

/** The command in a neutral working directory, so a developer's own .env cannot fill in what the test leaves out. */
async function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const result = await runCli(args, { cwd: tmpdir(), env: { PATH: process.env['PATH'] ?? '', ...env } });
  return { code: result.code, out: result.stdout.toString(), err: result.stderr };
}

it('moves a database into a new DATA_DIR and on into another, through backup and restore', { timeout: 120_000 }, async () => {
  const folder = await mkdtemp(join(tmpdir(), 'amber-embedded-backup-'));
  // A root collector's server runs as an unprivileged user, who must pass through the folder.
  await chmod(folder, 0o711);
  onTestFinished(() => rm(folder, { recursive: true, force: true }));
  const source = await databaseForTest();
  await source.pool.query(`INSERT INTO sites (id, nmi, network, status, interval_length, channels, raw) VALUES ('S1', '1', 'Ausgrid', 'active', 5, '[]', '{"id":"S1"}')`);
  const [first, second] = [join(folder, 'first.backup'), join(folder, 'second.backup')];
  expect(await run(['backup', '--file', first], { DATABASE_URL: source.url })).toMatchObject({ code: 0, err: '' });

  const dataDirs = [join(folder, 'data-a'), join(folder, 'data-b')];
  expect(await run(['restore', first], { DATA_DIR: dataDirs[0]! })).toMatchObject({ code: 0, err: '', out: expect.stringMatching(/^restored 1 rows/) });
  expect(await run(['backup', '--file', second], { DATA_DIR: dataDirs[0]! })).toMatchObject({ code: 0, err: '' });
  expect(await run(['restore', second], { DATA_DIR: dataDirs[1]! })).toMatchObject({ code: 0, err: '' });
  const query = await run(['query', 'sql', 'SELECT id, raw FROM sites', '--json'], { DATA_DIR: dataDirs[1]! });
  expect(query).toMatchObject({ code: 0, err: '' });
  expect(query.out).toContain('"S1"');
});
