import type { ScoringEvent } from '../../domain/event.js';

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

// Attribute names of the events table (see eventItem): sk, n, u, a, t, p.
const SK = 1;
const NAME = 2;
const USER = 3;
const ACCOUNT = 4;
const TS = 5;
const PROPS = 6;
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
      const attribute = attributeOf(text, i + 1, keyEnd);
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
    eventId: eventId ?? '',
    name: name ?? '',
    userId: userId ?? '',
    accountId,
    timestamp: Number(ts),
    properties,
  });
  return i + 1;
}

function attributeOf(text: string, start: number, end: number): number {
  const c = text.charCodeAt(start);
  if (end - start === 1) {
    if (c === 110 /* n */) return NAME;
    if (c === 117 /* u */) return USER;
    if (c === 97 /* a */) return ACCOUNT;
    if (c === 116 /* t */) return TS;
    if (c === 112 /* p */) return PROPS;
    return OTHER;
  }
  if (end - start === 2 && c === 115 /* s */ && text.charCodeAt(start + 1) === 107 /* k */) return SK;
  return OTHER;
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

/**
 * A slice of 13 or more characters shares the memory of the string it was cut from: here a whole 1 MB page.
 * Ids outlive their page (entity keys), so they get their own copy rather than keep every page alive.
 */
function own(s: string): string {
  return s.length < 13 ? s : `${s} `.slice(0, -1);
}

/** JSON whitespace: space, tab, line feed, carriage return. */
function skipSpace(s: string, i: number): number {
  for (let c = s.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13; c = s.charCodeAt(++i));
  return i;
}

/** Index of the closing quote of a string starting at `i` with no escapes or control characters, else −1. */
function plainStringEnd(s: string, i: number): number {
  for (let c = s.charCodeAt(i); ; c = s.charCodeAt(++i)) {
    if (c === 34) return i;
    if (c === 92 || c < 32 || Number.isNaN(c)) return -1;
  }
}

/** Index of the closing quote of a string starting at `i`, escapes skipped; −1 if it never closes. */
function stringEnd(s: string, i: number): number {
  for (let c = s.charCodeAt(i); ; c = s.charCodeAt(++i)) {
    if (c === 34) return i;
    if (c === 92) i++;
    else if (Number.isNaN(c)) return -1;
  }
}

/**
 * The end (exclusive) of the JSON value at `i`, checked only as far as needed to find it: strings and nesting
 * are followed, scalars run to the next delimiter. The SDK parses these values (the rest of the body) itself, so
 * anything malformed still fails there, with its own error.
 */
function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 34) {
    const end = stringEnd(s, i + 1);
    return end < 0 ? -1 : end + 1;
  }
  if (c === 123 || c === 91) {
    let depth = 0;
    for (const n = s.length; i < n; i++) {
      const d = s.charCodeAt(i);
      if (d === 34) {
        i = stringEnd(s, i + 1);
        if (i < 0) return -1;
      } else if (d === 123 || d === 91) depth++;
      else if ((d === 125 || d === 93) && --depth === 0) return i + 1;
    }
    return -1;
  }
  let j = i;
  for (let d = s.charCodeAt(j); !Number.isNaN(d) && d !== 44 && d !== 125 && d !== 93 && d > 32; d = s.charCodeAt(++j));
  return j > i ? j : -1;
}
