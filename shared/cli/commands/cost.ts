import { type CostInput, CostInputError, estimateCost } from '../../domain/cost.js';
import { type CliIO, EXIT_OK, formatTable, usageError } from '../io.js';

export interface CostOptions extends CostInput {
  json?: boolean | undefined;
}

const usd = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toFixed(4));
const quantity = (n: number) =>
  Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 2 });

/** `pulse cost`: the documented AWS cost model (shared/domain/cost.ts) as a table, or JSON. */
export async function costCommand(options: CostOptions, io: CliIO): Promise<number> {
  const { json, ...input } = options;
  let estimate: ReturnType<typeof estimateCost>;
  try {
    estimate = estimateCost(input);
  } catch (error) {
    if (error instanceof CostInputError) throw usageError(error.message);
    throw error;
  }
  if (json) {
    io.stdout.write(`${JSON.stringify(estimate, null, 2)}\n`);
    return EXIT_OK;
  }
  const i = estimate.input;
  io.stdout.write(
    `Estimated AWS cost a month for ${quantity(i.eventsPerMonth)} events and ${quantity(i.entities)} entities ` +
      `(${i.models} model${i.models === 1 ? '' : 's'}, ${i.runsPerMonth} runs a month, ${i.windowDays}-day window):\n\n`,
  );
  io.stdout.write(
    formatTable(
      ['SERVICE', 'ITEM', 'QUANTITY', 'UNIT', 'USD/MONTH'],
      estimate.lineItems.map((li) => [li.service, li.item, quantity(li.quantity), li.unit, usd(li.monthlyUsd)]),
    ),
  );
  io.stdout.write(
    `\nTotal: $${usd(estimate.totalUsd)} a month ($${usd(estimate.usdPerMillionEvents)} per million events)\n` +
      `Prices: ${estimate.pricesAsOf}. Assumptions: docs/operations.md; --json shows each line's formula.\n`,
  );
  return EXIT_OK;
}
