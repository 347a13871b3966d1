/**
 * Hand-written JSON scanning shared by the readers that take events straight from text or bytes without building
 * the objects JSON.parse would (the JSONL file reader, the DynamoDB Query page decoder). Two families: over a
 * decoded string (UTF-16 code units) and over UTF-8 bytes. Each function either proves what it read is exactly what
 * JSON.parse would read, or answers −1 so the caller falls back to JSON.parse.
 */

// Character codes (ASCII, so the same in a string and in UTF-8 bytes).
export const QUOTE = 34;
export const BACKSLASH = 92;
export const COMMA = 44;
export const COLON = 58;
export const OPEN_BRACE = 123;
export const CLOSE_BRACE = 125;
export const OPEN_BRACKET = 91;
export const CLOSE_BRACKET = 93;
export const MINUS = 45;

// ---- over strings ----

/** JSON whitespace: space, tab, line feed, carriage return. */
export function skipSpace(s: string, i: number): number {
  for (let c = s.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13; c = s.charCodeAt(++i));
  return i;
}

/** Index of the closing quote of a string starting at `i` with no escapes or control characters, else −1. */
export function plainStringEnd(s: string, i: number): number {
  for (let c = s.charCodeAt(i); ; c = s.charCodeAt(++i)) {
    if (c === QUOTE) return i;
    if (c === BACKSLASH || c < 32 || Number.isNaN(c)) return -1;
  }
}

/** Index of the closing quote of a string starting at `i`, escapes skipped (not checked); −1 if it never closes. */
export function stringEnd(s: string, i: number): number {
  for (let c = s.charCodeAt(i); ; c = s.charCodeAt(++i)) {
    if (c === QUOTE) return i;
    if (c === BACKSLASH) i++;
    else if (Number.isNaN(c)) return -1;
  }
}

/** End (exclusive) of a JSON number starting at `i` (-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?), else −1. */
export function numberEnd(s: string, i: number): number {
  if (s.charCodeAt(i) === MINUS) i++;
  let c = s.charCodeAt(i);
  if (c === 48) c = s.charCodeAt(++i);
  else if (c >= 49 && c <= 57) while (c >= 48 && c <= 57) c = s.charCodeAt(++i);
  else return -1;
  if (c === 46) {
    c = s.charCodeAt(++i);
    if (!(c >= 48 && c <= 57)) return -1;
    while (c >= 48 && c <= 57) c = s.charCodeAt(++i);
  }
  if (c === 101 || c === 69) {
    c = s.charCodeAt(++i);
    if (c === 43 || c === MINUS) c = s.charCodeAt(++i);
    if (!(c >= 48 && c <= 57)) return -1;
    while (c >= 48 && c <= 57) c = s.charCodeAt(++i);
  }
  return i;
}

/**
 * The end (exclusive) of the JSON value at `i`, checked only as far as needed to find it: strings and nesting
 * are followed, scalars run to the next delimiter. For text whose syntax something else checks anyway (the
 * caller parses the value, or hands the whole text to a parser that does).
 */
export function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) {
    const end = stringEnd(s, i + 1);
    return end < 0 ? -1 : end + 1;
  }
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    for (const n = s.length; i < n; i++) {
      const d = s.charCodeAt(i);
      if (d === QUOTE) {
        i = stringEnd(s, i + 1);
        if (i < 0) return -1;
      } else if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
      else if ((d === CLOSE_BRACE || d === CLOSE_BRACKET) && --depth === 0) return i + 1;
    }
    return -1;
  }
  let j = i;
  for (
    let d = s.charCodeAt(j);
    !Number.isNaN(d) && d !== COMMA && d !== CLOSE_BRACE && d !== CLOSE_BRACKET && d > 32;
    d = s.charCodeAt(++j)
  );
  return j > i ? j : -1;
}

