/**
 * The words of alerts: titles name the site, so two sites' events never read the same in ntfy, Discord or
 * Slack; a price too small for one decimal keeps its sign; the dashboard link is ASCII whatever PUBLIC_URL
 * holds. The announcements are fixtures: wording needs no collected data.
 */
import { describe, expect, it } from 'vitest';
import { cents } from '../../src/alerts/alert.ts';
import { renderAlert } from '../../src/alerts/formats.ts';
import { dashboardLink, priceAlert, troubleAlert } from '../../src/alerts/messages.ts';

const NOW = new Date('2025-11-21T08:00:00Z');
const START = new Date('2025-11-21T02:00:00Z'); // 12:00 NEM
const END = new Date('2025-11-21T02:30:00Z');

function negativePrices(site: { id: string; nmi: string | null }) {
  return priceAlert(
    {
      event: 'event-3',
      kind: 'price_below',
      phase: 'forecast',
      channel: 'general',
      threshold: 0,
      start: START,
      end: END,
      intervals: [{ start: '2025-11-21T12:00:00+10:00', end: '2025-11-21T12:05:00+10:00', perKwh: -0.04, spikeStatus: 'none', type: 'ForecastInterval' }],
      forecastPeak: -0.04,
      actual: null,
      happened: true,
      spikeStatus: null,
    },
    { site, dashboardUrl: null, now: NOW },
  );
}

describe('alert messages', () => {
  it('keep the sign of a price too small for one decimal', () => {
    expect(cents(-0.04)).toBe('-0.04 c/kWh');
    expect(cents(0.004)).toBe('0.004 c/kWh');
    expect(cents(-0.0123)).toBe('-0.012 c/kWh');
    expect(cents(-0.05)).toBe('-0.05 c/kWh');
    expect(cents(31.24)).toBe('31.2 c/kWh');
    expect(cents(0)).toBe('0 c/kWh');
    expect(cents(-0)).toBe('0 c/kWh');
    const alert = negativePrices({ id: 'SITE1', nmi: '4103827719' });
    expect(alert.text).toBe('Amber forecasts negative general prices Fri 21 Nov 12:00–12:30 NEM. Forecast lowest: -0.04 c/kWh.');
    expect(renderAlert(alert, 'ntfy').body).toContain('12:00–12:05 -0.04 c/kWh (forecast)');
  });

  it('name the site in every title, so two sites\' events differ in ntfy, Discord and Slack', () => {
    const first = negativePrices({ id: 'SITE1', nmi: '4103827719' });
    const second = negativePrices({ id: 'SITE2', nmi: '6305118822' });
    expect(first.title).toBe('Negative prices forecast: Fri 21 Nov 12:00–12:30 NEM (NMI 4103827719)');
    expect(negativePrices({ id: 'SITE3', nmi: null }).title).toContain('(site SITE3)');
    const titles = (alert: typeof first) => [
      renderAlert(alert, 'ntfy').headers['title'],
      (JSON.parse(renderAlert(alert, 'discord').body) as { content: string }).content,
      (JSON.parse(renderAlert(alert, 'slack').body) as { text: string }).text,
    ];
    for (const title of titles(first)) expect(title).toContain('NMI 4103827719');
    for (const title of titles(second)) expect(title).toContain('NMI 6305118822');
    const stale = troubleAlert({ event: 'event-4', kind: 'stale', phase: 'opened', subject: 'price', detail: { minutes: 31 } }, { site: { id: 'SITE2', nmi: '6305118822' }, dashboardUrl: null, now: NOW });
    expect(stale.title).toBe('Collector stale: no new prices (NMI 6305118822)');
    const keyRejected = troubleAlert({ event: 'event-5', kind: 'api_key_rejected', phase: 'opened', subject: '', detail: {} }, { site: null, dashboardUrl: null, now: NOW });
    expect(keyRejected.title).toBe('Collector stopped: Amber rejected the API key');
  });

  it('link to the dashboard in ASCII, whatever PUBLIC_URL holds', () => {
    expect(dashboardLink('https://amber.example.net', 'SITE1')).toBe('https://amber.example.net/?site=SITE1');
    expect(dashboardLink('https://ämber.example.net/tableau de bord', null)).toBe('https://xn--mber-koa.example.net/tableau%20de%20bord/');
    expect(dashboardLink(null, 'SITE1')).toBeNull();
    const stored = { ...negativePrices({ id: 'SITE1', nmi: null }), dashboardUrl: 'https://ämber.example.net/?site=SITE1' };
    expect(renderAlert(stored, 'ntfy').headers['click']).toBe('https://xn--mber-koa.example.net/?site=SITE1');
  });
});
