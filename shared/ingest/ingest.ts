import type { ScoringEvent } from '../domain/event.js';
import type { ErasedCheck } from '../erasure/tombstones.js';
import type { EntityStore, TraitsRefusal, TraitsUpdate } from '../ports/entity-store.js';
import type { EventStore } from '../ports/event-store.js';
import type { NormalisedBatch } from './batch.js';
import { refuseErased } from './erased.js';
import type { RejectedEvent } from './errors.js';

export interface IngestStores {
  events: EventStore;
  entities: EntityStore;
  /** Tombstones of erased users and accounts (docs/api.md#erasure): their new data is refused. */
  erased?: ErasedCheck | undefined;
}

export interface IngestOutcome {
  /** Events newly stored plus identify/group messages whose traits were stored. */
  accepted: number;
  /** Events already stored before (resends and retries): stored and counted once, never twice. */
  duplicates: number;
  rejected: RejectedEvent[];
}

/**
 * Store a normalised batch: traits and account links first (so a group call earlier in the same batch already
 * routes the user's events), then the events, each given the account of its user when it carries none.
 * Throws StoreUnavailableError when storage stays unavailable: the caller answers 503 and nothing is reported
 * accepted.
 */
export async function storeBatch(stores: IngestStores, batch: NormalisedBatch): Promise<IngestOutcome> {
  if (stores.erased) await refuseErased(stores.erased, batch);
  let traitMessages = batch.traitMessages;
  let rejected = batch.rejected;
  if (batch.traits.length > 0) {
    const refused = await stores.entities.upsert(batch.traits);
    if (refused.length > 0) {
      const calls = refusedCalls(batch, refused);
      traitMessages -= calls.length;
      rejected = [...rejected, ...calls].sort((a, b) => a.index - b.index);
      batch.rejected = rejected;
    }
  }

  let stored = 0;
  let duplicates = 0;
  if (batch.events.length > 0) {
    await assignAccounts(stores.entities, batch);
    const result = await stores.events.putEvents(batch.events);
    stored = result.stored;
    duplicates = result.duplicates;
    if (result.refused && result.refused.length > 0) {
      const position = new Map<ScoringEvent, number>();
      for (const [i, event] of batch.events.entries()) position.set(event, batch.eventIndex?.[i] ?? i);
      const refusals = result.refused.map(({ event, message }) => ({
        index: position.get(event) ?? 0,
        errors: [{ path: '', message }],
      }));
      rejected = [...rejected, ...refusals].sort((a, b) => a.index - b.index);
      batch.rejected = rejected;
    }
  }
  return { accepted: stored + traitMessages, duplicates, rejected };
}

/** The identify/group calls whose updates were refused, one rejection per call with every reason. */
function refusedCalls(batch: NormalisedBatch, refused: readonly TraitsRefusal[]): RejectedEvent[] {
  const position = new Map<TraitsUpdate, number>();
  for (const [i, update] of batch.traits.entries()) position.set(update, batch.traitIndex?.[i] ?? i);
  const byIndex = new Map<number, RejectedEvent>();
  for (const refusal of refused) {
    const index = position.get(refusal.update) ?? 0;
    const entry = byIndex.get(index) ?? { index, errors: [] };
    entry.errors.push({ path: refusal.path, message: refusal.message });
    byIndex.set(index, entry);
  }
  return [...byIndex.values()];
}

async function assignAccounts(entities: EntityStore, batch: NormalisedBatch): Promise<void> {
  const missing = new Set<string>();
  for (const event of batch.events) if (event.accountId === undefined) missing.add(event.userId);
  if (missing.size === 0) return;
  // Links made in this very batch are already stored (upsert ran first), and accountOf reads consistently.
  const accounts = await entities.accountOf([...missing]);
  if (accounts.size === 0) return;
  for (const event of batch.events) {
    if (event.accountId !== undefined) continue;
    const accountId = accounts.get(event.userId);
    if (accountId !== undefined) event.accountId = accountId;
  }
}
