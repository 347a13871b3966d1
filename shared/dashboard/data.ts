import type { z } from '@hono/zod-openapi';
import { InvalidFieldError, PulseError } from '../domain/errors.js';
import type {
  AlertSchema,
  EntityScoreSchema,
  HistoryItemSchema,
  ModelSummarySchema,
  ReasonSchema,
  RunSchema,
  ScoreListItemSchema,
} from '../http/api-schemas.js';

/**
 * What the dashboard pages read, in the scores API's own shapes (docs/api.md), so the same pages render from the
 * local stores (local mode) or from a deployed scores API (`pulse dashboard --url`). Every method reads a bounded
 * amount: one page, one entity, or the latest runs of one model (docs/dashboard.md#data).
 */
export interface DashboardData {
  /** Where the data comes from, shown in the page footer (e.g. "local store" or the API URL). */
  readonly source: string;
  models(): Promise<ModelView[]>;
  /** The latest runs of one model (or all), newest first, with their summaries. */
  runs(query: { model?: string | undefined; limit: number }): Promise<RunView[]>;
  /** One page of a model's scores, highest first (optionally one band). */
  scores(query: ScorePageQuery): Promise<Page<ScoreListView>>;
  /** Current scores of one entity (all models, or one) and its traits; null when it is unknown. */
  entity(entityType: EntityType, entityId: string, model?: string): Promise<EntityView | null>;
  /** One item per run, oldest first. */
  history(entityType: EntityType, entityId: string, model: string): Promise<HistoryView[]>;
  /** One page of alerts, newest first. */
  alerts(query: AlertPageQuery): Promise<Page<AlertView>>;
}

export type EntityType = 'user' | 'account';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ScorePageQuery {
  model: string;
  band?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface AlertPageQuery {
  model?: string | undefined;
  /** Date (YYYY-MM-DD) or ISO instant. */
  since?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export type ModelView = z.infer<typeof ModelSummarySchema>;
export type RunView = z.infer<typeof RunSchema>;
export type RunSummaryView = NonNullable<RunView['summary']>;
export type ScoreListView = z.infer<typeof ScoreListItemSchema>;
export type HistoryView = z.infer<typeof HistoryItemSchema>;
export type ReasonView = z.infer<typeof ReasonSchema>;

/** A manual override of the published band/score (docs/api.md#overrides), when the API reports one. */
export interface OverrideView {
  band?: string | null | undefined;
  score?: number | null | undefined;
  reason: string;
  expiresAt: string;
  createdAt?: string | undefined;
}

export type EntityScoreView = z.infer<typeof EntityScoreSchema> & { override?: OverrideView | null | undefined };

export interface EntityView {
  entityType: EntityType;
  entityId: string;
  scores: EntityScoreView[];
  traits?: Record<string, unknown> | undefined;
}

/** An alert; `reasons` (why the score moved) when the API provides them. */
export type AlertView = z.infer<typeof AlertSchema> & { reasons?: ReasonView[] | undefined };

/** The data source refused the request (bad parameter, unknown model, bad cursor): the page answers 400. */
export class DashboardInputError extends InvalidFieldError {
  override readonly name = 'DashboardInputError';
}

/** The data source could not be read (network, credentials refused, server error): the page answers 502. */
export class DashboardSourceError extends PulseError {
  constructor(
    message: string,
    /** The status the data source answered with, when it answered. */
    readonly sourceStatus?: number,
    options?: { cause?: unknown },
  ) {
    super(message, { kind: 'upstream-failed', status: 502, cause: options?.cause });
    this.name = 'DashboardSourceError';
  }
}
