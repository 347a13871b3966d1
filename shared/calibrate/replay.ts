import { ScoringRun } from '../domain/engine/scoring-run.js';
import { eventIdentity, type ScoringEvent } from '../domain/event.js';
import type { Model } from '../domain/model/schema.js';

/**
 * What a backtest replays, as plain data (it crosses to worker threads): the model (without `appliesTo`), one
 * as-of instant per run, and for each outcome entity the runs (indexes into `asOfs`) that score it.
 */
export interface ReplayPlan {
  model: Model;
  asOfs: number[];
  entities: [entityId: string, runs: number[]][];
  dedupe: boolean;
}

/**
 * One pass over events in input order feeding several as-of runs: each event goes only to the runs that score its
 * entity. It also tracks which outcome entities appear at all (`seen`), the first and last event time, and at
 * account level each user's account from earlier events (an event without accountId belongs to the account its
 * user's latest earlier event named).
 */
export class BacktestReplay {
  readonly model: Model;
  readonly runs: ScoringRun[];
  /** Outcome entities with at least one event (any time, duplicates included). */
  readonly seen = new Set<string>();
  firstAt = Number.POSITIVE_INFINITY;
  lastAt = Number.NEGATIVE_INFINITY;
  /**
   * Account level: users with an event without accountId before any event of theirs in this replay named one. In
   * a part of a file (not its start), an earlier part may have named it: then the part alone cannot attribute
   * those events exactly.
   */
  readonly unresolved = new Set<string>();
  private readonly runsOfEntity = new Map<string, number[]>();
  /** Account level: each user's account as of the latest event so far that named one. */
  readonly accountOfUser = new Map<string, string>();
  private readonly level: Model['level'];

  /** `withKnown`: every outcome entity is known to its runs (scored as inactive without events). */
  constructor(plan: ReplayPlan, withKnown: boolean) {
    this.model = plan.model;
    this.level = plan.model.level;
    this.runs = plan.asOfs.map((asOf) => new ScoringRun(plan.model, { asOf, dedupe: plan.dedupe }));
    for (const [entityId, runs] of plan.entities) {
      this.runsOfEntity.set(entityId, runs);
      if (withKnown) for (const r of runs) this.runs[r]!.addKnown([{ entityId }]);
    }
  }

  /**
   * Feed events in input order. `skips[r]`: event identities an earlier part of the input counted in run r; here
   * they are duplicates (when inside the run's range, as the run's own dedupe would count them).
   */
  add(events: readonly ScoringEvent[], skips?: readonly (ReadonlySet<string> | undefined)[]): void {
    const buckets: ScoringEvent[][] = this.runs.map(() => []);
    for (let event of events) {
      if (event.timestamp < this.firstAt) this.firstAt = event.timestamp;
      if (event.timestamp > this.lastAt) this.lastAt = event.timestamp;
      let entityId: string | undefined;
      if (this.level === 'user') entityId = event.userId;
      else if (event.accountId !== undefined) {
        this.accountOfUser.set(event.userId, event.accountId);
        entityId = event.accountId;
      } else {
        entityId = this.accountOfUser.get(event.userId);
        if (entityId === undefined) {
          this.unresolved.add(event.userId);
          continue;
        }
        // The account as of this line, whatever later lines say (the runs get no lookup).
        event = { ...event, accountId: entityId };
      }
      const targets = this.runsOfEntity.get(entityId);
      if (!targets) continue;
      this.seen.add(entityId);
      for (const r of targets) {
        const skip = skips?.[r];
        if (skip !== undefined && skip.size > 0 && skip.has(eventIdentity(event))) {
          const run = this.runs[r]!;
          if (event.timestamp >= run.lookbackFrom && event.timestamp < run.asOf) {
            run.stats.duplicates++;
            continue;
          }
        }
        buckets[r]!.push(event);
      }
    }
    buckets.forEach((bucket, r) => {
      if (bucket.length > 0) this.runs[r]!.add(bucket);
    });
  }
}
