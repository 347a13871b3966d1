/**
 * One event as a reader holds it after reading a line, for `ScoringRun.addFields`: the fields of a ScoringEvent,
 * already checked as the schema checks them, with no object built per event. A byte reader implements it on
 * itself and overwrites it line by line, so a run reads it at once and keeps none of it but strings.
 *
 * Keys: a reader that interns its strings gives each one a dense number (0, 1, 2, … in the order first seen),
 * the same number for the same string, every time, within one `keySpace`. A run then finds an entity's row or an
 * event name's signals by that number in an array instead of hashing the string again. A key of −1 says the
 * string has none (not interned); the run then looks the string up. User ids and account ids are numbered
 * separately, and a reader gives a key when first asked for it: a run that asks for the key of each event's
 * entity in turn sees keys 0, 1, 2, … in the order it makes rows, and can use a key as its row with no table.
 *
 * `userId` and `accountId` may be getters that look the string up from its key: a run reads them only when it
 * needs the string (a new entity, a newer account, a distinctUsers signal), so most events cost no lookup.
 */
export interface EventFields {
  readonly name: string;
  /** Key of `name` among the key space's names, or −1. */
  readonly nameKey: number;
  readonly userId: string;
  /** Key of `userId` among the key space's user ids, or −1. */
  readonly userKey: number;
  readonly accountId: string | undefined;
  /** Key of `accountId` among the key space's account ids, or −1 (also when there is no accountId). */
  readonly accountKey: number;
  /** Epoch ms. */
  readonly timestamp: number;
  readonly properties: Record<string, unknown> | undefined;
  /** What the keys number: a run trusts a key only while this stays the same object. */
  readonly keySpace: object;
  /**
   * The ids as ASCII bytes of `bytes` for the dedupe set (EventIdSet.addAscii): user id [userStart, userEnd), event
   * id [idStart, idEnd). An end of −1 means that id is not at hand as ASCII bytes: use `userId` or `eventIdText()`.
   */
  readonly bytes: Uint8Array;
  readonly userStart: number;
  readonly userEnd: number;
  readonly idStart: number;
  readonly idEnd: number;
  /**
   * The account id as ASCII bytes [accountStart, accountEnd) of `bytes`, without looking it up; an end of −1 means
   * no account, or one not at hand as ASCII bytes (use `accountId`).
   */
  readonly accountStart: number;
  readonly accountEnd: number;
  /** The event id (the one given, or the content id of an event without one) as a string. */
  eventIdText(): string;
  /**
   * Read the memory that finding `userKey` will read first, and return it (a number with no meaning): a run calls
   * this for a whole batch before it asks for the keys, so the processor waits for those cache misses once,
   * overlapped, instead of once per event.
   */
  touchUserKey(): number;
}
