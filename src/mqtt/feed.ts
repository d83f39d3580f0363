/**
 * The MQTT feed, wired to the collector like alerts are: an observer of its events that, after each cycle,
 * reads every site's current prices and forecast (the same read as `/api/prices/current`), today's cost and the
 * collection status, and publishes them retained, with Home Assistant discovery configs for each site. It runs
 * off the cycle's path: a slow broker or read never delays collection, and a failure waits for the next cycle.
 */
import type pg from 'pg';
import type { CollectorEvents } from '../collector/collector.ts';
import type { MqttConfig } from '../config/mqtt-settings.ts';
import { recordIntegrationStatus } from '../db/integration-status.ts';
import { readStoredSites } from '../db/sites-store.ts';
import type { PriceInterval, Site } from '../domain/models.ts';
import { nemDayStart, nemIsoInstant, nemToday } from '../domain/nem-time.ts';
import type { Logger } from '../logger.ts';
import { buildStatusReport, type StatusSettings, type StreamStatus } from '../query/collection-status.ts';
import { readPricesNow } from '../query/current.ts';
import { dailyCosts } from '../query/reports.ts';
import { MqttLink, type MqttLinkEvents, type MqttStatus } from './connection.ts';
import { discoveryConfig } from './discovery.ts';
import { siteStates, type SiteHealth } from './site-states.ts';
import { topicsFor, type Topics } from './topics.ts';

export interface MqttFeedDeps {
  pool: pg.Pool;
  config: MqttConfig;
  status: StatusSettings;
  logger: Logger;
  events?: MqttLinkEvents;
  now?: () => Date;
  /** Connection knobs for tests. */
  backoffMs?: { initial: number; max: number };
}

export class MqttFeed {
  readonly topics: Topics;
  private readonly deps: MqttFeedDeps;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly link: MqttLink;
  private readonly snapshots = new Map<string, readonly PriceInterval[]>();
  /** Publications run one at a time, in order. */
  private work: Promise<void> = Promise.resolve();

  constructor(deps: MqttFeedDeps) {
    this.deps = deps;
    this.log = deps.logger;
    this.now = deps.now ?? (() => new Date());
    this.topics = topicsFor(deps.config);
    const events = deps.events;
    this.link = new MqttLink({
      config: deps.config,
      topics: this.topics,
      logger: deps.logger,
      now: this.now,
      ...(deps.backoffMs ? { backoffMs: deps.backoffMs } : {}),
      events: {
        ...events,
        connection: (connected) => {
          events?.connection?.(connected);
          this.schedule(() => this.recordStatus());
        },
      },
    });
  }

  /** For `new Collector({ events })`: keeps each site's fetched intervals; publishes once the cycle is over. */
  readonly collectorEvents: CollectorEvents = {
    forecastSnapshot: (snapshot) => this.snapshots.set(snapshot.site.id, snapshot.intervals),
    cycleFinished: () => this.schedule(() => this.publishSites()),
  };

  /** Connects, and publishes what the database already holds, so a restart does not wait for the next cycle. */
  start(): void {
    this.link.start();
    this.schedule(() => this.publishSites());
  }

  status(): MqttStatus {
    return this.link.status();
  }

  /** Resolves when every publication queued so far has been handed to the connection. */
  idle(): Promise<void> {
    return this.work;
  }

  /** Lets queued publications finish, publishes `offline` and disconnects. */
  async stop(timeoutMs = 3_000): Promise<void> {
    await this.idle();
    await this.link.stop(timeoutMs);
    await recordIntegrationStatus(this.deps.pool, 'mqtt', this.link.status()).catch(() => {});
  }

  private schedule(task: () => Promise<void>): void {
    this.work = this.work.then(task).catch((err: unknown) => {
      this.log.warn({ err }, 'could not publish to MQTT; the next cycle tries again');
    });
  }

  private async publishSites(): Promise<void> {
    const { pool } = this.deps;
    const now = this.now();
    const sites = await readStoredSites(pool);
    if (sites.length === 0) return;
    const report = await buildStatusReport(pool, this.deps.status, now);
    const today = nemToday(now);
    const costs = await dailyCosts(pool, { siteIds: sites.map((s) => s.id), from: today, to: today });
    const discovery = new Map<string, string>();
    const states = new Map<string, string>();
    for (const site of sites.filter(isCollected(this.deps.status))) {
      const prices = await readPricesNow(pool, { siteId: site.id, now });
      const cost = costs.find((c) => c.siteId === site.id);
      const siteValues = siteStates(
        {
          siteId: site.id,
          prices,
          snapshot: this.snapshots.get(site.id) ?? [],
          cost: { date: today, lastReset: nemIsoInstant(nemDayStart(today)), dollars: cost?.netDollars ?? null, intervals: cost?.intervals ?? 0 },
          health: healthOf(report.streams.filter((s) => s.siteId === site.id)),
        },
        this.topics,
      );
      for (const [topic, payload] of siteValues) states.set(topic, payload);
      const topic = this.topics.discovery(site.id);
      if (topic) {
        const channelTypes = prices.channels.map((c) => c.channelType);
        discovery.set(topic, JSON.stringify(discoveryConfig({ id: site.id, nmi: site.nmi, channelTypes }, this.topics)));
      }
    }
    this.link.setDiscovery(discovery);
    this.link.publish(states);
    await this.recordStatus();
  }

  private async recordStatus(): Promise<void> {
    await recordIntegrationStatus(this.deps.pool, 'mqtt', this.link.status());
  }
}

/** Active sites only (a closed or pending one has no live price), and of those only the ones AMBER_SITE_IDS names. */
function isCollected(settings: StatusSettings): (site: Site) => boolean {
  return (site) => site.status === 'active' && (settings.siteIds === null || settings.siteIds.includes(site.id));
}

function healthOf(streams: readonly StreamStatus[]): SiteHealth {
  const priceSuccesses = streams.filter((s) => s.dataType === 'price' && s.lastSuccessAt !== null).map((s) => Date.parse(s.lastSuccessAt!));
  const percents = streams.map((s) => s.percentComplete ?? 0);
  return {
    lastSuccessfulCycle: priceSuccesses.length > 0 ? nemIsoInstant(Math.max(...priceSuccesses)) : null,
    streamsFailing: streams.filter((s) => s.stale || s.lastError?.current === true).length,
    backfillPercent: percents.length > 0 ? Math.min(...percents) : 0,
  };
}