/**
 * A slice of 13 or more characters shares the memory of the string it was cut from (a whole page or chunk). Ids
 * outlive their page (entity keys, the dedupe set), so they get their own copy rather than keep the page alive.
 */
export function ownCopy(s: string): string {
  return s.length < 13 ? s : `${s} `.slice(0, -1);
}

// ---- over UTF-8 bytes ----
// Every function reads bytes [i, n) only: n is the end of the line or value being read.

/** JSON whitespace in [i, n). */
export function skipSpaceBytes(b: Uint8Array, i: number, n: number): number {
  while (i < n) {
    const c = b[i]!;
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    i++;
  }
  return i;
}

/** Index of the closing quote of a string starting at `i` with no escapes or control characters, else −1. */
export function plainStringEndBytes(b: Uint8Array, i: number, n: number): number {
  for (; i < n; i++) {
    const c = b[i]!;
    if (c === QUOTE) return i;
    if (c === BACKSLASH || c < 32) return -1;
  }
  return -1;
}

const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;
/** The characters that may follow a backslash: " \ / b f n r t (u is checked with its four hex digits). */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;

/**
 * Index of the closing quote of a string starting at `i` (after its opening quote), every escape checked as
 * JSON.parse checks it, no raw control characters; −1 if the string is not valid JSON. Bytes ≥ 0x80 are taken as
 * they come: a UTF-8 decoder turns any invalid sequence into U+FFFD, which a JSON string may hold.
 */
export function validStringEndBytes(b: Uint8Array, i: number, n: number): number {
  for (; i < n; i++) {
    const c = b[i]!;
    if (c === QUOTE) return i;
    if (c < 32) return -1;
    if (c === BACKSLASH) {
      const e = b[++i] ?? 0;
      if (i >= n) return -1;
      if (e === 117 /* u */) {
        if (i + 4 >= n || !HEX[b[i + 1]!] || !HEX[b[i + 2]!] || !HEX[b[i + 3]!] || !HEX[b[i + 4]!]) return -1;
        i += 4;
      } else if (!SIMPLE_ESCAPE[e]) return -1;
    }
  }
  return -1;
}

/** End (exclusive) of a JSON number starting at `i`, else −1. */
export function numberEndBytes(b: Uint8Array, i: number, n: number): number {
  if (i < n && b[i] === MINUS) i++;
  let c = i < n ? b[i]! : -1;
  if (c === 48) c = ++i < n ? b[i]! : -1;
  else if (c >= 49 && c <= 57) while (c >= 48 && c <= 57) c = ++i < n ? b[i]! : -1;
  else return -1;
  if (c === 46) {
    c = ++i < n ? b[i]! : -1;
    if (!(c >= 48 && c <= 57)) return -1;
    while (c >= 48 && c <= 57) c = ++i < n ? b[i]! : -1;
  }
  if (c === 101 || c === 69) {
    c = ++i < n ? b[i]! : -1;
    if (c === 43 || c === MINUS) c = ++i < n ? b[i]! : -1;
    if (!(c >= 48 && c <= 57)) return -1;
    while (c >= 48 && c <= 57) c = ++i < n ? b[i]! : -1;
  }
  return i;
}

/** Whether bytes at `i` spell `word` (ASCII), within [i, n). */
export function matchesBytes(b: Uint8Array, i: number, n: number, word: string): boolean {
  if (i + word.length > n) return false;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return false;
  return true;
}

/** Nesting deeper than this is left to JSON.parse (a hand-written recursion must not exhaust the stack). */
export const MAX_SCAN_DEPTH = 64;

/**
 * End (exclusive) of the JSON value at `i`, the value checked as strictly as JSON.parse checks it but not built:
 * strings with their escapes, numbers by the grammar, literals, objects and arrays by their separators. −1 if
 * it is not valid JSON (or nests deeper than MAX_SCAN_DEPTH): then JSON.parse decides, and says why.
 */
