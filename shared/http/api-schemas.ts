import { z } from '@hono/zod-openapi';
import { isoDate, isoDateOrDateTime } from '../domain/dates.js';

/**
 * The scores API's request and response shapes (docs/api.md). `GET /openapi.json` is generated from these, and
 * the routes validate their input with them, so the document and the behaviour cannot drift apart.
 */

/** Dates and instants are read strictly (docs/api.md#dates): `2026-02-30` is a 400 naming the field. */
export const dateOrInstant = isoDateOrDateTime;

export const EntityTypeSchema = z
  .enum(['user', 'account'], { error: 'must be "user" or "account"' })
  .openapi({ description: 'What gets a score: a user or an account.', example: 'account' });

const modelName = z
  .string()
  .regex(/^[a-z0-9-]+$/, 'must be a model name ([a-z0-9-]+)')
  .openapi({ description: 'Model name (see GET /v1/models).', example: 'customer' });

export const EntityParams = z.object({
  entityType: EntityTypeSchema.openapi({ param: { name: 'entityType', in: 'path' } }),
  entityId: z
    .string()
    .min(1)
    .max(256)
    .openapi({ param: { name: 'entityId', in: 'path' }, example: 'acme' }),
});

export const ContributionSchema = z
  .object({
    signal: z.string(),
    value: z.number().openapi({ description: 'The aggregate (after where, decay, caps), e.g. 11 events.' }),
    points: z.number(),
  })
  .openapi('Contribution');

export const PenaltySchema = z.object({ rule: z.string(), points: z.number() }).openapi('AppliedPenalty');

export const CoverageSchema = z
  .object({
    activeDays: z.number().int().openapi({ description: 'Days in the window with at least one event.' }),
    observedDays: z.number().int().openapi({ description: 'Days of the window the entity has been known for.' }),
    events: z.number().int().openapi({ description: 'Events in the window.' }),
    firstSeenAt: z.number().nullable().openapi({ description: 'Epoch ms.' }),
    lastSeenAt: z.number().nullable().openapi({ description: 'Epoch ms.' }),
  })
  .openapi('Coverage', { description: 'How much evidence the score rests on.' });

export const ReasonSchema = z
  .object({
    kind: z.enum(['signal', 'penalty']),
    name: z.string(),
    previousPoints: z.number(),
    points: z.number(),
    delta: z.number(),
  })
  .openapi('ReasonForChange', { description: 'A signal or penalty that moved the score since the previous run.' });

export const GroupScoreSchema = z
  .object({ key: z.string(), users: z.number().int(), rawScore: z.number(), score: z.number().nullable() })
  .openapi('GroupScore', { description: "One value of the model's breakdown trait (e.g. role) within an account." });

export const OverrideViewSchema = z
  .object({
    band: z.string().optional(),
    score: z.number().optional(),
    reason: z.string(),
    expiresAt: z.string().openapi({ description: 'ISO instant; the override ends by itself then.' }),
    createdAt: z.string(),
  })
  .openapi('ScoreOverride', {
    description: 'A manual override in force: the published score/band are its values; rawScore stays computed.',
  });

export const EntityScoreSchema = z
  .object({
    model: z.string(),
    modelVersion: z.number().int(),
    asOf: z
      .string()
      .openapi({ description: 'ISO instant T the run was evaluated at.', example: '2026-03-02T00:00:00.000Z' }),
    windowDays: z.number().int(),
    score: z.number(),
    rawScore: z.number(),
    band: z.string(),
    previousScore: z.number().nullable().openapi({ description: "Score in the model's previous run; null at first." }),
    delta: z.number().nullable().openapi({ description: 'score − previousScore (the trend); null at first.' }),
    previousBand: z.string().nullable(),
    coverage: CoverageSchema,
    contributions: z.array(ContributionSchema),
    penalties: z.array(PenaltySchema),
    reasons: z.array(ReasonSchema).openapi({ description: 'When the score moved: the signals that moved it most.' }),
    groups: z.array(GroupScoreSchema).optional(),
    override: OverrideViewSchema.nullable().openapi({ description: 'The manual override in force, or null.' }),
  })
  .openapi('EntityScore');

export const EntityScoresSchema = z
  .object({
    entityType: EntityTypeSchema,
    entityId: z.string(),
    scores: z.array(EntityScoreSchema),
    traits: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'Traits from identify/group calls, when the entity is known.' }),
  })
  .openapi('EntityScores');

export const EntityScoreQuery = z
  .object({ model: modelName.optional() })
  .strict()
  .openapi({ description: 'Without model: the scores of every active model.' });

