import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DateTime } from 'luxon';
import { chunk } from '../domain/chunk.js';
import { PulseError } from '../domain/errors.js';
import { seededRandom } from '../domain/random.js';
import { DAY_MS } from '../domain/time.js';
import { writePrivateFile } from './data-dir.js';
import type { LocalStack } from './stack.js';

/**
 * The demo data set of `npm start -- --demo`: a B2B product with accounts on three plans, their admins and
 * members, trials and paying customers, and 60 days of events in which some accounts stay healthy, some decline
 * and some churn (stop) — generated from a fixed seed, so every machine gets the same data (relative to today).
 * It goes in through the real ingest routes, then every model is backfilled over a few days and run as of
 * yesterday, so scores, trends, bands and alerts all exist.
 */

export interface DemoOptions {
  writeKey: string;
  log?: ((line: string) => void) | undefined;
  /** Start of "today" (UTC, epoch ms); default the real today. */
  today?: number | undefined;
  accounts?: number | undefined;
  /** Dates backfilled before the final run (default 2). */
  backfillDays?: number | undefined;
  /** Aborted when the server stops: the load stops at its next safe point (docs/local-mode.md#stopping). */
  signal?: AbortSignal | undefined;
}

/** The demo stopped at a safe point because the server is stopping; `npm start -- --demo` resumes it. */
export class DemoStoppedError extends PulseError {
  constructor(readonly phase: 'loading' | 'scoring') {
    super(
      phase === 'loading'
        ? 'the demo load stopped at a safe point; `npm start -- --demo` resumes it'
        : 'the demo runs stopped; `npm start -- --demo` runs the models again',
      { kind: 'unavailable', status: 503 },
    );
    this.name = 'DemoStoppedError';
  }
}

export interface DemoAccount {
  id: string;
  plan: 'starter' | 'pro' | 'enterprise';
  lifecycle: 'trial' | 'customer';
  cohort: 'healthy' | 'declining' | 'churning' | 'activating';
  users: { id: string; role: 'admin' | 'member' }[];
  /** Days before today the account's activity starts (trials are young) and, for churners, stops. */
  startDay: number;
  stopDay: number;
}

export interface DemoData {
  accounts: DemoAccount[];
  /** Segment identify and group messages (traits). */
  messages: Record<string, unknown>[];
  /** One outcome per paying account (docs/local-mode.md#demo-outcomes). */
  outcomes: DemoOutcome[];
  /** Native events (docs/api.md). */
  events: {
    eventId: string;
    name: string;
    userId: string;
    accountId: string;
    timestamp: string;
    properties?: Record<string, unknown>;
  }[];
}

export interface DemoOutcome {
  accountId: string;
  outcome: 'churned' | 'retained';
  /** YYYY-MM-DD: yesterday, the day the outcome was observed. */
  outcomeDate: string;
}

export const DEMO_DAYS = 60;
const DEMO_SEED = 20_260_301;
/** The horizon the banner's calibrate command uses: score each account a week before its outcome. */
export const DEMO_HORIZON_DAYS = 7;
/**
 * Chance a paying account of each cohort churned: behaviour drives churn, but not perfectly (healthy accounts
 * sometimes leave for reasons the events cannot show, declining ones are sometimes saved).
 */
const CHURN_CHANCE: Record<DemoAccount['cohort'], number> = {
  healthy: 0.08,
  activating: 0.15,
  declining: 0.55,
  churning: 0.9,
};

const pad = (n: number, width = 3) => String(n).padStart(width, '0');

