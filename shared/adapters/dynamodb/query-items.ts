import type { ScoringEvent } from '../../domain/event.js';
import { KeyTable, ownCopy as own, plainStringEnd, skipSpace, skipValue, stringEnd } from '../../json/scan.js';
import { eventIdOfSortKey } from './keys.js';

/**
 * Reading events is the workers' hot path: a 1 MB Query page holds about 4,000 items. Through the SDK each item
 * is parsed by JSON.parse into a dozen small objects, copied once more by the SDK's schema walk, then read into an
 * event: most of a worker's time and garbage. `decodeQueryItems` reads the events straight from the response text
 * instead, for the pages the events table returns (every attribute `{"S": ...}` or `{"N": ...}`), and hands the SDK
 * the body with `Items` emptied so it still decodes everything else (LastEvaluatedKey, Count, ...). It gives
 * exactly what `eventFromItem` gives for the same items; anything unusual (another attribute type, bad syntax)
 * returns undefined and the SDK decodes the page as usual.
 */
export interface DecodedQueryPage {
  events: ScoringEvent[];
  /** The response body with its Items array replaced by `[]`. */
  rest: string;
}

export function decodeQueryItems(text: string): DecodedQueryPage | undefined {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== 123 /* { */) return undefined;
  i = skipSpace(text, i + 1);
  let events: ScoringEvent[] | undefined;
  let itemsStart = -1;
  let itemsEnd = -1;
  if (text.charCodeAt(i) === 125 /* } */) return undefined;
  for (;;) {
    if (text.charCodeAt(i) !== 34 /* " */) return undefined;
    const keyEnd = plainStringEnd(text, i + 1);
    if (keyEnd < 0) return undefined;
    const isItems = keyEnd - i - 1 === 5 && text.startsWith('Items', i + 1);
    i = skipSpace(text, keyEnd + 1);
    if (text.charCodeAt(i) !== 58 /* : */) return undefined;
    i = skipSpace(text, i + 1);
    if (isItems) {
      if (events !== undefined) return undefined; // twice: leave it to the SDK
      events = [];
      itemsStart = i;
      i = readItems(text, i, events);
      if (i < 0) return undefined;
      itemsEnd = i;
    } else {
      i = skipValue(text, i);
      if (i < 0) return undefined;
    }
    i = skipSpace(text, i);
    const c = text.charCodeAt(i);
    if (c === 44 /* , */) {
      i = skipSpace(text, i + 1);
      continue;
    }
    if (c === 125 && skipSpace(text, i + 1) === text.length) break;
    return undefined;
  }
  if (events === undefined) return undefined;
  return { events, rest: `${text.slice(0, itemsStart)}[]${text.slice(itemsEnd)}` };
}

/** Items from the `[` at `i`; returns the index after the closing `]`, or −1. */
function readItems(text: string, i: number, out: ScoringEvent[]): number {
  if (text.charCodeAt(i) !== 91 /* [ */) return -1;
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) === 93 /* ] */) return i + 1;
  for (;;) {
    i = readItem(text, i, out);
    if (i < 0) return -1;
    i = skipSpace(text, i);
    const c = text.charCodeAt(i);
    if (c === 44) {
      i = skipSpace(text, i + 1);
      continue;
    }
    return c === 93 ? i + 1 : -1;
  }
}

/** Attribute names of the events table (see eventItem). */
const ATTRIBUTES = new KeyTable(['sk', 'n', 'u', 'a', 't', 'p']);
const { sk: SK, n: NAME, u: USER, a: ACCOUNT, t: TS } = ATTRIBUTES.code;
const OTHER = 0;

/** Where the value read by the last readAttribute call ended. */
let attributeEnd = 0;

/** One item from the `{` at `i` into `out`; returns the index after its `}`, or −1. */
function readItem(text: string, i: number, out: ScoringEvent[]): number {
  if (text.charCodeAt(i) !== 123) return -1;
  let eventId: string | undefined;
  let name: string | undefined;
  let userId: string | undefined;
  let accountId: string | undefined;
  let ts: string | undefined;
  let props: string | undefined;
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) !== 125) {
    for (;;) {
      if (text.charCodeAt(i) !== 34) return -1;
      const keyEnd = plainStringEnd(text, i + 1);
      if (keyEnd < 0) return -1;
      const attribute = ATTRIBUTES.ofText(text, i + 1, keyEnd);
      i = skipSpace(text, keyEnd + 1);
      if (text.charCodeAt(i) !== 58) return -1;
      i = skipSpace(text, i + 1);
      if (attribute === OTHER) {
        i = skipValue(text, i);
        if (i < 0) return -1;
      } else {
        const value = readAttribute(text, i, attribute === TS ? 78 /* N */ : 83 /* S */);
        if (value === undefined) return -1;
        i = attributeEnd;
        // A repeated name: the last one wins, as in JSON.parse.
        if (attribute === SK) eventId = value;
        else if (attribute === NAME) name = value;
        else if (attribute === USER) userId = value;
        else if (attribute === ACCOUNT) accountId = value;
        else if (attribute === TS) ts = value;
        else props = value;
      }
      i = skipSpace(text, i);
      const c = text.charCodeAt(i);
      if (c === 44) {
        i = skipSpace(text, i + 1);
        continue;
      }
      if (c === 125) break;
      return -1;
    }
  }
  let properties: Record<string, unknown> | undefined;
  if (props !== undefined) {
    try {
      properties = JSON.parse(props) as Record<string, unknown>;
    } catch {
      return -1; // the SDK path then fails the same way eventFromItem always did
    }
  }
  // The same values and the same object shape as eventFromItem.
  out.push({
    eventId: eventIdOfSortKey(eventId ?? '', userId ?? ''),
    name: name ?? '',
    userId: userId ?? '',
    accountId,
    timestamp: Number(ts),
    properties,
  });
  return i + 1;
}

/**
 * `{"S":"…"}` (or `{"N":"…"}` when `type` is N) at `i`: the string, with `attributeEnd` after the closing brace.
 * Any other shape gives undefined (the SDK then decodes the page; eventFromItem would read another type as absent).
 */
function readAttribute(text: string, i: number, type: number): string | undefined {
  if (text.charCodeAt(i) !== 123) return undefined;
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) !== 34 || text.charCodeAt(i + 1) !== type || text.charCodeAt(i + 2) !== 34) return undefined;
  i = skipSpace(text, i + 3);
  if (text.charCodeAt(i) !== 58) return undefined;
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) !== 34) return undefined;
  let value: string;
  const end = plainStringEnd(text, i + 1);
  if (end >= 0) {
    value = own(text.slice(i + 1, end));
    i = end + 1;
  } else {
    // Escapes (properties are JSON text, so usually): let JSON.parse read the string literal.
    const close = stringEnd(text, i + 1);
    if (close < 0) return undefined;
    try {
      value = JSON.parse(text.slice(i, close + 1)) as string;
    } catch {
      return undefined;
    }
    i = close + 1;
  }
  i = skipSpace(text, i);
  if (text.charCodeAt(i) !== 125) return undefined;
  attributeEnd = i + 1;
  return value;
}