export const ScoreListItemSchema = z
  .object({
    entityType: EntityTypeSchema,
    entityId: z.string(),
    model: z.string(),
    score: z.number(),
    band: z.string(),
    delta: z.number().nullable(),
  })
  .openapi('ScoreListItem');

export const ScoreListSchema = z
  .object({
    items: z.array(ScoreListItemSchema),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as cursor for the next page; null on the last.' }),
  })
  .openapi('ScoreList');

/** A `limit` query parameter: an integer from 1 to `max`, optional. */
export const pageLimit = (max: number) =>
  z.coerce
    .number({ error: `must be an integer from 1 to ${max}` })
    .int(`must be an integer from 1 to ${max}`)
    .min(1, `must be an integer from 1 to ${max}`)
    .max(max, `must be an integer from 1 to ${max}`)
    .optional();

const limit = (max: number, fallback: number) =>
  pageLimit(max).openapi({ description: `Items per page (default ${fallback}).`, example: fallback });

export const DEFAULT_LIST_LIMIT = 50;

export const ScoreListQuery = z
  .object({
    model: modelName.optional().openapi({ description: 'Required when more than one model is active.' }),
    band: z.string().min(1).optional().openapi({ description: "One of the model's band names.", example: 'high' }),
    limit: limit(1000, DEFAULT_LIST_LIMIT),
    cursor: z.string().min(1).optional().openapi({ description: 'The nextCursor of the previous page, unchanged.' }),
  })
  .strict();

export const HistoryQuerySchema = z
  .object({
    model: modelName.optional().openapi({ description: 'Without model: every active model, merged by asOf.' }),
    from: dateOrInstant().optional().openapi({ description: 'Earliest as-of (a date: runs as of that day or later).' }),
    to: dateOrInstant().optional().openapi({ description: 'Latest as-of (a date: runs as of that day or earlier).' }),
  })
  .strict();

export const HistoryItemSchema = z
  .object({
    asOf: z.string(),
    model: z.string(),
    modelVersion: z.number().int(),
    score: z.number(),
    rawScore: z.number(),
    band: z.string(),
    delta: z.number().nullable(),
    override: OverrideViewSchema.nullable(),
  })
  .openapi('HistoryItem');

export const HistorySchema = z
  .object({ items: z.array(HistoryItemSchema), nextCursor: z.string().nullable() })
  .openapi('History');

export const ModelSummarySchema = z
  .object({
    name: z.string(),
    version: z.number().int(),
    description: z.string().nullable(),
    level: EntityTypeSchema,
    windowDays: z.number().int(),
    timezone: z.string(),
    cadence: z.string(),
    signals: z.array(z.string()),
    penalties: z.array(z.string()),
    bands: z.array(z.object({ name: z.string(), min: z.number().nullable() })),
    contentHash: z.string().openapi({ description: "sha256 of the model's canonical JSON." }),
  })
  .openapi('Model');

export const ModelListSchema = z
  .object({ items: z.array(ModelSummarySchema), nextCursor: z.string().nullable() })
  .openapi('ModelList');

export const RunRequestSchema = z
  .object({
    model: modelName,
    asOf: dateOrInstant().optional().openapi({ description: 'Score as of this date (end of day in the model zone).' }),
    from: isoDate().optional().openapi({ description: 'Backfill: first as-of date (YYYY-MM-DD).' }),
    to: isoDate()
      .optional()
      .openapi({ description: 'Backfill: last as-of date (YYYY-MM-DD); at most 366 dates from `from`.' }),
  })
  .strict()
  .openapi('RunRequest', { description: 'Either { model, asOf } or a backfill { model, from, to }.' });

export const RunAcceptedSchema = z
  .object({ runId: z.string(), status: z.enum(['queued', 'running', 'succeeded', 'failed']) })
  .openapi('RunAccepted');

const RunMoverSchema = z.object({
  entityType: EntityTypeSchema,
  entityId: z.string(),
  score: z.number(),
  previousScore: z.number(),
  delta: z.number(),
  band: z.string(),
  previousBand: z.string().nullable(),
});

export const RunSummarySchema = z
  .object({
    bands: z.array(z.object({ band: z.string(), count: z.number().int() })),
    histogram: z.array(z.object({ lo: z.number(), hi: z.number(), count: z.number().int() })),
    mean: z.number().nullable(),
    bandChanges: z.number().int(),
    rises: z.array(RunMoverSchema),
    drops: z.array(RunMoverSchema),
  })
  .openapi('RunSummary');

