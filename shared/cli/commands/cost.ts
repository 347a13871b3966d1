import { type CliIO, CliError } from '../io.js';

export interface CostOptions {
  eventsPerMonth: number;
  entities: number;
  json?: boolean | undefined;
}

/** `pulse cost`: the documented AWS cost model (shared/domain/cost.ts) as a table. */
export async function costCommand(_options: CostOptions, _io: CliIO): Promise<number> {
  throw new CliError('cost estimate not available yet');
}
