import {
  type CostEstimate,
  type CostInput,
  CostInputError,
  compareCost,
  DESIGNS,
  estimateCost,
} from '../../../infra/cost/estimate.js';
import { costTableMarkdown, DOC_VOLUMES } from '../../../infra/cost/table.js';
import { type CliIO, EXIT_OK, formatTable, usageError } from '../io.js';

export interface CostOptions extends CostInput {
  json?: boolean | undefined;
  /** Print the design this work started from next to the current one. */
  compare?: boolean | undefined;
  /** Print the Markdown table of docs/operations.md for the documented volumes. */
  markdown?: boolean | undefined;
}

export const usd = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toFixed(4));
const quantity = (n: number) =>
  Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 2 });

function describeInput(e: CostEstimate): string {
  const i = e.input;
  return (
    `${quantity(i.eventsPerMonth)} events and ${quantity(i.entities)} entities ` +
    `(${i.models} model${i.models === 1 ? '' : 's'}, ${i.runsPerMonth} runs a month, ${i.windowDays}-day window)`
  );
}

/** `pulse cost`: the documented AWS cost model (infra/cost/estimate.ts) as a table, a comparison, or JSON. */
export async function costCommand(options: CostOptions, io: CliIO): Promise<number> {
  const { json, compare, markdown, ...input } = options;
  try {
    if (markdown) {
      const { eventsPerMonth: _ignored, ...rest } = input;
      io.stdout.write(costTableMarkdown(rest, DOC_VOLUMES));
      return EXIT_OK;
    }
    if (compare) return printComparison(input, json === true, io);
    const estimate = estimateCost(input);
    if (json) {
      io.stdout.write(`${JSON.stringify(estimate, null, 2)}\n`);
      return EXIT_OK;
    }
    io.stdout.write(`Estimated AWS cost a month for ${describeInput(estimate)}:\n\n`);
    io.stdout.write(
      formatTable(
        ['SERVICE', 'ITEM', 'QUANTITY', 'UNIT', 'USD/MONTH'],
        estimate.lineItems.map((li) => [li.service, li.item, quantity(li.quantity), li.unit, usd(li.monthlyUsd)]),
      ),
    );
    io.stdout.write(
      `\nTotal: $${usd(estimate.totalUsd)} a month ($${usd(estimate.usdPerMillionEvents)} per million events); ` +
        `events stay ${estimate.hotDays} days in DynamoDB, then in the S3 archive.\n` +
        `Prices: ${estimate.pricesAsOf}. Assumptions: docs/operations.md; --json shows each line's formula, ` +
        '--compare the design before.\n',
    );
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CostInputError) throw usageError(error.message, { cause: error });
    throw error;
  }
}

function printComparison(input: CostInput, json: boolean, io: CliIO): number {
  const { before, after, rows } = compareCost(input);
  if (json) {
    io.stdout.write(`${JSON.stringify({ before, after }, null, 2)}\n`);
    return EXIT_OK;
  }
  io.stdout.write(`Estimated AWS cost a month for ${describeInput(after)}, the design before and now:\n\n`);
  const table = rows.map((r) => [
    r.service,
    r.item,
    usd(r.beforeUsd),
    usd(r.afterUsd),
    r.afterUsd === r.beforeUsd ? '' : `${r.afterUsd > r.beforeUsd ? '+' : ''}${usd(r.afterUsd - r.beforeUsd)}`,
  ]);
  table.push(['', 'total a month', usd(before.totalUsd), usd(after.totalUsd), usd(after.totalUsd - before.totalUsd)]);
  table.push(['', 'per million events', usd(before.usdPerMillionEvents), usd(after.usdPerMillionEvents), '']);
  io.stdout.write(formatTable(['SERVICE', 'ITEM', 'BEFORE', 'AFTER', 'CHANGE'], table));
  io.stdout.write(
    `\nBefore: ${DESIGNS.before.description} (events kept ${before.hotDays} days).\n` +
      `After: ${DESIGNS.tiered.description} (events kept ${after.hotDays} days in DynamoDB: the longest lookback + 1 + margin).\n` +
      `Prices: ${after.pricesAsOf}. Assumptions: docs/operations.md.\n`,
  );
  return EXIT_OK;
}
