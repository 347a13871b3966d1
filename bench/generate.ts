import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { ScoringEvent } from '../shared/domain/event.js';
import { seededRandom } from '../shared/domain/random.js';

/**
 * Deterministic synthetic events for benchmarks: the same seed and options always give the same events, in the
 * same order, whether taken as objects or as JSONL text. Nothing here is random at run time (no Math.random).
 */

export interface GenerateOptions {
  seed?: number | undefined;
  /** How many events. */
  events: number;
  /** How many distinct users (ids `u0` … `u<n-1>`). */
  users: number;
  /** Users are grouped into this many accounts (`a0` …); 0 leaves accountId out. Default users / 10. */
  accounts?: number | undefined;
  /** End of the window (exclusive), epoch ms. */
  asOf: number;
  windowDays: number;
  /** Share of events dated before the window (still inside twice its length), to exercise the range check. */
  outOfWindowShare?: number | undefined;
  /** Give each event an explicit eventId (default true). Without, readers derive a content hash. */
  eventIds?: boolean | undefined;
  /**
   * How events pick their user: `skewed` (default; low ids are busier, some high ids get no event) or `cycle`
   * (event i belongs to user i mod users, so every user has an event once events ≥ users).
   */
  distribution?: 'skewed' | 'cycle' | undefined;
}

/** The event mix, roughly what a SaaS product sends: many logins and feature uses, few milestones. */
export const EVENT_MIX: ReadonlyArray<{ name: string; share: number }> = [
  { name: 'login', share: 0.3 },
  { name: 'feature_used', share: 0.25 },
  { name: 'session_ended', share: 0.15 },
  { name: 'core_feature_used', share: 0.1 },
  { name: 'project_created', share: 0.05 },
  { name: 'teammate_invited', share: 0.03 },
  { name: 'report_exported', share: 0.03 },
  { name: 'ticket_opened', share: 0.02 },
  { name: 'payment_failed', share: 0.01 },
  { name: 'page_viewed', share: 0.06 }, // matched by no signal: activity only
];

const DAY_MS = 86_400_000;

/** Events one at a time (constant memory): use for large runs. */
export function* generateEvents(options: GenerateOptions): Generator<ScoringEvent> {
  const random = seededRandom(options.seed ?? 42);
  const accounts = options.accounts ?? Math.max(1, Math.floor(options.users / 10));
  const windowMs = options.windowDays * DAY_MS;
  const outShare = options.outOfWindowShare ?? 0.1;
  const withIds = options.eventIds ?? true;
  const cumulative: number[] = [];
  let total = 0;
  for (const m of EVENT_MIX) {
    total += m.share;
    cumulative.push(total);
  }
  const seedTag = (options.seed ?? 42).toString(36);
  const cycle = options.distribution === 'cycle';
  for (let i = 0; i < options.events; i++) {
    // Mildly skewed activity: squaring a uniform makes low user ids busier.
    const r = random();
    const user = cycle ? i % options.users : Math.floor(r * r * options.users);
    const pick = random() * total;
    let k = 0;
    while (k < cumulative.length - 1 && pick >= cumulative[k]!) k++;
    const name = EVENT_MIX[k]!.name;
    const before = random() < outShare ? windowMs + random() * windowMs : random() * windowMs;
    const timestamp = options.asOf - 1 - Math.floor(before);
    let properties: Record<string, unknown> | undefined;
    if (name === 'session_ended') properties = { minutes: 1 + Math.floor(random() * 90) };
    else if (name === 'feature_used') properties = { tier: random() < 0.2 ? 'premium' : 'basic' };
    yield {
      eventId: withIds ? `e${seedTag}-${i}` : '',
      name,
      userId: `u${user}`,
      accountId: accounts > 0 ? `a${user % accounts}` : undefined,
      timestamp,
      properties,
    };
  }
}

/** All events in an array (pre-parsed input for engine throughput). */
export function generateEventArray(options: GenerateOptions): ScoringEvent[] {
  return Array.from(generateEvents(options));
}

/** One native event (docs/data-model.md#ingest-contract-details) as a JSONL line, timestamp as an ISO instant as clients send it. */
export function toJsonLine(e: ScoringEvent, withId = true): string {
  const parts: Record<string, unknown> = {};
  if (withId && e.eventId) parts.eventId = e.eventId;
  parts.name = e.name;
  parts.userId = e.userId;
  if (e.accountId !== undefined) parts.accountId = e.accountId;
  parts.timestamp = new Date(e.timestamp).toISOString();
  if (e.properties !== undefined) parts.properties = e.properties;
  return JSON.stringify(parts);
}

/** Write the generated events as a JSONL file; returns the byte size and event count. */
export async function writeJsonlFile(
  file: string,
  options: GenerateOptions,
): Promise<{ bytes: number; events: number }> {
  const out = createWriteStream(file, { encoding: 'utf8' });
  let buffer = '';
  let bytes = 0;
  let events = 0;
  for (const e of generateEvents(options)) {
    const line = `${toJsonLine(e, options.eventIds ?? true)}\n`;
    buffer += line;
    bytes += Buffer.byteLength(line);
    events++;
    if (buffer.length >= 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
  return { bytes, events };
}
