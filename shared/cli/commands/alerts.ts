import type { StoredAlert } from '../../ports/alert-sink.js';
import { type ApiTarget, PulseClient } from '../client.js';
import { type CliIO, EXIT_OK, formatTable } from '../io.js';
import { type OutputFormat, writeCsv, writeJson } from '../output.js';

/** An alert as `GET /v1/alerts` returns it. */
type AlertItem = StoredAlert;

export interface AlertsOptions {
  model?: string | undefined;
  since?: string | undefined;
  limit: number;
  format: OutputFormat;
}

const r1 = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);
const signed = (n: number) => (n > 0 ? `+${r1(n)}` : String(r1(n)));

/** `pulse alerts`: recent alerts, newest first, with why each score moved. */
export async function alertsCommand(options: AlertsOptions, target: ApiTarget, io: CliIO): Promise<number> {
  const client = new PulseClient(target);
  const query = new URLSearchParams({ limit: String(options.limit) });
  if (options.model) query.set('model', options.model);
  if (options.since) query.set('since', options.since);
  const page = await client.call<{ items: AlertItem[]; nextCursor: string | null }>('GET', `/v1/alerts?${query}`, {
    auth: 'api',
  });
  if (options.format === 'json') {
    writeJson(io, page);
    return EXIT_OK;
  }
  if (options.format === 'csv') {
    writeCsv(
      io,
      [
        'type',
        'entity_type',
        'entity_id',
        'model',
        'as_of',
        'score',
        'previous_score',
        'band',
        'previous_band',
        'reasons',
      ],
      page.items.map((a) => [
        a.type,
        a.entityType,
        a.entityId,
        a.model,
        a.asOf,
        a.score,
        a.previousScore,
        a.band,
        a.previousBand,
        a.reasons,
      ]),
    );
    return EXIT_OK;
  }
  if (page.items.length === 0) {
    io.stdout.write(`no alerts${options.since ? ` since ${options.since}` : ' in the last 7 days'}\n`);
    return EXIT_OK;
  }
  io.stdout.write(
    formatTable(
      ['AS OF', 'MODEL', 'TYPE', 'ENTITY', 'SCORE', 'BAND', 'WHY'],
      page.items.map((a) => [
        a.asOf.slice(0, 10),
        a.model,
        a.type,
        `${a.entityType} ${a.entityId}`,
        `${r1(a.previousScore) ?? '—'} → ${r1(a.score)}`,
        a.previousBand && a.previousBand !== a.band ? `${a.previousBand} → ${a.band}` : a.band,
        a.reasons.map((r) => `${r.name} ${signed(r.delta)}`).join(', ') || '—',
      ]),
    ),
  );
  if (page.nextCursor) io.stdout.write('… more: raise --limit (up to 1000) or narrow --since\n');
  return EXIT_OK;
}
