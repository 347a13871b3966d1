import type { EntityStore } from '../ports/entity-store.js';
import type { EventStore } from '../ports/event-store.js';
import type { NormalisedBatch } from './batch.js';
import type { RejectedEvent } from './errors.js';

export interface IngestStores {
  events: EventStore;
  entities: EntityStore;
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
  if (batch.traits.length > 0) await stores.entities.upsert(batch.traits);

  let stored = 0;
  let duplicates = 0;
  if (batch.events.length > 0) {
    await assignAccounts(stores.entities, batch);
    const result = await stores.events.putEvents(batch.events);
    stored = result.stored;
    duplicates = result.duplicates;
  }
  return { accepted: stored + batch.traitMessages, duplicates, rejected: batch.rejected };
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
