import { DATE_OR_INSTANT_MESSAGE, parseDateOrInstant } from './dates.js';
import { bandOf } from './engine/finalize.js';
import type { EntityLevel } from './entity.js';
import { InvalidFieldError } from './errors.js';
import type { Model } from './model/schema.js';

/**
 * A manual override of one entity's published score under one model (docs/api.md#overrides): runs keep computing
 * rawScore and contributions, but publish this band and/or score until `expiresAt`.
 */
export interface ScoreOverride {
  band?: string | undefined;
  score?: number | undefined;
  reason: string;
  /** ISO instant; the override ends by itself then. */
  expiresAt: string;
  /** ISO instant it was set. */
  createdAt: string;
}

export interface StoredOverride extends ScoreOverride {
  entityType: EntityLevel;
  entityId: string;
  model: string;
}

export interface OverrideRequest {
  model: Model;
  band?: string | undefined;
  score?: number | undefined;
  reason: string;
  expiresAt: string;
}

/** An override a caller asked for that cannot be accepted: `field` is the request field at fault. */
export class InvalidOverrideError extends InvalidFieldError {
  override readonly name = 'InvalidOverrideError';
}

/** At most a year ahead: an override is a temporary correction, not a second model. */
export const MAX_OVERRIDE_DAYS = 366;

/** Check an override against its model and the clock; returns what is stored (band/score as given). */
export function validateOverride(request: OverrideRequest, now: number): ScoreOverride {
  if (request.band === undefined && request.score === undefined)
    throw new InvalidOverrideError('band', 'give a band, a score, or both');
  if (request.band !== undefined && !request.model.bands.some((b) => b.name === request.band)) {
    const names = request.model.bands.map((b) => b.name).join(', ');
    throw new InvalidOverrideError('band', `"${request.band}" is not a band of model ${request.model.name} (${names})`);
  }
  const expires = parseDateOrInstant(request.expiresAt);
  if (expires === undefined) throw new InvalidOverrideError('expiresAt', DATE_OR_INSTANT_MESSAGE);
  if (expires <= now) throw new InvalidOverrideError('expiresAt', 'must be in the future');
  if (expires > now + MAX_OVERRIDE_DAYS * 86_400_000)
    throw new InvalidOverrideError('expiresAt', `must be at most ${MAX_OVERRIDE_DAYS} days ahead`);
  return {
    ...(request.band !== undefined ? { band: request.band } : {}),
    ...(request.score !== undefined ? { score: request.score } : {}),
    reason: request.reason,
    expiresAt: new Date(expires).toISOString(),
    createdAt: new Date(now).toISOString(),
  };
}

export function isActive(override: ScoreOverride, now: number): boolean {
  return Date.parse(override.expiresAt) > now;
}

/**
 * The published score and band under an override: its score when given, its band when given, else the band of the
 * published score.
 */
export function overridden(
  model: Model,
  computed: { score: number; band: string },
  override: ScoreOverride,
): { score: number; band: string } {
  const score = override.score ?? computed.score;
  const band = override.band ?? (override.score !== undefined ? bandOf(model, score) : computed.band);
  return { score, band };
}

/** The `override` object shown on scores, history and snapshots (no entity keys). */
export function overrideView(o: ScoreOverride): ScoreOverride {
  return {
    ...(o.band !== undefined ? { band: o.band } : {}),
    ...(o.score !== undefined ? { score: o.score } : {}),
    reason: o.reason,
    expiresAt: o.expiresAt,
    createdAt: o.createdAt,
  };
}
