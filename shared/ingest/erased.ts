import type { ErasedCheck } from '../erasure/tombstones.js';
import type { NormalisedBatch } from './batch.js';
import type { FieldError, RejectedEvent } from './errors.js';

const ERASED =
  'was erased (a data-subject request): new data about it is refused until its tombstone is lifted (docs/api.md#erasure)';

/**
 * Take out of the batch every message about an erased user or account (docs/api.md#erasure) and reject it by index,
 * naming `userId` (events and user traits) or `groupId` (account traits). Events that only carry an erased account
 * as their `accountId` are the user's data and are kept.
 */
export async function refuseErased(check: ErasedCheck, batch: NormalisedBatch): Promise<void> {
  const userIds = new Set<string>();
  const accountIds = new Set<string>();
  for (const event of batch.events) userIds.add(event.userId);
  for (const update of batch.traits) (update.entityType === 'user' ? userIds : accountIds).add(update.entityId);
  const [users, accounts] = await Promise.all([
    userIds.size > 0 ? check.erased('user', userIds) : new Set<string>(),
    accountIds.size > 0 ? check.erased('account', accountIds) : new Set<string>(),
  ]);
  if (users.size === 0 && accounts.size === 0) return;

  const refused = new Map<number, FieldError[]>();
  const refuse = (index: number, path: string) => {
    const errors = refused.get(index) ?? [];
    if (!errors.some((e) => e.path === path)) errors.push({ path, message: ERASED });
    refused.set(index, errors);
  };
  const eventIndex = batch.events.map((_, i) => batch.eventIndex?.[i] ?? i);
  const traitIndex = batch.traits.map((_, i) => batch.traitIndex?.[i] ?? i);
  batch.events.forEach((event, i) => {
    if (users.has(event.userId)) refuse(eventIndex[i]!, 'userId');
  });
  batch.traits.forEach((update, i) => {
    if (update.entityType === 'user' ? users.has(update.entityId) : accounts.has(update.entityId))
      refuse(traitIndex[i]!, update.entityType === 'user' ? 'userId' : 'groupId');
  });

  // A refused message loses everything it carried (its event and all its trait updates).
  const keptEvents = batch.events.flatMap((e, i) => (refused.has(eventIndex[i]!) ? [] : [{ e, at: eventIndex[i]! }]));
  batch.events = keptEvents.map((k) => k.e);
  batch.eventIndex = keptEvents.map((k) => k.at);
  const refusedTraitMessages = new Set<number>();
  const keptTraits = batch.traits.flatMap((t, i) => {
    if (!refused.has(traitIndex[i]!)) return [{ t, at: traitIndex[i]! }];
    refusedTraitMessages.add(traitIndex[i]!);
    return [];
  });
  batch.traits = keptTraits.map((k) => k.t);
  batch.traitIndex = keptTraits.map((k) => k.at);
  batch.traitMessages -= refusedTraitMessages.size;
  const rejections: RejectedEvent[] = [...refused].map(([index, errors]) => ({ index, errors }));
  batch.rejected = [...batch.rejected, ...rejections].sort((a, b) => a.index - b.index);
}
