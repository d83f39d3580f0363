/**
 * Each format's body, checked against what the service documents: ntfy's publish headers, Discord's
 * Execute Webhook body and embed limits, Slack's incoming-webhook body with Block Kit, and our own JSON.
 * The alert is a fixture: formatting needs no collected data.
 */
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.ts';
import { renderAlert } from '../../src/alerts/formats.ts';

const SPIKE: Alert = {
  id: 'event-7:started',
  event: 'event-7',
  kind: 'price_above',
  phase: 'started',
  severity: 'warning',
  title: 'Price above 100 c/kWh now: Fri 21 Nov 18:00–18:30 NEM',
  text: 'Now: the general price above 100 c/kWh, forecast for Fri 21 Nov 18:00–18:30 NEM. Forecast peak: 312.4 c/kWh.',
  site: { id: '01HQ7ZV3K8D4N5XWB2C9R6T1AE', nmi: '4103827719' },
  channel: 'general',
  window: { start: '2025-11-21T18:00:00+10:00', end: '2025-11-21T18:30:00+10:00' },
  intervals: Array.from({ length: 12 }, (_, k) => ({
    start: `2025-11-21T18:${String(k * 5).padStart(2, '0')}:00+10:00`,
    end: `2025-11-21T18:${String(k * 5 + 5).padStart(2, '0')}:00+10:00`,
    perKwh: 250 + k,
    spikeStatus: 'spike',
    type: k === 0 ? 'CurrentInterval' : 'ForecastInterval',
  })),
  price: { threshold: 100, forecast: 312.4, actual: null, actualMean: null },
  dashboardUrl: 'https://amber.example.net/?site=01HQ7ZV3K8D4N5XWB2C9R6T1AE',
  createdAt: '2025-11-21T08:00:41.000Z',
};

/** A hostile alert: overlong texts and markup that must not become a mention or a link. */
const HOSTILE: Alert = { ...SPIKE, title: `<!channel> @everyone ${'x'.repeat(400)}`, text: `<https://evil.example|click> & ${'y'.repeat(5000)}` };

describe('alert formats', () => {
  it('json: the documented body, the alert itself with a type and version', () => {
    const { headers, body } = renderAlert(SPIKE, 'json');
    expect(headers['content-type']).toBe('application/json');
    expect(JSON.parse(body)).toEqual({ type: 'amber-collector.alert', version: 1, ...SPIKE });
  });

  it('ntfy: plain text body with Title, Priority, Tags and Click headers (ASCII only)', () => {
    const { headers, body } = renderAlert(SPIKE, 'ntfy');
    expect(headers).toMatchObject({
      'content-type': 'text/plain; charset=utf-8',
      title: 'Price above 100 c/kWh now: Fri 21 Nov 18:00-18:30 NEM',
      priority: '4',
      tags: 'money_with_wings',
      click: SPIKE.dashboardUrl,
    });
    for (const value of Object.values(headers)) expect(value).toMatch(/^[\x20-\x7e]*$/);
    expect(body.startsWith(SPIKE.text)).toBe(true);
    expect(body).toContain('Site: NMI 4103827719 (site 01HQ7ZV3K8D4N5XWB2C9R6T1AE)');
    expect(body).toContain('18:00–18:05 250 c/kWh (now, spike: spike)');
    const trouble = renderAlert({ ...SPIKE, kind: 'stale', phase: 'opened', severity: 'critical', dashboardUrl: null }, 'ntfy').headers;
    expect(trouble).toMatchObject({ priority: '5', tags: 'hourglass' });
    expect(trouble).not.toHaveProperty('click');
    expect(renderAlert({ ...SPIKE, phase: 'ended' }, 'ntfy').headers).toMatchObject({ priority: '3', tags: 'money_with_wings,white_check_mark' });
  });

  it('discord: an Execute Webhook body within the embed limits, with mentions off', () => {
    for (const alert of [SPIKE, HOSTILE]) {
      const body = JSON.parse(renderAlert(alert, 'discord').body) as {
        content: string;
        username: string;
        allowed_mentions: { parse: string[] };
        embeds: Array<{ title: string; description: string; url?: string; color: number; timestamp: string; footer: { text: string }; fields: Array<{ name: string; value: string; inline: boolean }> }>;
      };
      expect(body.allowed_mentions).toEqual({ parse: [] });
      expect(body.content.length).toBeLessThanOrEqual(2000);
      expect(body.embeds).toHaveLength(1);
      const [embed] = body.embeds;
      expect(embed!.title.length).toBeLessThanOrEqual(256);
      expect(embed!.description.length).toBeLessThanOrEqual(4096);
      expect(embed!.fields.length).toBeLessThanOrEqual(25);
      for (const field of embed!.fields) {
        expect(field.name.length).toBeGreaterThan(0);
        expect(field.name.length).toBeLessThanOrEqual(256);
        expect(field.value.length).toBeGreaterThan(0);
        expect(field.value.length).toBeLessThanOrEqual(1024);
      }
      expect(Number.isInteger(embed!.color) && embed!.color >= 0 && embed!.color <= 0xffffff).toBe(true);
      expect(new Date(embed!.timestamp).toISOString()).toBe(alert.createdAt);
      // Discord counts title, description, field names and values, footer and author against 6000.
      const total = embed!.title.length + embed!.description.length + embed!.footer.text.length + embed!.fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
      expect(total).toBeLessThanOrEqual(6000);
    }
    const body = JSON.parse(renderAlert(SPIKE, 'discord').body) as { content: string; embeds: Array<{ url: string; fields: Array<{ name: string }> }> };
    expect(body.content).toBe(SPIKE.title);
    expect(body.embeds[0]!.url).toBe(SPIKE.dashboardUrl);
    expect(body.embeds[0]!.fields.map((f) => f.name)).toEqual(['Site', 'Channel', 'When', 'Price', 'Intervals']);
  });

  it('slack: text as the fallback and Block Kit blocks within their limits, with markup escaped', () => {
    for (const alert of [SPIKE, HOSTILE]) {
      const body = JSON.parse(renderAlert(alert, 'slack').body) as {
        text: string;
        blocks: Array<{ type: string; text?: { type: string; text: string }; fields?: Array<{ type: string; text: string }>; elements?: Array<{ type: string; text: string }> }>;
      };
      expect(body.text.length).toBeGreaterThan(0);
      const [header, section, ...rest] = body.blocks;
      expect(header).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
      expect(header!.text!.text.length).toBeLessThanOrEqual(150);
      expect(section).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
      expect(section!.text!.text.length).toBeLessThanOrEqual(3000);
      for (const block of rest) {
        expect(['section', 'context']).toContain(block.type);
        for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2000);
        expect((block.fields ?? []).length).toBeLessThanOrEqual(10);
      }
    }
    const hostile = renderAlert(HOSTILE, 'slack').body;
    expect(hostile).not.toContain('<https://evil.example');
    expect(hostile).toContain('&lt;https://evil.example|click&gt; &amp;');
    const body = JSON.parse(renderAlert(SPIKE, 'slack').body) as { blocks: Array<{ type: string; elements?: Array<{ text: string }> }> };
    expect(body.blocks.at(-1)!.elements![0]!.text).toContain(`<${SPIKE.dashboardUrl}|Open the dashboard>`);
  });
});
