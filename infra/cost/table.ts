import { type CostInput, compareCost } from './estimate.js';

/** The volumes docs/operations.md#cost-model tabulates (events a month). */
export const DOC_VOLUMES = [1e6, 1e7, 1e8, 1e9] as const;

const money = (n: number) => (n >= 100 ? `$${Math.round(n).toLocaleString('en-US')}` : `$${n.toFixed(2)}`);
const volume = (n: number) => (n >= 1e9 ? `${n / 1e9}B` : n >= 1e6 ? `${n / 1e6}M` : n.toLocaleString('en-US'));

/**
 * The cost table of docs/operations.md as Markdown: every line item of the current design at each volume, the
 * totals, and the design before for comparison (`pulse cost --markdown`; test/unit/cost-table.test.ts checks the
 * docs hold exactly this).
 */
export function costTableMarkdown(input: Omit<CostInput, 'eventsPerMonth'>, volumes: readonly number[]): string {
  const estimates = volumes.map((eventsPerMonth) => compareCost({ ...input, eventsPerMonth }));
  const header = ['Line item (current design)', ...volumes.map((v) => `${volume(v)} events`)];
  const rows: string[][] = [];
  const first = estimates[0]!.after;
  for (const [index, li] of first.lineItems.entries()) {
    rows.push([`${li.service}: ${li.item}`, ...estimates.map((e) => money(e.after.lineItems[index]!.monthlyUsd))]);
  }
  rows.push(['**Total a month**', ...estimates.map((e) => `**${money(e.after.totalUsd)}**`)]);
  rows.push(['**per million events**', ...estimates.map((e) => `**${money(e.after.usdPerMillionEvents)}**`)]);
  rows.push(['design before: total a month', ...estimates.map((e) => money(e.before.totalUsd))]);
  rows.push(['design before: per million events', ...estimates.map((e) => money(e.before.usdPerMillionEvents))]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (c === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n') + '\n';
}