export function skipValueBytes(b: Uint8Array, i: number, n: number, depth = 0): number {
  if (i >= n) return -1;
  const c = b[i]!;
  if (c === QUOTE) {
    const end = validStringEndBytes(b, i + 1, n);
    return end < 0 ? -1 : end + 1;
  }
  if (c === MINUS || (c >= 48 && c <= 57)) return numberEndBytes(b, i, n);
  if (c === OPEN_BRACE) {
    if (depth >= MAX_SCAN_DEPTH) return -1;
    i = skipSpaceBytes(b, i + 1, n);
    if (b[i] === CLOSE_BRACE && i < n) return i + 1;
    for (;;) {
      if (i >= n || b[i] !== QUOTE) return -1;
      i = validStringEndBytes(b, i + 1, n);
      if (i < 0) return -1;
      i = skipSpaceBytes(b, i + 1, n);
      if (i >= n || b[i] !== COLON) return -1;
      i = skipValueBytes(b, skipSpaceBytes(b, i + 1, n), n, depth + 1);
      if (i < 0) return -1;
      i = skipSpaceBytes(b, i, n);
      if (i >= n) return -1;
      const sep = b[i];
      if (sep === CLOSE_BRACE) return i + 1;
      if (sep !== COMMA) return -1;
      i = skipSpaceBytes(b, i + 1, n);
    }
  }
  if (c === OPEN_BRACKET) {
    if (depth >= MAX_SCAN_DEPTH) return -1;
    i = skipSpaceBytes(b, i + 1, n);
    if (b[i] === CLOSE_BRACKET && i < n) return i + 1;
    for (;;) {
      i = skipValueBytes(b, i, n, depth + 1);
      if (i < 0) return -1;
      i = skipSpaceBytes(b, i, n);
      if (i >= n) return -1;
      const sep = b[i];
      if (sep === CLOSE_BRACKET) return i + 1;
      if (sep !== COMMA) return -1;
      i = skipSpaceBytes(b, i + 1, n);
    }
  }
  if (c === 116 /* t */) return matchesBytes(b, i, n, 'true') ? i + 4 : -1;
  if (c === 102 /* f */) return matchesBytes(b, i, n, 'false') ? i + 5 : -1;
  if (c === 110 /* n */) return matchesBytes(b, i, n, 'null') ? i + 4 : -1;
  return -1;
}

// ---- keys ----

/**
 * A fixed list of object keys (ASCII), looked up straight from text or from bytes without building the key
 * string: `code[key]` is each key's number (its position, from 1), and a lookup answers it, or 0 for any other key.
 * A key written with escapes is not looked up here: the readers send such lines to JSON.parse.
 */
export class KeyTable<K extends string> {
  /** Each key's number: its position in the list, from 1. */
  readonly code: Readonly<Record<K, number>>;
  /** Key numbers by key length. */
  private readonly byLength: number[][] = [];

  constructor(readonly keys: readonly K[]) {
    const code = {} as Record<K, number>;
    keys.forEach((key, i) => {
      code[key] = i + 1;
      const sameLength = this.byLength[key.length] ?? [];
      sameLength.push(i + 1);
      this.byLength[key.length] = sameLength;
    });
    this.code = code;
  }

  /** The number of the key spelled by text[start, end), or 0. */
  ofText(s: string, start: number, end: number): number {
    const candidates = this.byLength[end - start];
    if (candidates === undefined) return 0;
    for (const number of candidates) if (s.startsWith(this.keys[number - 1]!, start)) return number;
    return 0;
  }

  /** The key of number `number` (from 1). */
  keyOf(number: number): K {
    return this.keys[number - 1]!;
  }

  /** The number of the key spelled by bytes [start, end) of `b`, or 0. */
  ofBytes(b: Uint8Array, start: number, end: number): number {
    const candidates = this.byLength[end - start];
    if (candidates === undefined) return 0;
    for (const number of candidates) if (matchesBytes(b, start, end, this.keys[number - 1]!)) return number;
    return 0;
  }
}
