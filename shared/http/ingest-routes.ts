import { gunzipSync, inflateSync } from 'node:zlib';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { joinPath } from '../domain/field-errors.js';
import type { NormaliseContext, NormalisedBatch } from '../ingest/batch.js';
import { BODY_PATH, type FieldError, InvalidBodyError, PayloadTooLargeError } from '../ingest/errors.js';
import { type IngestOutcome, type IngestStores, storeBatch } from '../ingest/ingest.js';
import { DEFAULT_LIMITS, type IngestLimits } from '../ingest/limits.js';
import { normaliseNative } from '../ingest/native.js';
import { normaliseSegmentBatch, normaliseSegmentMessage, SEGMENT_TYPES } from '../ingest/segment.js';
import { logger as defaultLogger, metrics as defaultMetrics } from '../observability.js';
import { type WriteKeySource, writeKeyAuth } from './auth.js';
import { errorToResponse, problemResponse, problemType } from './problem.js';

/** Counts of one request, for logs and metrics: never event content. */
export interface IngestTelemetry {
  record(entry: { route: string; requestId: string | undefined; total: number } & IngestOutcome): void;
}

export interface IngestRouteDeps extends IngestStores {
  writeKeys: WriteKeySource;
  limits?: IngestLimits | undefined;
  clock?: (() => number) | undefined;
  telemetry?: IngestTelemetry | undefined;
}

/** Logs one line a request and emits EventsAccepted / EventsDuplicate / EventsRejected (Powertools, EMF). */
export function powertoolsTelemetry(
  log: Pick<typeof defaultLogger, 'info'> = defaultLogger,
  metrics: Pick<typeof defaultMetrics, 'addMetric' | 'publishStoredMetrics'> = defaultMetrics,
): IngestTelemetry {
  return {
    record({ route, requestId, total, accepted, duplicates, rejected }) {
      metrics.addMetric('EventsAccepted', MetricUnit.Count, accepted);
      metrics.addMetric('EventsDuplicate', MetricUnit.Count, duplicates);
      metrics.addMetric('EventsRejected', MetricUnit.Count, rejected.length);
      metrics.publishStoredMetrics();
      log.info('ingest', { route, requestId, total, accepted, duplicates, rejected: rejected.length });
    },
  };
}

/**
 * `POST /v1/events` (native) and the Segment-compatible `/v1/batch`, `/v1/track`, `/v1/identify`, `/v1/group`,
 * `/v1/page`, `/v1/screen`, all behind write-key auth. Errors are thrown and mapped by the app's error handler.
 */
export function ingestRoutes(deps: IngestRouteDeps): Hono {
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const clock = deps.clock ?? Date.now;
  const telemetry = deps.telemetry ?? powertoolsTelemetry();
  const stores: IngestStores = { events: deps.events, entities: deps.entities, erased: deps.erased };
  const app = new Hono();

  const auth = writeKeyAuth(deps.writeKeys);
  // Counts bytes as they stream in, so an oversized body is refused without being buffered whole.
  const limit = bodyLimit({
    maxSize: limits.maxRequestBytes,
    onError: () => errorToResponse(tooLarge(limits)),
  });

  const ingest = async (
    c: Context,
    route: string,
    normalise: (body: unknown, ctx: NormaliseContext) => NormalisedBatch,
  ): Promise<{ batch: NormalisedBatch; outcome: IngestOutcome }> => {
    const now = clock();
    const { body, bytes } = await readJsonBody(c, limits);
    const batch = normalise(body, { now, limits, bodyBytes: bytes });
    const outcome = await storeBatch(stores, batch);
    telemetry.record({ route, requestId: requestIdOf(c), total: batch.total, ...outcome });
    return { batch, outcome };
  };

  app.post('/v1/events', auth, limit, async (c) => {
    const { batch, outcome } = await ingest(c, 'events', normaliseNative);
    const body = { accepted: outcome.accepted, duplicates: outcome.duplicates, rejected: outcome.rejected };
    if (outcome.accepted + outcome.duplicates > 0 || outcome.rejected.length === 0) return c.json(body, 202);
    return problemResponse({
      type: problemType('events-rejected'),
      title: 'No event was accepted',
      status: 400,
      detail: `All ${batch.total} event(s) were rejected; each error names the event and the field.`,
      ...body,
      errors: flatten(batch),
    });
  });

  const segmentAnswer = (c: Context, batch: NormalisedBatch, outcome: IngestOutcome) => {
    if (outcome.rejected.length === 0) return c.json({ success: true }, 200);
    return problemResponse({
      type: problemType('messages-rejected'),
      title: 'Some messages were rejected',
      status: 400,
      detail: `${outcome.rejected.length} of ${batch.total} message(s) were rejected; the others were stored.`,
      accepted: outcome.accepted,
      duplicates: outcome.duplicates,
      rejected: outcome.rejected,
      errors: flatten(batch),
    });
  };

  app.post('/v1/batch', auth, limit, async (c) => {
    const { batch, outcome } = await ingest(c, 'batch', normaliseSegmentBatch);
    return segmentAnswer(c, batch, outcome);
  });
  for (const type of SEGMENT_TYPES) {
    app.post(`/v1/${type}`, auth, limit, async (c) => {
      const { batch, outcome } = await ingest(c, type, (body, ctx) => normaliseSegmentMessage(type, body, ctx));
      return segmentAnswer(c, batch, outcome);
    });
  }
  return app;
}