/** Generate the demo data set for the 60 days before `today` (UTC midnight, epoch ms). */
export function generateDemoData(today: number, accountCount = 200): DemoData {
  const random = seededRandom(DEMO_SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const accounts: DemoAccount[] = [];
  const messages: Record<string, unknown>[] = [];
  const events: DemoData['events'] = [];
  const traitsAt = new Date(today - DEMO_DAYS * DAY_MS - DAY_MS).toISOString();

  for (let a = 1; a <= accountCount; a++) {
    const id = `acct-${pad(a)}`;
    const r = random();
    const lifecycle = r < 0.25 ? 'trial' : 'customer';
    const cohort: DemoAccount['cohort'] =
      lifecycle === 'trial'
        ? pick(['healthy', 'declining', 'activating', 'churning'] as const)
        : r < 0.6
          ? 'healthy'
          : r < 0.8
            ? 'declining'
            : 'churning';
    const plan = lifecycle === 'trial' ? 'starter' : pick(['starter', 'pro', 'pro', 'enterprise'] as const);
    const size = plan === 'enterprise' ? between(4, 7) : between(1, 4);
    const users = Array.from({ length: size }, (_, i) => ({
      id: `${id}-u${i + 1}`,
      role: (i === 0 ? 'admin' : 'member') as 'admin' | 'member',
    }));
    const startDay = lifecycle === 'trial' ? between(4, 13) : DEMO_DAYS;
    const stopDay = cohort === 'churning' ? between(2, Math.min(startDay - 1, 20)) : 0;
    accounts.push({ id, plan, lifecycle, cohort, users, startDay, stopDay });

    messages.push({
      type: 'group',
      messageId: `demo-group-${id}`,
      userId: users[0]!.id,
      groupId: id,
      traits: { plan, name: `Account ${pad(a)}` },
      timestamp: traitsAt,
    });
    for (const user of users) {
      messages.push({
        type: 'identify',
        messageId: `demo-identify-${user.id}`,
        userId: user.id,
        traits: { lifecycle, role: user.role },
        timestamp: traitsAt,
      });
      messages.push({
        type: 'group',
        messageId: `demo-group-${user.id}`,
        userId: user.id,
        groupId: id,
        timestamp: traitsAt,
      });
    }

    let n = 0;
    const emit = (user: string, name: string, day: number, properties?: Record<string, unknown>) => {
      const timestamp = today - day * DAY_MS + between(7, 20) * 3_600_000 + between(0, 3599) * 1000;
      events.push({
        eventId: `demo-${user}-${pad(++n, 5)}`,
        name,
        userId: user,
        accountId: id,
        timestamp: new Date(timestamp).toISOString(),
        ...(properties ? { properties } : {}),
      });
    };

    for (let day = startDay; day >= 1; day--) {
      // Chance a user is active that day, by cohort: steady, fading, stopped, or waking up near the end.
      const progress = 1 - day / startDay;
      const pActive =
        cohort === 'healthy'
          ? 0.6
          : cohort === 'declining'
            ? 0.65 * (1 - progress) + 0.05
            : cohort === 'churning'
              ? day > stopDay
                ? 0.5
                : 0
              : day <= 3
                ? 0.95
                : 0.15;
      for (const { id: user, role } of users) {
        if (random() >= pActive) continue;
        if (lifecycle === 'trial') {
          emit(user, 'login', day);
          if (random() < 0.3) emit(user, 'post_created', day);
          if (random() < (cohort === 'activating' && day <= 3 ? 1 : 0.2)) {
            const posts = cohort === 'activating' && day <= 3 ? between(3, 5) : 1;
            for (let i = 0; i < posts; i++) emit(user, 'post_scheduled', day);
          }
          if (day === startDay && role === 'admin') emit(user, 'social_account_linked', day);
          if (random() < 0.05) emit(user, 'teammate_invited', day);
          continue;
        }
        emit(user, 'login', day);
        const uses = between(0, role === 'admin' ? 3 : 2);
        for (let i = 0; i < uses; i++) emit(user, 'core_feature_used', day);
        if (random() < 0.12) emit(user, 'project_created', day);
        if (random() < (role === 'admin' ? 0.15 : 0.05)) emit(user, 'report_exported', day);
        if (random() < 0.4) emit(user, 'session_ended', day, { minutes: between(5, 90) });
        if (random() < 0.02) emit(user, 'teammate_invited', day);
        if (cohort !== 'healthy' && random() < 0.03) emit(user, 'ticket_opened', day);
      }
      // Declining accounts start failing payments in the last days: drops and band changes on the final run.
      if (cohort === 'declining' && lifecycle === 'customer' && day === 1 && random() < 0.5) {
        for (let i = 0; i < 3; i++) emit(users[0]!.id, 'payment_failed', day);
      }
    }
  }
  return { accounts, messages, events, outcomes: demoOutcomes(accounts, today) };
}

/**
 * Outcomes of the paying accounts as seen yesterday, drawn from their cohort (CHURN_CHANCE) with a seed of their
 * own, so the events stay the same whether or not outcomes are made.
 */
export function demoOutcomes(accounts: readonly DemoAccount[], today: number): DemoOutcome[] {
  const random = seededRandom(DEMO_SEED + 1);
  const outcomeDate = new Date(today - DAY_MS).toISOString().slice(0, 10);
  return accounts
    .filter((a) => a.lifecycle === 'customer')
    .map((a) => ({
      accountId: a.id,
      outcome: random() < CHURN_CHANCE[a.cohort] ? ('churned' as const) : ('retained' as const),
      outcomeDate,
    }));
}

/** The outcomes file `pulse calibrate --outcomes` reads. */
export function outcomesCsv(outcomes: readonly DemoOutcome[]): string {
  const rows = outcomes.map((o) => `account,${o.accountId},${o.outcome},${o.outcomeDate}`);
  return `${['entity_type,entity_id,outcome,outcome_date', ...rows].join('\n')}\n`;
}

/** Where the demo writes its outcomes: `<data dir>/demo/outcomes.csv`. */
export function demoOutcomesFile(dataDir: string): string {
  return join(dataDir, 'demo', 'outcomes.csv');
}

/** The command that calibrates the demo's account model against its outcomes (printed by npm start -- --demo). */
export function demoCalibrateCommand(shownDataDir: string): string {
  return `npx pulse calibrate --model account --outcomes ${join(shownDataDir, 'demo', 'outcomes.csv')} --horizon-days ${DEMO_HORIZON_DAYS}`;
}

async function post(
  stack: LocalStack,
  writeKey: string,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const response = await stack.app.request(path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
    },
    body: JSON.stringify(body),
  });
  const result = (await response.json()) as Record<string, unknown>;
  if (response.status >= 300)
    throw new Error(`${path} answered ${response.status}: ${JSON.stringify(result).slice(0, 300)}`);
  return result;
}

