import { IANAZone } from 'luxon';
import { z } from 'zod';

/**
 * The model file format (docs/models.md#fields). One model per file, YAML or JSON. Every key of the documented example is
 * accepted exactly so; unknown keys are rejected so a typo never silently changes a score.
 */

const name = z.string().regex(/^[a-z0-9-]+$/, 'must be lower-case letters, digits and dashes ([a-z0-9-]+)');
const finite = z.number().refine(Number.isFinite, 'must be a finite number');

export const AGGREGATES = ['count', 'sum', 'distinctDays', 'distinctWeeks', 'distinctUsers'] as const;

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** `where: { tier: premium, plan: [pro, enterprise] }`: every key must match; an array means any of its values. */
export const WhereSchema = z.record(z.string(), z.union([scalar, z.array(scalar).min(1)]));

export const TierSchema = z.object({ min: finite, points: finite }).strict();

/** Diminishing returns on a signal's value before its weight applies (docs/models.md#semantics-exact). */
export const TRANSFORMS = ['none', 'log1p', 'sqrt'] as const;
export type Transform = (typeof TRANSFORMS)[number];

export const SignalSchema = z
  .object({
    name,
    description: z.string().optional(),
    event: z.string().min(1, 'must name an event, or "*" for any event'),
    where: WhereSchema.optional(),
    aggregate: z.enum(AGGREGATES).default('count'),
    property: z.string().min(1).optional(),
    weight: finite.optional(),
    transform: z.enum(TRANSFORMS).optional(),
    tiers: z.array(TierSchema).min(1, 'must list at least one tier').optional(),
    cap: finite.nonnegative('must not be negative').optional(),
    capPerDay: z.number().int('must be a whole number').positive('must be positive').optional(),
    decay: z
      .object({ halfLifeDays: z.number().positive('must be positive') })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.weight === undefined && s.tiers === undefined)
      ctx.addIssue({ code: 'custom', path: ['weight'], message: 'a signal needs a weight or tiers' });
    if (s.weight !== undefined && s.tiers !== undefined)
      ctx.addIssue({ code: 'custom', path: ['tiers'], message: 'give either weight or tiers, not both' });
    if (s.tiers !== undefined && s.transform !== undefined && s.transform !== 'none')
      ctx.addIssue({
        code: 'custom',
        path: ['transform'],
        message: 'transform applies to weighted signals only (tiers already map values to points)',
      });
    if (s.aggregate === 'sum' && !s.property)
      ctx.addIssue({
        code: 'custom',
        path: ['property'],
        message: 'aggregate "sum" needs the numeric property to add up',
      });
    if (s.aggregate !== 'sum' && s.property)
      ctx.addIssue({ code: 'custom', path: ['property'], message: 'property is only used with aggregate "sum"' });
    const perEvent = s.aggregate === 'count' || s.aggregate === 'sum';
    if (!perEvent && s.decay)
      ctx.addIssue({ code: 'custom', path: ['decay'], message: 'decay applies to count and sum signals only' });
    if (!perEvent && s.capPerDay)
      ctx.addIssue({ code: 'custom', path: ['capPerDay'], message: 'capPerDay applies to count and sum signals only' });
  });

export const PenaltySchema = z
  .object({
    name,
    points: finite,
    absent: z.string().min(1).optional(),
    inactiveDays: z.number().int('must be a whole number of days').positive('must be positive').optional(),
    signal: name.optional(),
    above: finite.optional(),
    below: finite.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const kinds = [p.absent !== undefined, p.inactiveDays !== undefined, p.signal !== undefined].filter(Boolean);
    if (kinds.length !== 1)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'a penalty needs exactly one condition: absent, inactiveDays, or signal with above/below',
      });
    if (p.signal !== undefined && p.above === undefined && p.below === undefined)
      ctx.addIssue({ code: 'custom', path: ['signal'], message: 'a signal penalty needs above or below' });
    if (p.signal === undefined && (p.above !== undefined || p.below !== undefined))
      ctx.addIssue({ code: 'custom', path: ['signal'], message: 'above/below need the signal they test' });
  });

export const TraitConditionSchema = z
  .object({
    trait: z.string().min(1),
    in: z.array(scalar).min(1).optional(),
    notIn: z.array(scalar).min(1).optional(),
    equals: scalar.optional(),
    exists: z.boolean().optional(),
  })
  .strict()
  .refine(
    (c) => [c.in, c.notIn, c.equals, c.exists].filter((v) => v !== undefined).length === 1,
    'a condition needs exactly one of in, notIn, equals, exists',
  );

export const NormalizeSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('none') }).strict(),
  z
    .object({
      method: z.literal('target'),
      target: z.number().positive('must be positive'),
      clamp: z.boolean().default(true),
    })
    .strict(),
  z.object({ method: z.literal('percentile') }).strict(),
]);

