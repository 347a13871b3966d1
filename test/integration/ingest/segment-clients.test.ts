import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import Rudder from '@rudderstack/rudder-sdk-node';
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryEntityStore } from '../../../shared/adapters/memory/entity-store.js';
import { InMemoryEventStore } from '../../../shared/adapters/memory/event-store.js';
import { createApp } from '../../../shared/http/app.js';
import { staticWriteKeys } from '../../../shared/http/auth.js';
import type { IngestTelemetry } from '../../../shared/http/ingest-routes.js';

/** Stock Segment and RudderStack server-side libraries, unchanged, pointed at Pulse over real HTTP. */
const WRITE_KEY = 'wk_test_clients';

describe('Segment and RudderStack clients against the ingest app', () => {
  // One app and one pair of stores for the file; each test uses its own user ids.
  const events = new InMemoryEventStore(16);
  const entities = new InMemoryEntityStore(16);
  let url: string;
  let close: () => Promise<void>;
  const routes: string[] = [];
  let duplicates = 0;

  beforeAll(async () => {
    const telemetry: IngestTelemetry = {
      record: (entry) => {
        routes.push(`${entry.route}:${entry.rejected.length}`);
        duplicates += entry.duplicates;
      },
    };
    const app = createApp({
      ingest: {
        events,
        entities,
        writeKeys: staticWriteKeys([WRITE_KEY]),
        telemetry,
      },
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  });
  // The RudderStack typings omit messageId, which the library and the Segment spec accept.
  const withMessageId = (messageId: string) => ({ messageId }) as object;
  const eventsOf = (userPrefix: string) => events.all().filter((e) => e.userId.startsWith(userPrefix));
  afterAll(async () => {
    await close?.();
  });
  beforeEach(() => {
    routes.length = 0;
    duplicates = 0;
  });

  it('@segment/analytics-node: track, identify, group, page land as events, traits and an account link', async () => {
    // Arrange
    const analytics = new Analytics({ writeKey: WRITE_KEY, host: url, maxRetries: 0, flushAt: 50 });
    const errors: unknown[] = [];
    analytics.on('error', (e) => errors.push(e));

    // Act
    analytics.identify({ userId: 'seg-user-1', traits: { plan: 'pro', role: 'admin' } });
    analytics.group({ userId: 'seg-user-1', groupId: 'seg-acc-1', traits: { name: 'Acme', seats: 12 } });
    analytics.track({ userId: 'seg-user-1', event: 'project_created', properties: { template: 'blank' } });
    analytics.track({
      userId: 'seg-user-2',
      event: 'report_exported',
      messageId: 'seg-fixed-id',
      context: { groupId: 'seg-acc-2' },
    });
    analytics.page({ userId: 'seg-user-2', name: 'Pricing', properties: { path: '/pricing' } });
    await analytics.closeAndFlush({ timeout: 10_000 });

    // Assert
    expect(errors).toEqual([]);
    expect(routes).toEqual(['batch:0']);
    const stored = eventsOf('seg-').sort((a, b) => a.name.localeCompare(b.name));
    expect(stored.map((e) => [e.name, e.userId, e.accountId])).toEqual([
      ['page_viewed', 'seg-user-2', undefined],
      ['project_created', 'seg-user-1', 'seg-acc-1'],
      ['report_exported', 'seg-user-2', 'seg-acc-2'],
    ]);
    expect(stored[0]?.properties).toMatchObject({ path: '/pricing', name: 'Pricing' });
    expect(stored[1]?.properties).toEqual({ template: 'blank' });
    expect(stored[2]?.eventId).toBe('seg-fixed-id');
    expect(await entities.get('user', 'seg-user-1')).toMatchObject({
      traits: { plan: 'pro', role: 'admin' },
      accountId: 'seg-acc-1',
    });
    expect((await entities.get('account', 'seg-acc-1'))?.traits).toEqual({ name: 'Acme', seats: 12 });
  });

  it('@rudderstack/rudder-sdk-node (gzip bodies): track, identify, group land, and a resend is counted once', async () => {
    // Arrange
    const client = new Rudder(WRITE_KEY, { dataPlaneUrl: url, flushAt: 50, flushInterval: 60_000, retryCount: 0 });

    // Act
    client.identify({ userId: 'rs-user-1', traits: { plan: 'trial' } });
    client.group({ userId: 'rs-user-1', groupId: 'rs-acc-1', traits: { industry: 'retail' } });
    client.track({ userId: 'rs-user-1', event: 'login', properties: { method: 'sso' }, ...withMessageId('rs-m-1') });
    client.screen({ userId: 'rs-user-1', name: 'Home' });
    await client.flush();
    client.track({ userId: 'rs-user-1', event: 'login', properties: { method: 'sso' }, ...withMessageId('rs-m-1') });
    await client.flush();

    // Assert
    // The SDK sends its first message on its own, then batches: every request was accepted whole.
    expect(routes.length).toBeGreaterThanOrEqual(2);
    expect(routes.every((r) => r === 'batch:0')).toBe(true);
    expect(duplicates).toBe(1);
    const stored = eventsOf('rs-').sort((a, b) => a.name.localeCompare(b.name));
    expect(stored.map((e) => [e.eventId === 'rs-m-1', e.name, e.accountId])).toEqual([
      [true, 'login', 'rs-acc-1'],
      [false, 'screen_viewed', 'rs-acc-1'],
    ]);
    expect(stored[0]?.properties).toEqual({ method: 'sso' });
    expect(await entities.get('user', 'rs-user-1')).toMatchObject({ traits: { plan: 'trial' }, accountId: 'rs-acc-1' });
    expect((await entities.get('account', 'rs-acc-1'))?.traits).toEqual({ industry: 'retail' });
  });

  it('refuses a client with a wrong write key (401) and stores nothing', async () => {
    // Arrange
    const analytics = new Analytics({ writeKey: 'not-the-key', host: url, maxRetries: 0 });
    const errors: unknown[] = [];
    analytics.on('error', (e) => errors.push(e));

    // Act
    analytics.track({ userId: 'bad-key-user', event: 'login' });
    await analytics.closeAndFlush({ timeout: 10_000 });

    // Assert
    expect(errors.length).toBeGreaterThan(0);
    expect(routes).toEqual([]);
    expect(eventsOf('bad-key-')).toEqual([]);
  });
});
