import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchFn, BenchSection } from './types.js';

/**
 * `npm run bench`: runs every section, prints one table and writes bench/results.json. Numbers, not assertions:
 * speed is never checked in tests. `--quick` shrinks the data sets for a smoke run; `--only NAME[,NAME]` runs those
 * sections and keeps the other sections' last results in the file.
 */
const here = dirname(fileURLToPath(import.meta.url));
// Each file in bench/sections/ exports `bench`; they run in name order (prefix with 10-, 20-, ...).
const sectionFiles = readdirSync(join(here, 'sections'))
  .filter((f) => f.endsWith('.ts'))
  .sort();

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyIndex = args.indexOf('--only');
// `--only engine,ingest-http`: run those sections; the others keep their last results (each section carries its date).
const only = onlyIndex >= 0 ? new Set((args[onlyIndex + 1] ?? '').split(',')) : undefined;

const results: BenchSection[] = [];
for (const file of sectionFiles) {
  const name = file.replace(/^\d+-/, '').replace(/\.ts$/, '');
  if (only && !only.has(name)) continue;
  const mod = (await import(join(here, 'sections', file))) as { bench: BenchFn };
  const section = { ...(await mod.bench({ quick })), date: new Date().toISOString(), quick };
  results.push(section);
  printSection(section);
}

const out = join(here, 'results.json');
mkdirSync(dirname(out), { recursive: true });
if (only && existsSync(out)) {
  const previous = JSON.parse(readFileSync(out, 'utf8')) as { date: string; quick?: boolean; sections: BenchSection[] };
  const fresh = new Set(results.map((r) => r.name));
  const kept = previous.sections
    .filter((s) => !fresh.has(s.name))
    .map((s) => ({ ...s, date: s.date ?? previous.date, quick: s.quick ?? previous.quick }));
  results.push(...kept);
}
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, quick, sections: results }, null, 2)}\n`,
);
console.log(`\nwrote ${out}`);

function printSection(section: BenchSection): void {
  console.log(`\n== ${section.name}`);
  const rows = section.rows.map((r) => ({
    metric: r.metric,
    value: formatNumber(r.value),
    unit: r.unit,
    target: r.target ?? '',
    baseline: r.baseline ? `${r.baseline.name}: ${formatNumber(r.baseline.value)}` : '',
    ratio: r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
  }));
  console.table(rows);
  for (const note of section.notes ?? []) console.log(`  note: ${note}`);
}

function formatNumber(n: number): string {
  return Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : String(Math.round(n * 100) / 100);
}
