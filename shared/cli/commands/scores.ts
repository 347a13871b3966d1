import { type ApiTarget, PulseClient } from '../client.js';
import { type CliIO, EXIT_OK, formatTable } from '../io.js';
import { type OutputFormat, writeCsv, writeJson } from '../output.js';

interface ScoreItem {
  entityType: string;
  entityId: string;
  model: string;
  score: number;
  band: string;
  delta: number | null;
}

interface ModelItem {
  name: string;
  level: string;
}

export interface ScoresOptions {
  model?: string | undefined;
  band?: string | undefined;
  limit: number;
  format?: OutputFormat | undefined;
}

const round = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);

/** `pulse scores`: a table of the highest scores of one model, or of each active model. */
export async function scoresCommand(options: ScoresOptions, target: ApiTarget, io: CliIO): Promise<number> {
  const client = new PulseClient(target);
  const models = options.model
    ? [options.model]
    : (await client.call<{ items: ModelItem[] }>('GET', '/v1/models', { auth: 'api' })).items.map((m) => m.name);
  const format = options.format ?? 'table';
  const all: ScoreItem[] = [];
  for (const [i, model] of models.entries()) {
    const query = new URLSearchParams({ model, limit: String(options.limit) });
    if (options.band) query.set('band', options.band);
    const page = await client.call<{ items: ScoreItem[]; nextCursor: string | null }>('GET', `/v1/scores?${query}`, {
      auth: 'api',
    });
    if (format !== 'table') {
      all.push(...page.items);
      continue;
    }
    if (models.length > 1) io.stdout.write(`${i > 0 ? '\n' : ''}${model}\n`);
    if (page.items.length === 0) {
      io.stdout.write(`no scores${options.band ? ` in band ${options.band}` : ''} yet (run: pulse run ${model})\n`);
      continue;
    }
    io.stdout.write(
      formatTable(
        ['TYPE', 'ID', 'SCORE', 'BAND', 'DELTA'],
        page.items.map((s) => [s.entityType, s.entityId, round(s.score), s.band, round(s.delta)]),
      ),
    );
    if (page.nextCursor) io.stdout.write(`… more: raise --limit (up to 1000) or use GET /v1/scores with the cursor\n`);
  }
  // Machine formats: every model's rows in one list (each row names its model), full precision.
  if (format === 'json') writeJson(io, { items: all });
  if (format === 'csv')
    writeCsv(
      io,
      ['entity_type', 'entity_id', 'model', 'score', 'band', 'delta'],
      all.map((s) => [s.entityType, s.entityId, s.model, s.score, s.band, s.delta]),
    );
  return EXIT_OK;
}
