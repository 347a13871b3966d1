import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ApiTarget, PulseClient } from '../client.js';
import { type CliIO, EXIT_OK } from '../io.js';

export interface ExportOptions {
  entityType: string;
  entityId: string;
  /** Write here (mode 0600: it holds personal data) instead of stdout. */
  out?: string | undefined;
}

/** `pulse export <type> <id>`: everything stored about one entity, as JSON (a data-subject access request). */
export async function exportCommand(options: ExportOptions, target: ApiTarget, io: CliIO): Promise<number> {
  const client = new PulseClient(target);
  const path = `/v1/entities/${encodeURIComponent(options.entityType)}/${encodeURIComponent(options.entityId)}/export`;
  const data = await client.call<{ events: unknown[] }>('GET', path, { auth: 'api' });
  const text = `${JSON.stringify(data, null, 2)}\n`;
  if (options.out) {
    const file = resolve(io.cwd, options.out);
    writeFileSync(file, text, { mode: 0o600 });
    io.stderr.write(`wrote ${file} (${data.events.length} events)\n`);
  } else io.stdout.write(text);
  return EXIT_OK;
}