export const BandSchema = z.object({ name, min: finite.optional(), description: z.string().optional() }).strict();

const change = z
  .object({
    points: z.number().positive('must be positive').optional(),
    percent: z.number().positive('must be positive').optional(),
  })
  .strict()
  .refine((c) => (c.points === undefined) !== (c.percent === undefined), 'give points or percent (one of them)');

/** `true` (a BandChanged alert when the move is at least 1 point) or `{ minMove: points }`. */
const bandChange = z.union([
  z.boolean(),
  z
    .object({
      minMove: z.number().min(0, 'must be 0 or more').default(1),
    })
    .strict(),
]);

export const AlertsSchema = z
  .object({ drop: change.optional(), spike: change.optional(), bandChange: bandChange.default(false) })
  .strict();

const CRON = /^cron\((\S+\s+){5}\S+\)$/;
export const CadenceSchema = z.union([
  z.enum(['daily', 'weekly', 'monthly']),
  z.string().regex(CRON, 'must be daily, weekly, monthly or an EventBridge cron expression like cron(0 2 * * ? *)'),
]);

export const ModelSchema = z
  .object({
    $schema: z.string().optional(),
    name,
    version: z.number().int('must be a whole number').positive('must be positive'),
    description: z.string().optional(),
    level: z.enum(['user', 'account']),
    rollup: z.enum(['pooled', 'mean', 'max']).optional(),
    breakdown: z
      .object({ trait: z.string().min(1) })
      .strict()
      .optional(),
    appliesTo: z.array(TraitConditionSchema).optional(),
    windowDays: z.number().int('must be a whole number of days').min(1).max(366, 'must be at most 366'),
    timezone: z
      .string()
      .default('UTC')
      .refine((tz) => IANAZone.isValidZone(tz), 'must be an IANA time zone such as UTC or Europe/Berlin'),
    cadence: CadenceSchema.default('daily'),
    signals: z.array(SignalSchema).min(1, 'a model needs at least one signal'),
    penalties: z.array(PenaltySchema).default([]),
    normalize: NormalizeSchema.default({ method: 'none' }),
    bands: z.array(BandSchema).min(1, 'a model needs at least one band'),
    alerts: AlertsSchema.default({ bandChange: false }),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.level === 'user' && m.rollup !== undefined)
      ctx.addIssue({ code: 'custom', path: ['rollup'], message: 'rollup applies to account-level models only' });
    if (m.level === 'user' && m.breakdown !== undefined)
      ctx.addIssue({ code: 'custom', path: ['breakdown'], message: 'breakdown applies to account-level models only' });
    const signalNames = new Set<string>();
    m.signals.forEach((s, i) => {
      if (signalNames.has(s.name))
        ctx.addIssue({ code: 'custom', path: ['signals', i, 'name'], message: `duplicate signal name "${s.name}"` });
      signalNames.add(s.name);
      if (s.aggregate === 'distinctUsers' && m.level !== 'account')
        ctx.addIssue({
          code: 'custom',
          path: ['signals', i, 'aggregate'],
          message: 'distinctUsers needs level: account',
        });
    });
    const penaltyNames = new Set<string>();
    m.penalties.forEach((p, i) => {
      if (penaltyNames.has(p.name))
        ctx.addIssue({ code: 'custom', path: ['penalties', i, 'name'], message: `duplicate penalty name "${p.name}"` });
      penaltyNames.add(p.name);
      if (p.signal !== undefined && !signalNames.has(p.signal))
        ctx.addIssue({ code: 'custom', path: ['penalties', i, 'signal'], message: `no signal named "${p.signal}"` });
    });
    m.bands.forEach((b, i) => {
      if (i > 0 && b.min === undefined)
        ctx.addIssue({ code: 'custom', path: ['bands', i, 'min'], message: 'every band after the first needs a min' });
      const prev = m.bands[i - 1]?.min;
      if (i > 1 && b.min !== undefined && prev !== undefined && b.min <= prev)
        ctx.addIssue({ code: 'custom', path: ['bands', i, 'min'], message: 'band mins must increase' });
    });
    const bandNames = new Set(m.bands.map((b) => b.name));
    if (bandNames.size !== m.bands.length)
      ctx.addIssue({ code: 'custom', path: ['bands'], message: 'band names must be unique' });
  });

export type ModelInput = z.input<typeof ModelSchema>;
export type Model = z.output<typeof ModelSchema>;
export type Signal = Model['signals'][number];
export type Penalty = Model['penalties'][number];
export type Band = Model['bands'][number];
export type TraitCondition = NonNullable<Model['appliesTo']>[number];
export type Traits = Record<string, unknown>;
