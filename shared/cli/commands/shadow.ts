import { existsSync, readFileSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { formatModelIssue, ModelValidationError } from '../../domain/model/errors.js';
import { loadModelFile } from '../../domain/model/load.js';
import type { Model } from '../../domain/model/schema.js';
import type { ShadowReport } from '../../run/shadow.js';
import { ApiError, type ApiTarget, PulseClient } from '../client.js';
import { CliError, type CliIO, EXIT_FAILURE, EXIT_OK, formatTable, usageError } from '../io.js';

export interface ShadowOptions {
  /** The draft model file (YAML or JSON). */
  file: string;
  /** YYYY-MM-DD (default: now). */
  asOf?: string | undefined;
  /** The live model to compare with (default: the draft's name). */
  compareWith?: string | undefined;
  json?: boolean | undefined;
  /** Rows of the table (default 50); --json prints every change. */
  limit?: number | undefined;
}

/** The draft, validated here first so a broken file gets `file:line: field: reason` like `pulse validate`. */
export function loadDraft(file: string, io: CliIO): { model: Model; document: unknown } {
  const path = resolve(io.cwd, file);
  if (!existsSync(path) || !statSync(path).isFile())
    throw usageError(`${file} does not exist: give a draft model file (YAML or JSON), e.g. customer.draft.yaml`);
  try {
    const { model } = loadModelFile(path);
    // The route takes the draft as the file holds it (JSON); it validates it again with the same schema.
    return { model, document: parse(readFileSync(path, 'utf8')) as unknown };
  } catch (error) {
    if (!(error instanceof ModelValidationError)) throw error;
    const shown = (f: string) => (f.startsWith('/') ? relative(io.cwd, f) || f : f);
    for (const issue of error.issues) io.stderr.write(`${formatModelIssue({ ...issue, file: shown(issue.file) })}\n`);
    throw new CliError(
      `the draft ${file} is not a valid model (${error.issues.length} problem${error.issues.length === 1 ? '' : 's'})`,
      EXIT_FAILURE,
    );
  }
}

const round = (n: number) => Math.round(n * 10) / 10;
const signed = (n: number) => `${n > 0 ? '+' : ''}${round(n)}`;

/** A line of band counts, in the model's band order. */
function bandCounts(model: Model, counts: Record<string, number>): string {
  const names = [...model.bands.map((b) => b.name), ...Object.keys(counts)];
  return [...new Set(names)].map((name) => `${name} ${counts[name] ?? 0}`).join(', ');
}

/**
 * `pulse shadow <draft>`: score a draft model version against the local store as of a date, publishing nothing
 * (`POST /v1/models/{name}/shadow`), and list the entities whose band would change, with the reasons.
 */
export async function shadowCommand(options: ShadowOptions, target: ApiTarget, io: CliIO): Promise<number> {
  const { model, document } = loadDraft(options.file, io);
  const live = options.compareWith ?? model.name;
  const client = new PulseClient(target);
  let report: ShadowReport;
  try {
    report = await client.call<ShadowReport>('POST', `/v1/models/${encodeURIComponent(live)}/shadow`, {
      body: { draft: document, ...(options.asOf ? { asOf: options.asOf } : {}) },
      auth: 'api',
    });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404)
      throw new CliError(
        `${target.label} does not offer shadow runs (only local mode does: the AWS API cannot read events); run pulse shadow without --url, on a local store`,
      );
    if (error instanceof ApiError && error.status === 400 && /unknown model/.test(error.message))
      throw usageError(
        `${error.message.replace(/^HTTP 400[^—]*— /, '')}: the draft is compared with the live model of its name; pass --compare-with <model>`,
      );
    throw error;
  }
  if (options.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return EXIT_OK;
  }
  const compared = report.entities - report.newEntities;
  io.stdout.write(
    `${report.model} v${report.draftVersion} (draft) against the live ${report.compareWith} as of ${report.date}: ` +
      `${report.entities} entities scored, ${report.changes.length} would change band, ${report.unchanged} unchanged` +
      `${report.newEntities > 0 ? `, ${report.newEntities} without a live score` : ''}\n`,
  );
  if (compared === 0 && report.entities > 0) {
    io.stdout.write(
      `no live scores of ${report.compareWith} to compare with yet: run pulse run ${report.compareWith}\n`,
    );
  }
  if (report.changes.length > 0) {
    const limit = options.limit ?? 50;
    io.stdout.write('\n');
    io.stdout.write(
      formatTable(
        ['TYPE', 'ID', 'BAND (LIVE → DRAFT)', 'SCORE (LIVE → DRAFT)', 'TOP REASONS'],
        report.changes.slice(0, limit).map((c) => [
          c.entityType,
          c.entityId,
          `${c.from.band} → ${c.to.band}`,
          `${round(c.from.score)} → ${round(c.to.score)}`,
          c.reasons
            .slice(0, 3)
            .map((r) => `${r.name} ${signed(r.delta)}`)
            .join(', ') || '—',
        ]),
      ),
    );
    if (report.changes.length > limit)
      io.stdout.write(`… and ${report.changes.length - limit} more (raise --limit, or --json for all)\n`);
  }
  io.stdout.write(
    `\nbands live:  ${bandCounts(model, report.bands.live)}\nbands draft: ${bandCounts(model, report.bands.draft)}\n` +
      `${report.changes.length} of ${compared} entities with a live score would change band; nothing was published\n`,
  );
  return EXIT_OK;
}
