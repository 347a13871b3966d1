import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { FiredAlert } from '../../domain/engine/types.js';
import type { AlertSink, PublishResult } from '../../ports/alert-sink.js';

export interface EventBridgeAlertSinkOptions {
  client: EventBridgeClient;
  /** Bus name or ARN. */
  busName: string;
  /** Rounds of resending failed entries (default 4). */
  maxAttempts?: number | undefined;
  baseDelayMs?: number | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

/** EventBridge takes at most 10 entries a PutEvents call. */
const BATCH = 10;

/** The `detail` of a Pulse alert event (docs/api.md); what EventBridge rules match on. */
export interface AlertDetail {
  entity: { type: FiredAlert['entityType']; id: string };
  model: string;
  asOf: string;
  score: number;
  previous: number | null;
  bands: { current: string; previous: string | null };
  /** Why the score moved: the signals and penalties that changed most (docs/api.md#alerts). */
  reasons: FiredAlert['reasons'];
  topContributions: FiredAlert['topContributions'];
}

export function alertDetail(alert: FiredAlert): AlertDetail {
  return {
    entity: { type: alert.entityType, id: alert.entityId },
    model: alert.model,
    asOf: alert.asOf,
    score: alert.score,
    previous: alert.previousScore,
    bands: { current: alert.band, previous: alert.previousBand },
    reasons: alert.reasons,
    topContributions: alert.topContributions,
  };
}

export function alertEntry(alert: FiredAlert, busName: string): PutEventsRequestEntry {
  return {
    Source: 'pulse',
    DetailType: alert.type,
    Detail: JSON.stringify(alertDetail(alert)),
    EventBusName: busName,
    Time: new Date(alert.asOf),
  };
}

/**
 * Alerts as EventBridge events (`source: "pulse"`, detail type ScoreDropped | ScoreSpiked | BandChanged), 10 a
 * call; entries EventBridge reports as failed (FailedEntryCount) are resent with backoff, and what still fails is
 * reported as `failed` rather than thrown, so scores are never rolled back over a notification.
 */
export class EventBridgeAlertSink implements AlertSink {
  private readonly options: EventBridgeAlertSinkOptions;

  constructor(options: EventBridgeAlertSinkOptions) {
    this.options = options;
  }

  async publish(alerts: readonly FiredAlert[]): Promise<PublishResult> {
    let published = 0;
    let failed = 0;
    for (let i = 0; i < alerts.length; i += BATCH) {
      const entries = alerts.slice(i, i + BATCH).map((a) => alertEntry(a, this.options.busName));
      const left = await this.sendBatch(entries);
      published += entries.length - left;
      failed += left;
    }
    return { published, failed };
  }

  /** Send one batch; returns how many entries never went through. */
  private async sendBatch(entries: PutEventsRequestEntry[]): Promise<number> {
    const maxAttempts = this.options.maxAttempts ?? 4;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let pending = entries;
    for (let attempt = 1; pending.length > 0; attempt++) {
      try {
        const result = await this.options.client.send(new PutEventsCommand({ Entries: pending }));
        if (!result.FailedEntryCount) return 0;
        // Results are in entry order; an entry with an ErrorCode failed.
        pending = pending.filter(
          (_, j) => result.Entries?.[j]?.ErrorCode !== undefined || result.Entries?.[j] === undefined,
        );
      } catch {
        // The whole call failed (throttled, network): resend it all.
      }
      if (attempt >= maxAttempts) return pending.length;
      await sleep(Math.floor(Math.random() * (this.options.baseDelayMs ?? 100) * 2 ** attempt));
    }
    return 0;
  }
}
