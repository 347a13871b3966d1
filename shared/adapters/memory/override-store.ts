import type { StoredOverride } from '../../domain/override.js';
import type { EntityLevel } from '../../ports/event-store.js';
import type { OverrideStore } from '../../ports/override-store.js';

export class InMemoryOverrideStore implements OverrideStore {
  private readonly items = new Map<string, StoredOverride>();

  async put(override: StoredOverride): Promise<void> {
    this.items.set(key(override.entityType, override.entityId, override.model), structuredClone(override));
  }

  async get(entityType: EntityLevel, entityId: string, model: string): Promise<StoredOverride | undefined> {
    const found = this.items.get(key(entityType, entityId, model));
    return found ? structuredClone(found) : undefined;
  }

  async list(model: string): Promise<StoredOverride[]> {
    return [...this.items.values()].filter((o) => o.model === model).map((o) => structuredClone(o));
  }

  async delete(entityType: EntityLevel, entityId: string, model: string): Promise<boolean> {
    return this.items.delete(key(entityType, entityId, model));
  }
}

const key = (type: string, id: string, model: string) => `${model}\u0000${type}\u0000${id}`;
