import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runPulse, tempDir } from './support.js';

/** The CLI without --url and without a running server: it opens the local store in PULSE_DATA_DIR itself. */
describe('pulse on the local store (no server running)', () => {
  const data = tempDir('pulse-cli-store-');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULSE_DATA_DIR: data.path,
    PULSE_MODELS_DIR: join(ROOT, 'test/e2e/fixtures/models'),
  };
  delete env.PULSE_API_TOKEN;
  delete env.PULSE_WRITE_KEY;
  afterAll(() => data.remove());

  it('ingests a CSV, runs a model and lists the scores', async () => {
    // Arrange: u1 logs in once, u2 three times, two days ago.
    const day = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    const file = join(data.path, 'events.csv');
    writeFileSync(
      file,
      `name,userId,timestamp\nlogin,u1,${day}T09:00:00Z\nlogin,u2,${day}T09:00:00Z\nlogin,u2,${day}T10:00:00Z\nlogin,u2,${day}T11:00:00Z\n`,
    );

    // Act
    const ingest = await runPulse(['ingest', file], env);
    const run = await runPulse(['run', 'activity', '--as-of', day], env);
    const scores = await runPulse(['scores'], env);

    // Assert
    expect(ingest.code).toBe(0);
    expect(ingest.output).toContain('accepted 4, duplicates 0, rejected 0');
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/succeeded \(as of \d{4}-\d{2}-\d{2}\): 2 entities scored from 4 events/);
    expect(run.output).toContain('snapshot s3://pulse-local/snapshots/model=activity/');
    expect(scores.code).toBe(0);
    expect(scores.output).toMatch(/user\s+u2\s+30\s+low/);
    expect(scores.output).toMatch(/user\s+u1\s+10\s+low/);
  });

  it('exits 2 naming the model when it is not an active one', async () => {
    const result = await runPulse(['run', 'nope', '--as-of', '2026-03-01'], env);
    expect(result.code).toBe(2);
    expect(result.output).toContain('model: unknown model "nope"; active models: activity');
  });
});
