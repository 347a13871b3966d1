// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import { afterAll, describe, expect, it } from 'vitest';
import { Api, type Child, freePort, startLocalServer, tempDir } from './support.js';

/** `npm start -- --demo`: the newcomer's first minute — scores, bands and alerts over HTTP. */
describe('npm start -- --demo', () => {
  const data = tempDir('pulse-demo-');
  let server: Child | undefined;

  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('loads the demo, runs every model and prints a band summary within a minute', async () => {
    // Arrange
    const env = {
      port: await freePort(),
      s3Port: await freePort(),
      dataDir: data.path,
      apiToken: 'demo-token',
      writeKey: 'demo-key',
    };
    const started = Date.now();

    // Act
    server = await startLocalServer(env, ['--demo']);
    await server.waitFor(/Demo ready in [\d.]+ s\./, 90_000);
    const seconds = (Date.now() - started) / 1000;
    const api = new Api(`http://127.0.0.1:${env.port}`, env.apiToken, env.writeKey);
    const top = await api.get('/v1/scores?model=account&limit=5');
    const alerts = await api.get('/v1/alerts?limit=1000');
    const history = await api.get(`/v1/scores/account/${top.body.items[0].entityId}/history?model=account`);

    // Assert
    expect(server.output()).toMatch(/account\s+high \d+ · medium \d+ · low \d+ · at-risk \d+/);
    expect(top.body.items).toHaveLength(5);
    expect(new Set(alerts.body.items.map((a: any) => a.type))).toEqual(
      new Set(['ScoreDropped', 'ScoreSpiked', 'BandChanged']),
    );
    expect(history.body.items).toHaveLength(3);
    // A minute on a quiet 2-core machine; the bound leaves room for a busy CI runner.
    expect(seconds).toBeLessThan(90);
  }, 120_000);
});
