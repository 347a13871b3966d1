import type { EraseResult, LiftResult } from '../../erasure/erase.js';
import { type ApiTarget, PulseClient } from '../client.js';
import { type CliIO, EXIT_OK } from '../io.js';

export interface EraseOptions {
  entityType: 'user' | 'account';
  entityId: string;
  /** Lift the tombstone instead of erasing. */
  lift?: boolean | undefined;
  json?: boolean | undefined;
}

/**
 * `pulse erase <type> <id>` (docs/api.md#erasure): erase everything stored about one entity and refuse its new data;
 * `--lift` accepts its data again.
 */
export async function eraseCommand(options: EraseOptions, target: ApiTarget, io: CliIO): Promise<number> {
  const client = new PulseClient(target);
  const path = `/v1/entities/${encodeURIComponent(options.entityType)}/${encodeURIComponent(options.entityId)}`;
  if (options.lift) {
    const result = await client.call<LiftResult>('DELETE', `${path}/tombstone`, { auth: 'api' });
    if (options.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else
      io.stdout.write(
        `Tombstone lifted: new data about ${options.entityType} ${options.entityId} is accepted again (nothing erased came back).\n`,
      );
    return EXIT_OK;
  }
  const result = await client.call<EraseResult>('DELETE', path, { auth: 'api' });
  if (options.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT_OK;
  }
  const c = result.erased;
  const lines = [
    `Erased ${result.entityType} ${result.entityId} (erasure ${result.erasureId}${result.erasedSince < result.requestedAt ? `, first erased ${result.erasedSince}` : ''}):`,
    `  events ${c.events}, entity record ${c.entity}, current scores ${c.scores}, history ${c.history}, alerts ${c.alerts}, overrides ${c.overrides}`,
  ];
  if (result.objects) {
    const o = result.objects;
    lines.push(
      `  snapshots: ${o.snapshotRows} row(s) removed from ${o.snapshotFiles} file(s); event archive: ${o.archiveRows} event(s) removed from ${o.archiveFiles} file(s)`,
    );
  }
  if (result.status === 'pending')
    lines.push(`  pending: ${result.pending.join(', ')} (rewritten by the next daily archive run, within 24 hours)`);
  lines.push('New data about it is refused until the tombstone is lifted (pulse erase --lift).');
  io.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}
