import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The KDD Cup 2015 MOOC dropout data (XuetangX) as native events and outcomes, read at run time from the shared
 * data folder next to the repository (no licence to redistribute: never copied into it). Each course enrollment is
 * a user; each day's per-type activity count is one native event with an `n` property; dropout (no activity in the
 * 10 days after the 30-day window) is `churned`, otherwise `retained`. Outcome date = last window day + 10, so with
 * horizon 10 days each score covers exactly the course's window and nothing after it.
 */
const here = dirname(fileURLToPath(import.meta.url));
/** The data folder: PULSE_KDD_DIR when set (a checkout elsewhere), else ../shared/data next to the repository. */
export const KDD_DIR =
  process.env.PULSE_KDD_DIR ?? resolve(here, '..', '..', '..', 'shared', 'data', 'kddcup2015-mooc-dropout');
export const KDD_SHOWN = process.env.PULSE_KDD_DIR ?? '../shared/data/kddcup2015-mooc-dropout';
export const KDD_HORIZON_DAYS = 10;
const TYPES = ['access', 'discussion', 'navigate', 'page_close', 'problem', 'video', 'wiki'] as const;
const DAY = 86_400_000;

export function kddAvailable(courses: readonly string[]): boolean {
  return existsSync(join(KDD_DIR, 'truth_train.csv')) && courses.every((c) => existsSync(join(KDD_DIR, `${c}.csv`)));
}

let labels: Map<string, string> | undefined;
function labelsOf(): Map<string, string> {
  if (labels) return labels;
  labels = new Map();
  for (const line of readFileSync(join(KDD_DIR, 'truth_train.csv'), 'utf8').trim().split('\n').slice(1)) {
    const [id, label] = line.split(',');
    labels.set(id!, label!.trim());
  }
  return labels;
}

/**
 * Write `<prefix>.events.jsonl` and `<prefix>.outcomes.csv` for one course. `keep` (1 of every `keep` enrollments,
 * by id) subsamples deterministically so tests stay quick.
 */
export function writeKddCourse(
  course: string,
  dir: string,
  options: { keep?: number } = {},
): { events: string; outcomes: string; enrollments: number } {
  const keep = options.keep ?? 1;
  const lastDay = new Map<string, string>();
  const events: string[] = [];
  const lines = readFileSync(join(KDD_DIR, `${course}.csv`), 'utf8')
    .trim()
    .split('\n');
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const id = cells[0]!;
    if (Number(id) % keep !== 0) continue;
    const day = cells[1]!;
    if ((lastDay.get(id) ?? '') < day) lastDay.set(id, day);
    TYPES.forEach((type, k) => {
      const n = Number(cells[k + 2]);
      // Midday UTC: the day's activity, inside the day whatever the exact hour.
      if (n > 0)
        events.push(
          JSON.stringify({
            eventId: `${id}-${day}-${type}`,
            name: type,
            userId: `e${id}`,
            timestamp: `${day}T12:00:00Z`,
            properties: { n },
          }),
        );
    });
  }
  const outcomes = ['entity_type,entity_id,outcome,outcome_date'];
  const truth = labelsOf();
  for (const [id, day] of lastDay) {
    const outcomeDate = new Date(Date.parse(`${day}T00:00:00Z`) + KDD_HORIZON_DAYS * DAY).toISOString().slice(0, 10);
    outcomes.push(`user,e${id},${truth.get(id) === '1' ? 'churned' : 'retained'},${outcomeDate}`);
  }
  const eventsFile = join(dir, `${course}.events.jsonl`);
  const outcomesFile = join(dir, `${course}.outcomes.csv`);
  writeFileSync(eventsFile, `${events.join('\n')}\n`);
  writeFileSync(outcomesFile, `${outcomes.join('\n')}\n`);
  return { events: eventsFile, outcomes: outcomesFile, enrollments: lastDay.size };
}

/**
 * A plausible hand-written engagement model for a course: what a course team might write before any calibration
 * (plain counts, one inactivity penalty).
 */
export const KDD_MODEL = `name: mooc
version: 1
level: user
windowDays: 30
signals:
  - { name: active-days, event: "*", aggregate: distinctDays, weight: 3 }
  - { name: videos, event: video, aggregate: sum, property: n, weight: 1 }
  - { name: problems, event: problem, aggregate: sum, property: n, weight: 1 }
  - { name: pages, event: access, aggregate: sum, property: n, weight: 0.2 }
  - { name: discussion, event: discussion, aggregate: sum, property: n, weight: 2 }
  - { name: wiki, event: wiki, aggregate: sum, property: n, weight: 1 }
  - { name: last-week, event: "*", aggregate: sum, property: n, weight: 0, decay: { halfLifeDays: 3 } }
penalties:
  - { name: inactive, inactiveDays: 10, points: -20 }
normalize: { method: target, target: 150 }
bands:
  - { name: at-risk }
  - { name: low, min: 10 }
  - { name: medium, min: 40 }
  - { name: high, min: 70 }
`;
