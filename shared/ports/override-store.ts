import type { StoredOverride } from '../domain/override.js';
import type { EntityLevel } from './event-store.js';

/**
 * Manual overrides, one per (entity, model). Expired ones may linger until the store's TTL removes them: readers
 * check `expiresAt` (domain `isActive`).
 */
export interface OverrideStore {
  put(override: StoredOverride): Promise<void>;
  get(entityType: EntityLevel, entityId: string, model: string): Promise<StoredOverride | undefined>;
  /** Every override of a model (active or not yet removed), any order. */
  list(model: string): Promise<StoredOverride[]>;
  /** True when there was one. */
  delete(entityType: EntityLevel, entityId: string, model: string): Promise<boolean>;
}
