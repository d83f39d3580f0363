/**
 * Collector trouble as the collector's own events show it: prices not collected for ALERT_STALE_MINUTES,
 * a stream failing ALERT_FAILED_CYCLES cycles in a row, the API key rejected. Each is reported as a
 * condition that holds (announce it once) or one known to be cleared (announce the recovery once); what
 * this process has not seen yet is neither, so a restart never announces a recovery it cannot vouch for.
 */
import { nemIso, type TroubleAlertKind } from './alert.ts';

export interface TroubleCondition {
  kind: TroubleAlertKind;
  siteId: string | null;
  subject: string;
  detail: Record<string, unknown>;
}

type TroubleKey = string;

export function troubleKey(c: { kind: string; siteId: string | null; subject: string }): TroubleKey {
  return `${c.siteId ?? ''}|${c.kind}|${c.subject}`;
}

interface StreamState {
  failedInARow: number;
  lastCode: string;
  /** This process saw the stream succeed since its last failure. */
  healthy: boolean;
}

export class TroubleWatch {
  private readonly staleMs: number;
  private readonly failedCycles: number;
  /** Sites whose prices are watched: when they were last stored (or watching began), and whether this process saw it. */
  private readonly lastPrices = new Map<string, { at: number; seen: boolean }>();
  private readonly streams = new Map<string, StreamState>();
  /** Streams that failed / succeeded since the last cycle finished. */
  private failedThisCycle = new Map<string, string>();
  private succeededThisCycle = new Set<string>();
  private keyRejected: boolean | null = null;

  constructor(settings: { staleMinutes: number; failedCycles: number }) {
    this.staleMs = settings.staleMinutes * 60_000;
    this.failedCycles = settings.failedCycles;
  }

  /** Starts watching a site's current prices; `since` is the grace start (a restart is not stale at once). */
  watchSite(siteId: string, since: Date): void {
    if (!this.lastPrices.has(siteId)) this.lastPrices.set(siteId, { at: since.getTime(), seen: false });
  }

  /** A chunk was stored: any chunk proves the key works; only a cycle's (fresh) chunks prove a stream is current. */
  chunkStored(siteId: string, dataType: string, at: Date, fresh: boolean): void {
    this.keyRejected = false;
    if (!fresh) return;
    // Only sites with current prices are watched (see watchSite): a closed site's last days stop coming.
    if (dataType === 'price' && this.lastPrices.has(siteId)) this.lastPrices.set(siteId, { at: at.getTime(), seen: true });
    this.succeededThisCycle.add(`${siteId}|${dataType}`);
  }

  /** Collection stopped here (another collector holds the lock): nothing this process watched can go stale or fail now. */
  forget(): void {
    this.lastPrices.clear();
    this.streams.clear();
    this.failedThisCycle = new Map();
    this.succeededThisCycle = new Set();
  }

  streamFailed(siteId: string, dataType: string, code: string): void {
    this.failedThisCycle.set(`${siteId}|${dataType}`, code);
  }

  /** A cycle ended: a stream that failed in it counts one more failed cycle, one that only succeeded is healthy. */
  cycleFinished(): void {
    for (const [key, code] of this.failedThisCycle) {
      const state = this.streams.get(key) ?? { failedInARow: 0, lastCode: code, healthy: false };
      this.streams.set(key, { failedInARow: state.failedInARow + 1, lastCode: code, healthy: false });
    }
    for (const key of this.succeededThisCycle) {
      if (!this.failedThisCycle.has(key)) this.streams.set(key, { failedInARow: 0, lastCode: '', healthy: true });
    }
    this.failedThisCycle = new Map();
    this.succeededThisCycle = new Set();
  }

  apiKeyRejected(): void {
    this.keyRejected = true;
  }

  /** The conditions that hold at `now`, and the keys of those known to be cleared. */
  assess(now: Date): { active: TroubleCondition[]; cleared: Set<TroubleKey> } {
    const active: TroubleCondition[] = [];
    const cleared = new Set<TroubleKey>();
    for (const [siteId, last] of this.lastPrices) {
      const condition: TroubleCondition = {
        kind: 'stale',
        siteId,
        subject: 'price',
        detail: { minutes: Math.floor((now.getTime() - last.at) / 60_000), lastAt: last.seen ? nemIso(new Date(last.at)) : null },
      };
      if (now.getTime() - last.at > this.staleMs) active.push(condition);
      else if (last.seen) cleared.add(troubleKey(condition));
    }
    for (const [key, state] of this.streams) {
      const [siteId = '', subject = ''] = key.split('|');
      const condition: TroubleCondition = { kind: 'stream_failing', siteId, subject, detail: { cycles: state.failedInARow, code: state.lastCode } };
      if (state.failedInARow >= this.failedCycles) active.push(condition);
      else if (state.healthy) cleared.add(troubleKey(condition));
    }
    const keyCondition: TroubleCondition = { kind: 'api_key_rejected', siteId: null, subject: '', detail: {} };
    if (this.keyRejected === true) active.push(keyCondition);
    else if (this.keyRejected === false) cleared.add(troubleKey(keyCondition));
    return { active, cleared };
  }
}
