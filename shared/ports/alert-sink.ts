import type { FiredAlert } from '../domain/engine/types.js';

export interface PublishResult {
  published: number;
  /** Alerts still rejected after retries. */
  failed: number;
  /** Why deliveries failed (a few distinct messages, never alert content): recorded on the run. */
  errors?: string[] | undefined;
}

/**
 * Where fired alerts go (docs/api.md): EventBridge in AWS, nowhere extra locally (the alert store serves them).
 * Delivery is at least once: re-running a run may publish its alerts again.
 */
export interface AlertSink {
  publish(alerts: readonly FiredAlert[]): Promise<PublishResult>;
}

/** An item of `GET /v1/alerts`. */
export type StoredAlert = Omit<FiredAlert, 'topContributions'>;

export interface AlertQuery {
  /** ISO instant: alerts of runs as of this instant or later. */
  since: string;
  /** The models to list (one, or every active model). */
  models: readonly string[];
  /** 1..1000, default 100. */
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** Alerts kept for `/v1/alerts` (newest first); a re-run stores its alerts once (same key). */
export interface AlertStore {
  put(alerts: readonly FiredAlert[]): Promise<void>;
  list(query: AlertQuery): Promise<{ items: StoredAlert[]; nextCursor: string | null }>;
}

export function storedAlertOf(alert: FiredAlert): StoredAlert {
  return {
    type: alert.type,
    entityType: alert.entityType,
    entityId: alert.entityId,
    model: alert.model,
    asOf: alert.asOf,
    score: alert.score,
    previousScore: alert.previousScore,
    band: alert.band,
    previousBand: alert.previousBand,
    reasons: alert.reasons,
  };
}