export const RunSchema = z
  .object({
    runId: z.string(),
    kind: z.enum(['run', 'backfill']),
    model: z.string(),
    modelVersion: z.number().int(),
    asOf: z.string(),
    date: z.string().openapi({ description: 'As-of date in the model time zone (the snapshot partition dt).' }),
    status: z.enum(['queued', 'running', 'succeeded', 'failed']),
    counts: z.object({
      entities: z.number().int(),
      events: z.number().int(),
      skipped: z
        .number()
        .int()
        .optional()
        .describe('rows skipped because they could not be written (reasons in the run log)'),
    }),
    snapshot: z.object({ uri: z.string(), manifest: z.string() }).nullable(),
    error: z.string().nullable(),
    alerts: z
      .object({
        fired: z.number().int(),
        published: z.number().int(),
        failed: z.number().int(),
        errors: z.array(z.string()).optional(),
      })
      .optional()
      .openapi({
        description: 'Alerts the run fired and how their delivery went (a failed delivery never fails the run).',
      }),
    summary: RunSummarySchema.optional().openapi({
      description: 'Band counts, score histogram and biggest movers of a succeeded run (absent on older runs).',
    }),
    runs: z.array(z.string()).optional().openapi({ description: "A backfill's runs, one per date, in date order." }),
    progress: z
      .object({ done: z.number().int(), total: z.number().int() })
      .openapi({ description: 'Steps finished: dates of a backfill; shards of a run when known, else 0/1.' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Run');

export const RunListQuery = z
  .object({
    model: modelName.optional().openapi({ description: 'Without model: every active model, newest first.' }),
    limit: limit(100, 20),
  })
  .strict();

export const RunListSchema = z
  .object({ items: z.array(RunSchema), nextCursor: z.string().nullable() })
  .openapi('RunList');

export const RunParams = z.object({
  runId: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'runId', in: 'path' } }),
});

export const AlertQuerySchema = z
  .object({
    since: dateOrInstant()
      .optional()
      .openapi({ description: 'Alerts of runs as of this instant or later (default: 7 days ago).' }),
    model: modelName.optional(),
    limit: limit(1000, 100),
    cursor: z.string().min(1).optional(),
  })
  .strict();

export const AlertSchema = z
  .object({
    type: z.enum(['ScoreDropped', 'ScoreSpiked', 'BandChanged']),
    entityType: EntityTypeSchema,
    entityId: z.string(),
    model: z.string(),
    asOf: z.string(),
    score: z.number(),
    previousScore: z.number().nullable(),
    band: z.string(),
    previousBand: z.string().nullable(),
    reasons: z
      .array(ReasonSchema)
      .openapi({ description: 'Why the score moved: the signals and penalties that changed most.' }),
  })
  .openapi('Alert');

export const AlertListSchema = z
  .object({ items: z.array(AlertSchema), nextCursor: z.string().nullable() })
  .openapi('AlertList');

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:pulse:problem:invalid-parameter' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem', { description: 'RFC 9457 problem details; errors[] names each bad parameter.' });

export const ShadowParams = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'must be a model name ([a-z0-9-]+)')
    .openapi({
      param: { name: 'name', in: 'path' },
      description: 'The live model to compare with.',
      example: 'customer',
    }),
});

export const ShadowRequestSchema = z
  .object({
    draft: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'The draft model, as a model file would hold it (JSON), e.g. with a bumped version.' }),
    asOf: dateOrInstant().optional().openapi({ description: 'Score as of this date or instant (default: now).' }),
  })
  .strict()
  .openapi('ShadowRequest');

const bandCounts = z.record(z.string(), z.number().int());

export const ShadowReportSchema = z
  .object({
    model: z.string(),
    draftVersion: z.number().int(),
    compareWith: z.string(),
    asOf: z.string(),
    date: z.string(),
    entities: z.number().int().openapi({ description: 'Entities the draft scores.' }),
    newEntities: z.number().int().openapi({ description: 'Of those, entities without a live score.' }),
    unchanged: z.number().int(),
    bands: z.object({ live: bandCounts, draft: bandCounts }),
    changes: z.array(
      z.object({
        entityType: EntityTypeSchema,
        entityId: z.string(),
        from: z.object({ band: z.string(), score: z.number(), asOf: z.string(), modelVersion: z.number().int() }),
        to: z.object({ band: z.string(), score: z.number() }),
        reasons: z.array(ReasonSchema),
      }),
    ),
  })
  .openapi('ShadowReport', { description: 'Which entities the draft would move to another band, and why.' });