/**
 * `demo.json`: what was loaded, on which day. While loading (`status: "loading"`) it also records how far the load
 * got, so a stopped load resumes with the same data (same day, same ids) where it stopped; markers without a
 * status were written by complete loads.
 */
interface DemoMarker {
  today: string;
  accounts: number;
  events: number;
  status?: 'loading' | 'loaded' | undefined;
  /** Identify/group messages all stored. */
  messagesLoaded?: boolean | undefined;
  /** Event batches (of EVENT_BATCH events, in order) stored and acknowledged. */
  eventBatchesLoaded?: number | undefined;
}

const EVENT_BATCH = 500;

/** The demo marker of a data dir, if any (docs/local-mode.md#the-demo). */
export function readDemoMarker(dataDir: string): DemoMarker | undefined {
  const file = join(dataDir, 'demo.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DemoMarker) : undefined;
}

/** Load the demo (once per data dir), run every model, and return a band summary to print. */
export async function runDemo(stack: LocalStack, options: DemoOptions): Promise<string> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const today = options.today ?? DateTime.utc().startOf('day').toMillis();
  const markerFile = join(stack.dataDir, 'demo.json');
  const marker = readDemoMarker(stack.dataDir);
  const stopAtSafePoint = (phase: DemoStoppedError['phase']) => {
    if (options.signal?.aborted) throw new DemoStoppedError(phase);
  };

  const outcomesFile = demoOutcomesFile(stack.dataDir);
  if (marker && marker.status !== 'loading') {
    log(`Demo data already loaded (${marker.accounts} accounts, ${marker.events} events, on ${marker.today}).`);
    if (!existsSync(outcomesFile)) {
      // Outcomes belong to the day the demo was loaded: its accounts and cohorts.
      const loadedOn = Date.parse(`${marker.today}T00:00:00Z`);
      writeDemoOutcomes(outcomesFile, generateDemoData(loadedOn, marker.accounts).outcomes);
    }
  } else {
    // A stopped load resumes with the data of the day it started, so ids (and so deduplication) match.
    const loadDay = marker ? Date.parse(`${marker.today}T00:00:00Z`) : today;
    const data = generateDemoData(loadDay, marker?.accounts ?? options.accounts);
    const progress: DemoMarker = {
      today: new Date(loadDay).toISOString().slice(0, 10),
      accounts: data.accounts.length,
      events: data.events.length,
      status: 'loading',
      messagesLoaded: marker?.messagesLoaded ?? false,
      eventBatchesLoaded: marker?.eventBatchesLoaded ?? 0,
    };
    const save = () => writePrivateFile(markerFile, `${JSON.stringify(progress, null, 2)}\n`);
    save();
    writeDemoOutcomes(outcomesFile, data.outcomes);
    const users = data.accounts.reduce((n, a) => n + a.users.length, 0);
    const batches = chunk(data.events, EVENT_BATCH);
    if (marker) {
      log(
        `Resuming the demo load stopped earlier (${progress.eventBatchesLoaded} of ${batches.length} event batches were stored)…`,
      );
    } else {
      log(
        `Loading the demo: ${data.accounts.length} accounts, ${users} users, ${data.events.length} events over ${DEMO_DAYS} days…`,
      );
    }
    if (!progress.messagesLoaded) {
      for (const batch of chunk(data.messages, EVENT_BATCH)) {
        stopAtSafePoint('loading');
        await post(stack, options.writeKey, '/v1/batch', { batch });
      }
      progress.messagesLoaded = true;
      save();
    }
    const parallel = 2;
    for (let i = progress.eventBatchesLoaded ?? 0; i < batches.length; i += parallel) {
      stopAtSafePoint('loading');
      await Promise.all(
        batches.slice(i, i + parallel).map((events) => post(stack, options.writeKey, '/v1/events', { events })),
      );
      progress.eventBatchesLoaded = Math.min(batches.length, i + parallel);
      save();
    }
    progress.status = 'loaded';
    save();
    log(`  ingested in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  const yesterday = new Date(today - DAY_MS).toISOString().slice(0, 10);
  const backfillDays = options.backfillDays ?? 2;
  const from = new Date(today - (backfillDays + 1) * DAY_MS).toISOString().slice(0, 10);
  const to = new Date(today - 2 * DAY_MS).toISOString().slice(0, 10);
  for (const { model } of stack.models) {
    const t0 = Date.now();
    stopAtSafePoint('scoring');
    const backfill = await stack.runner.backfill({ model: model.name, from, to });
    stopAtSafePoint('scoring');
    if (backfill.status !== 'succeeded') throw new Error(`backfill of ${model.name} failed: ${backfill.error}`);
    const run = await stack.runner.run({ model: model.name, asOf: yesterday });
    stopAtSafePoint('scoring');
    if (run.status !== 'succeeded') throw new Error(`run of ${model.name} failed: ${run.error}`);
    log(
      `  ${model.name}: backfilled ${from}…${to}, scored ${run.counts.entities} entities as of ${yesterday} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  stopAtSafePoint('scoring');
  return `${await bandSummary(stack)}\nDemo ready in ${((Date.now() - started) / 1000).toFixed(1)} s.`;
}

function writeDemoOutcomes(file: string, outcomes: readonly DemoOutcome[]): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writePrivateFile(file, outcomesCsv(outcomes));
}

/** Entities per band of each model, and alerts of the last run, as a small text table. */
export async function bandSummary(stack: LocalStack): Promise<string> {
  const lines = ['', 'Bands (entities per band, highest first):'];
  for (const { model } of stack.models) {
    const bands = model.bands.map((b) => b.name);
    const counts: string[] = [];
    for (const band of [...bands].reverse()) {
      let n = 0;
      let cursor: string | undefined;
      do {
        const page = await stack.runDeps.scores.list({ model: model.name, bands, band, limit: 1000, cursor });
        n += page.items.length;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      counts.push(`${band} ${n}`);
    }
    lines.push(`  ${model.name.padEnd(10)} ${counts.join(' · ')}`);
  }
  const since = new Date(Date.now() - 7 * DAY_MS).toISOString();
  const alerts = await stack.runDeps.alertStore.list({
    since,
    models: stack.models.map((m) => m.model.name),
    limit: 1000,
  });
  const byType = new Map<string, number>();
  for (const alert of alerts.items) byType.set(alert.type, (byType.get(alert.type) ?? 0) + 1);
  lines.push(
    `Alerts: ${[...byType].map(([type, n]) => `${type} ${n}`).join(' · ') || 'none'}${alerts.nextCursor ? ' (and more)' : ''}`,
  );
  return lines.join('\n');
}