/** Every rejection as one list of absolute field paths, e.g. `events[3].timestamp`. */
function flatten(batch: NormalisedBatch): FieldError[] {
  const out: FieldError[] = [];
  for (const rejected of batch.rejected) {
    const prefix = batch.itemsPath ? `${batch.itemsPath}[${rejected.index}]` : '';
    for (const error of rejected.errors) {
      out.push({ path: joinPath(prefix, error.path) || BODY_PATH, message: error.message });
    }
  }
  return out;
}

function tooLarge(limits: IngestLimits): PayloadTooLargeError {
  const kb = Math.round(limits.maxRequestBytes / 1024);
  return new PayloadTooLargeError(`A request body may be at most ${kb} KB; split the batch.`, [
    { path: BODY_PATH, message: `is larger than ${kb} KB` },
  ]);
}

const decoder = new TextDecoder('utf-8');

/** The body as JSON: size-checked (also after decompression), gzip/deflate decoded, parse errors as 400. */
export async function readJsonBody(c: Context, limits: IngestLimits): Promise<{ body: unknown; bytes: number }> {
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > limits.maxRequestBytes) throw tooLarge(limits);
  let raw: Uint8Array = new Uint8Array(await c.req.arrayBuffer());
  if (raw.byteLength > limits.maxRequestBytes) throw tooLarge(limits);

  const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate') {
    try {
      const options = { maxOutputLength: limits.maxRequestBytes };
      raw = encoding === 'deflate' ? inflateSync(raw, options) : gunzipSync(raw, options);
    } catch (error) {
      if (error instanceof RangeError) throw tooLarge(limits);
      throw new InvalidBodyError(
        `The body is not valid ${encoding} data.`,
        [{ path: BODY_PATH, message: `could not be decompressed as ${encoding}` }],
        { cause: error },
      );
    }
  } else if (encoding !== 'identity' && encoding !== '') {
    throw new InvalidBodyError(`Content-Encoding "${encoding}" is not supported.`, [
      { path: BODY_PATH, message: 'must be sent uncompressed or with Content-Encoding gzip or deflate' },
    ]);
  }

  let text = decoder.decode(raw);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') {
    throw new InvalidBodyError('The request body is empty.', [{ path: BODY_PATH, message: 'must be a JSON object' }]);
  }
  try {
    return { body: JSON.parse(text), bytes: raw.byteLength };
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'parse error';
    throw new InvalidBodyError(
      'The request body is not valid JSON.',
      [{ path: BODY_PATH, message: `is not valid JSON: ${reason}` }],
      { cause: error },
    );
  }
}

function requestIdOf(c: Context): string | undefined {
  const env = c.env as { lambdaContext?: { awsRequestId?: string } } | undefined;
  return env?.lambdaContext?.awsRequestId ?? c.req.header('x-request-id');
}
