/**
 * `amber-collector alerts test` as a person runs it: a test alert to every target, each one's answer
 * printed (without the URL's secret), and an exit status that says whether all of them took it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;

async function run(env: Record<string, string>, args = ['alerts', 'test']): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // A neutral working directory, so a developer's own .env cannot fill in what a test leaves out.
  const child = spawn(process.execPath, [cli, ...args], { cwd: tmpdir(), env: { PATH: process.env['PATH'] ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('amber-collector alerts test', () => {
  it('sends a test alert to every target, prints each answer and fails when one refuses', async () => {
    const good = await startWebhookReceiver(() => 204);
    const bad = await startWebhookReceiver(() => 410);
    const result = await run({ ALERT_WEBHOOK_URL: `${good.url},slack+${bad.url}`, PUBLIC_URL: 'https://amber.example.net' });
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^1\. http:\/\/127\.0\.0\.1:\d+\/…: accepted \(HTTP 204, \d+ ms\), sent as json$/);
    // A json target may be a self-hosted ntfy that shows the raw body: the answer says how to name its format.
    expect(lines[1]).toContain('needs the ntfy+, discord+ or slack+ prefix on its URL');
    expect(lines[2]).toMatch(/^2\. http:\/\/127\.0\.0\.1:\d+\/…: FAILED \(HTTP 410: try later, \d+ ms\), sent as slack$/);
    expect(lines).toHaveLength(3);
    expect(result.stdout + result.stderr).not.toContain(good.secret);
    expect(good.received[0]!.json()).toMatchObject({ type: 'amber-collector.alert', kind: 'test', phase: 'test', dashboardUrl: 'https://amber.example.net/' });
    expect(bad.received[0]!.json()).toHaveProperty('blocks');

    expect((await run({ ALERT_WEBHOOK_URL: good.url })).code).toBe(0);
  });

  it('sends ntfy a Click header undici accepts when PUBLIC_URL is not ASCII', async () => {
    const receiver = await startWebhookReceiver();
    const result = await run({ ALERT_WEBHOOK_URL: `ntfy+${receiver.url}`, PUBLIC_URL: 'https://énergie.例え.jp/tableau-de-bord/€' });
    expect(result.stdout.trim()).toMatch(/^1\. http:\/\/127\.0\.0\.1:\d+\/…: accepted \(HTTP 204, \d+ ms\), sent as ntfy$/);
    expect(result.code).toBe(0);
    expect(receiver.received[0]!.headers['click']).toBe('https://xn--nergie-9ua.xn--r8jz45g.jp/tableau-de-bord/%E2%82%AC/');
  });

  it('says what is wrong when no target is set or the settings are bad', async () => {
    const unset = await run({});
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain('ALERT_WEBHOOK_URL is not set');
    const bad = await run({ ALERT_WEBHOOK_URL: 'ntfy.sh/topic', ALERT_WEBHOOK_FORMAT: 'teams' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ALERT_WEBHOOK_URL: URL 1 is not an http:// or https:// URL');
    expect(bad.stderr).toContain('ALERT_WEBHOOK_FORMAT: expected one of json, ntfy, discord, slack, got "teams"');
    expect((await run({}, ['alerts', 'send'])).code).toBe(2);
  });
});
