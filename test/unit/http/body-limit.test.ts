// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import type { Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { describe, expect, it } from 'vitest';
import { InMemoryAlertStore } from '../../../shared/adapters/memory/alert-sink.js';
import { InMemoryEntityStore } from '../../../shared/adapters/memory/entity-store.js';
import { InMemoryEventStore } from '../../../shared/adapters/memory/event-store.js';
import { InMemoryRunStore } from '../../../shared/adapters/memory/run-store.js';
import { InMemoryScoreStore } from '../../../shared/adapters/memory/score-store.js';
import { type LoadedModel, modelContentHash } from '../../../shared/domain/model/load.js';
import { apiRoutes } from '../../../shared/http/api-routes.js';
import { API_MAX_BODY_BYTES, composeApp, createApp } from '../../../shared/http/app.js';
import { staticWriteKeys } from '../../../shared/http/auth.js';
import { DEFAULT_LIMITS } from '../../../shared/ingest/limits.js';
import { model } from '../../support/engine.js';

const TOKEN = 't';
const m = model({ name: 'activity', signals: [{ name: 'logins', event: 'login', weight: 1 }] });
const models: LoadedModel[] = [{ model: m, file: 'activity.yaml', contentHash: modelContentHash(m) }];

const api = () =>
  apiRoutes({
    auth: { mode: 'token', token: TOKEN },
    models: () => models,
    scores: new InMemoryScoreStore(),
    runs: new InMemoryRunStore(),
    alerts: new InMemoryAlertStore(),
    launcher: { start: async () => ({ runId: 'r', status: 'queued' }) },
  });

const app = createApp({
  ingest: {
    events: new InMemoryEventStore(4, 50),
    entities: new InMemoryEntityStore(4, 50),
    writeKeys: staticWriteKeys(['wk']),
    telemetry: { record() {} },
  },
  apiRoutes: api(),
});

/** A JSON body of about `bytes` bytes: valid JSON, so only its size can be refused. */
const jsonOf = (bytes: number) => JSON.stringify({ model: 'activity', asOf: '2026-03-01', pad: 'x'.repeat(bytes) });
const bearer = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const basic = { authorization: `Basic ${Buffer.from('wk:').toString('base64')}`, 'content-type': 'application/json' };

/** A body without a content-length (chunked), so the limit has to count bytes as they stream in. */
function streamOf(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + 16_384));
      offset += 16_384;
    },
  });
}

describe('request body limit', () => {
  it.each([
    ['POST', '/v1/runs'],
    ['PUT', '/v1/overrides/user/u1'],
    ['DELETE', '/v1/overrides/user/u1?model=activity'],
    ['POST', '/v1/models/activity/shadow'],
    ['POST', '/v1/scores'],
    ['POST', '/nowhere'],
    ['POST', '/healthz'],
  ])('%s %s: 413 problem naming the body and the limit', async (method, path) => {
    // Act
    const response = await app.request(path, { method, headers: bearer, body: jsonOf(API_MAX_BODY_BYTES) });
    const body = (await response.json()) as any;

    // Assert
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(body).toMatchObject({ type: 'urn:pulse:problem:payload-too-large', status: 413 });
    expect(body.errors).toEqual([{ path: '(body)', message: 'is larger than 256 KB' }]);
  });

  it('counts a streamed body without content-length, and lets a body within the limit through', async () => {
    // Act
    const streamed = await app.request('/v1/runs', {
      method: 'POST',
      headers: bearer,
      body: streamOf(jsonOf(API_MAX_BODY_BYTES)),
      duplex: 'half',
    } as RequestInit);
    const small = await app.request('/v1/runs', {
      method: 'POST',
      headers: bearer,
      body: JSON.stringify({ model: 'activity', asOf: '2026-03-01' }),
    });

    // Assert
    expect(streamed.status).toBe(413);
    expect(small.status).toBe(202);
  });

  it('keeps the ingest routes on their own limit (512 KB, as documented)', async () => {
    // Arrange: 300 KB is over the API limit but within ingest's.
    const events = (n: number, pad: number) =>
      JSON.stringify({
        events: Array.from({ length: n }, (_, i) => ({
          name: 'login',
          userId: `u${i}`,
          eventId: `e${i}`,
          timestamp: Date.now() - 60_000,
          properties: { pad: 'x'.repeat(pad) },
        })),
      });

    // Act
    const within = await app.request('/v1/events', { method: 'POST', headers: basic, body: events(20, 15_000) });
    const over = await app.request('/v1/events', {
      method: 'POST',
      headers: basic,
      body: events(30, 20_000),
    });

    // Assert
    expect(events(20, 15_000).length).toBeGreaterThan(API_MAX_BODY_BYTES);
    expect(within.status).toBe(202);
    expect(over.status).toBe(413);
    expect(((await over.json()) as any).errors[0].message).toBe(
      `is larger than ${DEFAULT_LIMITS.maxRequestBytes / 1024} KB`,
    );
  });

  it('answers 413 through the Lambda adapter too', async () => {
    // Arrange: the API function's app behind hono/aws-lambda, as functions/api/handler.ts builds it.
    const handler = handle(composeApp([api()]));
    const event = (body: string) =>
      ({
        version: '2.0',
        routeKey: '$default',
        rawPath: '/v1/runs',
        rawQueryString: '',
        headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
        requestContext: {
          http: { method: 'POST', path: '/v1/runs', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 't' },
          authorizer: { iam: { userArn: 'arn:aws:iam::1:user/a' } },
        },
        body,
        isBase64Encoded: false,
      }) as unknown as Parameters<typeof handler>[0];

    // Act
    const result = (await handler(event(jsonOf(API_MAX_BODY_BYTES)), {} as Context)) as any;

    // Assert
    expect(result.statusCode).toBe(413);
    expect(JSON.parse(result.body)).toMatchObject({ status: 413, type: 'urn:pulse:problem:payload-too-large' });
  });
});
