import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../../shared/domain/random.js';

/**
 * Synthetic users with a known generating process: engaged users are less likely to churn.
 *
 * Each user has a login rate, a project count and a support-ticket count in the 30 days before their as-of
 * (outcome date − 30 days). The outcome is drawn with P(good) = sigmoid(a + 0.1·logins + 0.4·projects − 1.0·tickets)
 * on the realised counts. Good users also log in between the as-of and the outcome, and everyone gets a
 * `renewal_call` after the as-of: a score that peeked past its as-of would look better than the truth.
 */
export const TRUE_EFFECTS = { logins: 0.1, projects: 0.4, tickets: -1.0 } as const;
export const OUTCOME_DATES = ['2026-03-31', '2026-04-15', '2026-04-30'] as const;
const DAY = 86_400_000;

export interface SyntheticData {
  eventsFile: string;
  outcomesFile: string;
  /** A model whose weights are proportional to the true effects (score = 10 × linear predictor − const). */
  goodModelFile: string;
  /** The same signals with every sign flipped. */
  badModelFile: string;
  /** Expected AUC of the true score given the generating probabilities (ties half). */
  trueAuc: number;
  users: number;
  good: number;
}

export function modelYaml(name: string, weights: { logins: number; projects: number; tickets: number }): string {
  return `# Synthetic test model
name: ${name}
version: 1
level: user
windowDays: 30
signals:
  - { name: logins, event: login, weight: ${weights.logins} }
  - { name: projects, event: project_created, weight: ${weights.projects} }
  - { name: tickets, event: ticket_opened, weight: ${weights.tickets} }
  - { name: renewal-calls, event: renewal_call, weight: 0 }
normalize: { method: none }
bands:
  - { name: at-risk }
  - { name: low, min: 0 }
  - { name: medium, min: 10 }
  - { name: high, min: 20 }
`;
}

export function writeSynthetic(dir: string, options: { users?: number; seed?: number } = {}): SyntheticData {
  const n = options.users ?? 1200;
  const random = seededRandom(options.seed ?? 42);
  const poisson = (mean: number): number => {
    const limit = Math.exp(-mean);
    let k = 0;
    let p = random();
    while (p > limit) {
      k++;
      p *= random();
    }
    return k;
  };
  const lines: string[] = [];
  const outcomes: string[] = ['entity_type,entity_id,outcome,outcome_date'];
  const scores: number[] = [];
  const probabilities: number[] = [];
  let eventNo = 0;
  let good = 0;
  const emit = (name: string, userId: string, ts: number): void => {
    lines.push(JSON.stringify({ eventId: `e${++eventNo}`, name, userId, timestamp: new Date(ts).toISOString() }));
  };
  for (let u = 0; u < n; u++) {
    const userId = `u${String(u).padStart(5, '0')}`;
    const outcomeDate = OUTCOME_DATES[u % OUTCOME_DATES.length]!;
    const outcomeAt = Date.parse(`${outcomeDate}T00:00:00Z`);
    // As-of = end of (outcome date − 30 days) in UTC = start of (outcome date − 29 days).
    const asOf = outcomeAt - 29 * DAY;
    const windowStart = asOf - 30 * DAY;
    const logins = poisson(2 + random() * 18);
    const projects = poisson(random() * 4);
    const tickets = poisson(1);
    emit('signup', userId, windowStart - (10 + random() * 50) * DAY);
    for (let k = 0; k < logins; k++) emit('login', userId, windowStart + random() * 30 * DAY);
    for (let k = 0; k < projects; k++) emit('project_created', userId, windowStart + random() * 30 * DAY);
    for (let k = 0; k < tickets; k++) emit('ticket_opened', userId, windowStart + random() * 30 * DAY);
    const eta = -1.2 + TRUE_EFFECTS.logins * logins + TRUE_EFFECTS.projects * projects + TRUE_EFFECTS.tickets * tickets;
    const p = 1 / (1 + Math.exp(-eta));
    const isGood = random() < p;
    if (isGood) good++;
    // After the as-of: bait for a score that peeks (an event exactly at the as-of must not count either).
    emit('renewal_call', userId, asOf);
    if (isGood) for (let k = 0; k < 5; k++) emit('login', userId, asOf + random() * 28 * DAY);
    const word = isGood ? ['retained', 'renewed', 'upgraded'][u % 3]! : 'churned';
    outcomes.push(`user,${userId},${word},${outcomeDate}`);
    scores.push(10 * (eta + 1.2));
    probabilities.push(p);
  }
  const eventsFile = join(dir, 'events.jsonl');
  const outcomesFile = join(dir, 'outcomes.csv');
  const goodModelFile = join(dir, 'engaged.yaml');
  const badModelFile = join(dir, 'backwards.yaml');
  writeFileSync(eventsFile, `${lines.join('\n')}\n`);
  writeFileSync(outcomesFile, `${outcomes.join('\n')}\n`);
  writeFileSync(goodModelFile, modelYaml('engaged', { logins: 1, projects: 4, tickets: -10 }));
  writeFileSync(badModelFile, modelYaml('backwards', { logins: -1, projects: -4, tickets: 10 }));
  return {
    eventsFile,
    outcomesFile,
    goodModelFile,
    badModelFile,
    trueAuc: expectedAuc(scores, probabilities),
    users: n,
    good,
  };
}

/**
 * The AUC the score has in expectation over the outcome draws: each pair (i, j) counts with the probability that
 * i is good and j bad, p_i·(1 − p_j), and scores 1 when s_i > s_j, ½ on a tie.
 */
export function expectedAuc(scores: readonly number[], p: readonly number[]): number {
  let wins = 0;
  let total = 0;
  for (let i = 0; i < scores.length; i++) {
    for (let j = 0; j < scores.length; j++) {
      if (i === j) continue;
      const w = p[i]! * (1 - p[j]!);
      total += w;
      if (scores[i]! > scores[j]!) wins += w;
      else if (scores[i] === scores[j]) wins += w / 2;
    }
  }
  return wins / total;
}
