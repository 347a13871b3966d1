// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Api, type Child, freePort, runPulse, serverEnv, startLocalServer, tempDir } from './support.js';

/** `npm start -- --demo`: the newcomer's first minute — scores, bands and alerts over HTTP. */
describe('npm start -- --demo', () => {
  const data = tempDir('pulse-demo-');
  let server: Child | undefined;
  let serverVars: Parameters<typeof serverEnv>[0] | undefined;

  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('loads the demo, runs every model and prints a band summary (its time is measured by the bench, not here)', async () => {
    // Arrange
    const env = {
      port: await freePort(),
      s3Port: await freePort(),
      dataDir: data.path,
      apiToken: 'demo-token',
      writeKey: 'demo-key',
    };
    serverVars = env;

    // Act
    server = await startLocalServer(env, ['--demo']);
    await server.waitFor(/Demo ready in [\d.]+ s\./, 300_000);
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
  }, 360_000);

  it('writes outcomes for its paying accounts and prints the calibrate command, which runs against the live store', async () => {
    // Arrange
    const outcomesFile = join(data.path, 'demo', 'outcomes.csv');
    const command = server!.output().match(/npx pulse calibrate (--model account --outcomes \S+ --horizon-days 7)/);
    const rows = readFileSync(outcomesFile, 'utf8').trim().split('\n');
    const env = serverEnv(serverVars!);

    // Act: exactly the printed command, with --json and --out added
    const args = command![1]!.split(' ');
    args[3] = join(data.path, 'demo', 'outcomes.csv');
    const run = await runPulse(['calibrate', ...args, '--json', '--out', join(data.path, 'calibration')], env);

    // Assert
    expect(rows[0]).toBe('entity_type,entity_id,outcome,outcome_date');
    expect(rows.length - 1).toBeGreaterThan(100);
    const churned = rows.filter((r) => r.includes(',churned,')).length;
    expect(churned).toBeGreaterThan(20);
    expect(rows.length - 1 - churned).toBeGreaterThan(20);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.output.slice(run.output.indexOf('{')));
    // Behaviour drives the outcomes: the score predicts them clearly better than chance, out of sample too.
    expect(json.model.auc).toBeGreaterThan(0.6);
    expect(json.suggested.cvAuc).toBeGreaterThan(0.65);
    expect(existsSync(json.suggested.file)).toBe(true);
    for (const band of json.suggested.bands) expect(band.n / json.n).toBeLessThanOrEqual(0.7);
  }, 180_000);
});
