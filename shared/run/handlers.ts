import { z } from 'zod';
import { describeFieldErrors, PulseError } from '../domain/errors.js';
import { fieldErrorsOf } from '../domain/field-errors.js';
import type { RunDeps } from './deps.js';
import { type FinaliseResult, failRun, finaliseRun } from './finalise.js';
import { createBackfill, createRun, type PlanResult, planRun } from './plan.js';
import { runShard, type ShardProgress, type ShardResult } from './worker.js';

/**
 * The three steps of the run state machine as Lambda handlers (functions/run-*), built from dependencies so tests
 * call them directly. Inputs are validated; payloads are small JSON and S3 pointers only.
 *
 *   Plan ──► Map (Distributed, ItemReader = s3://<bucket>/<itemsKey>, one item per shard) ──► Finalise ──► Choice
 *     ▲                                                                                  │ done → Succeed
 *     └──────────────────────── { runId: next } (a backfill's next date) ◄───────────────┘
 *   Any failure (Catch) → Finalise with { runId, error } marks the run failed.
 */

const RunId = z.string().min(1).max(200);

export const PlanInputSchema = z.union([
  z.object({ runId: RunId }).strict(),
  z.object({ model: z.string().min(1), asOf: z.string().min(1).default('scheduled') }).strict(),
  z.object({ model: z.string().min(1), from: z.string().min(1), to: z.string().min(1) }).strict(),
]);

const ShardItemSchema = z.object({ runId: RunId, shard: z.number().int().min(0) });

/**
 * A Map item `{ runId, shard }`, or a worker's own ShardProgress `{ runId, shard, done: false, checkpoint, … }` to
 * carry on from; or (runs started before one item per shard) an ItemBatcher batch `{ Items: [...] }`.
 */
export const WorkerInputSchema = z.union([
  z.object({ Items: z.array(ShardItemSchema).min(1), BatchInput: z.unknown().optional() }),
  ShardItemSchema.extend({ checkpoint: z.string().min(1).max(1024).optional() }),
]);

/**
 * Time a worker keeps in hand when it decides whether to read another day of events: enough to read one
 * shard-day and write the checkpoint (docs/operations.md#runs). Below it, the worker checkpoints and returns.
 */
export const WORKER_TIME_RESERVE_MS = 3 * 60_000;

/** The part of the Lambda context the worker uses. */
export interface WorkerContext {
  getRemainingTimeInMillis(): number;
}

export const FinaliseInputSchema = z.object({
  runId: RunId,
  /** From a Catch: the state machine's error and cause. */
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

/** Bad step input is a programming error in the state machine: fail loudly, naming the fields. */
export class StepInputError extends PulseError {
  constructor(step: string, issues: z.core.$ZodIssue[]) {
    const errors = fieldErrorsOf(issues, { unknownKey: () => 'is not a known field', root: '(root)' });
    super(`${step}: invalid input: ${describeFieldErrors(errors)}`, { kind: 'invalid-input', status: 400, errors });
    this.name = 'StepInputError';
  }
}

function parse<T extends z.ZodType>(schema: T, step: string, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw new StepInputError(step, result.error.issues);
  return result.data;
}

export type PlanOutput = PlanResult & { bucket: string };

/** Plan: create the run when given a model (schedule), or continue an existing run/backfill by id. */
export function makePlanHandler(deps: RunDeps, bucket: string) {
  return async (input: unknown): Promise<PlanOutput> => {
    const request = parse(PlanInputSchema, 'plan', input);
    let runId: string;
    if ('runId' in request) runId = request.runId;
    else if ('from' in request) runId = (await createBackfill(deps, request)).runId;
    else runId = (await createRun(deps, request)).runId;
    const { items: _items, ...plan } = await planRun(deps, runId);
    deps.logger?.info('run planned', { runId: plan.runId, shards: plan.shardCount, done: plan.done });
    return { ...plan, bucket };
  };
}

/**
 * One shard per invocation. When the Lambda's remaining time drops below the reserve between two days of events,
 * the worker checkpoints and returns `{ done: false, checkpoint }`, which the state machine passes straight back.
 */
export function makeWorkerHandler(deps: RunDeps, reserveMs: number = WORKER_TIME_RESERVE_MS) {
  return async (
    input: unknown,
    context?: Partial<WorkerContext>,
  ): Promise<ShardResult | ShardProgress | { results: (ShardResult | ShardProgress)[] }> => {
    const request = parse(WorkerInputSchema, 'worker', input);
    if ('Items' in request) {
      const results: (ShardResult | ShardProgress)[] = [];
      for (const item of request.Items) results.push(await runShard(deps, item));
      return { results };
    }
    const remaining = context?.getRemainingTimeInMillis?.bind(context);
    return runShard(deps, request, { shouldPause: remaining ? () => remaining() < reserveMs : undefined });
  };
}

export function makeFinaliseHandler(deps: RunDeps) {
  return async (input: unknown): Promise<FinaliseResult> => {
    const request = parse(FinaliseInputSchema, 'finalise', input);
    if (request.error) {
      const message = failureMessage(request.error);
      deps.logger?.warn('run failed', { runId: request.runId, error: message });
      return failRun(deps, request.runId, message);
    }
    return finaliseRun(deps, request.runId);
  };
}

/** A Step Functions error as a message for the run record (the Lambda error's message, not its stack). */
function failureMessage(error: { Error?: string | undefined; Cause?: string | undefined }): string {
  if (error.Cause) {
    try {
      const cause = JSON.parse(error.Cause) as { errorMessage?: unknown };
      if (typeof cause.errorMessage === 'string') return cause.errorMessage;
    } catch {
      // not JSON: use it as it is
    }
    return error.Cause.slice(0, 1000);
  }
  return error.Error ?? 'the run failed';
}
