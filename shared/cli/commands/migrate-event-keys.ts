import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { migrateEventKeys } from '../../adapters/dynamodb/migrate-event-keys.js';
import { type CliIO, EXIT_OK } from '../io.js';

export interface MigrateEventKeysFlags {
  table: string;
  region?: string | undefined;
  endpoint?: string | undefined;
}

/**
 * `pulse migrate-event-keys --table <events table>`: the one-off backfill of docs/data-model.md#migrating-event-keys
 * against a deployed events table, with the caller's AWS credentials (local mode migrates itself at start).
 */
export async function migrateEventKeysCommand(flags: MigrateEventKeysFlags, io: CliIO): Promise<number> {
  const client = new DynamoDBClient({
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
  });
  try {
    const result = await migrateEventKeys({
      client,
      tableName: flags.table,
      onProgress: (p) => io.stderr.write(`scanned ${p.scanned}, rewritten ${p.rewritten}\n`),
    });
    io.stdout.write(`${result.rewritten} of ${result.scanned} events given the (userId, eventId) key\n`);
    return EXIT_OK;
  } finally {
    client.destroy();
  }
}
