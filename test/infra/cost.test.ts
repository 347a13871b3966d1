import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYMENT } from '../../infra/cost/deployment.js';
import { COST_ASSUMPTIONS, estimateCost, hotDaysOf } from '../../infra/cost/estimate.js';
import { ENV } from '../../shared/config-names.js';
import { hotWindowOf } from '../../shared/domain/hot-window.js';
import { loadModels } from '../../shared/domain/model/load.js';
import { REPO_MODELS, synthApp, Template } from './support.js';

/** Lambda functions of the service stack by their Pulse role (the description's first words). */
function functionsOf(template: Template): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const [id, fn] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
    const match = /^Pulse(Ingest|Api|RunPlan|RunWorker|RunFinalise)/.exec(id);
    if (match) out.set(match[1]!, fn.Properties as Record<string, unknown>);
  }
  return out;
}

describe('pulse cost prices what the app deploys (one source of truth: infra/cost/deployment.ts)', () => {
  let service: Template;
  let data: Template;

  beforeAll(() => {
    const app = synthApp({ 'pulse:modelsDir': REPO_MODELS });
    service = Template.fromStack(app.service);
    data = Template.fromStack(app.data);
  });

  it('function memory sizes are the ones the compute lines multiply by', () => {
    // Act
    const fns = functionsOf(service);

    // Assert
    expect(fns.get('Ingest')?.MemorySize).toBe(DEPLOYMENT.memoryMb.ingest);
    expect(fns.get('Ingest')?.MemorySize).toBe(COST_ASSUMPTIONS.ingestMemoryGb * 1024);
    expect(fns.get('RunWorker')?.MemorySize).toBe(COST_ASSUMPTIONS.workerMemoryGb * 1024);
    expect(fns.get('RunFinalise')?.MemorySize).toBe(COST_ASSUMPTIONS.finaliseMemoryGb * 1024);
    expect(fns.get('RunPlan')?.MemorySize).toBe(DEPLOYMENT.memoryMb.runPlan);
    expect(fns.get('Api')?.MemorySize).toBe(DEPLOYMENT.memoryMb.api);
  });

  it('the events TTL every function is given is the hot window of the deployed models, as the estimate computes it', () => {
    // Arrange
    const models = loadModels(REPO_MODELS).map((l) => l.model);
    const hot = hotWindowOf(models);

    // Act
    const values = new Set(
      [...functionsOf(service).values()].map(
        (fn) => (fn.Environment as { Variables: Record<string, string> }).Variables[ENV.hotDays],
      ),
    );

    // Assert
    expect(values).toEqual(new Set([String(hot.days)]));
    const longest = Math.max(...models.map((m) => m.windowDays));
    const inactive = Math.max(0, ...models.flatMap((m) => m.penalties.map((p) => p.inactiveDays ?? 0)));
    expect(hotDaysOf({ windowDays: longest, inactiveDays: inactive })).toBe(hot.days);
    expect(
      estimateCost({ eventsPerMonth: 1e6, entities: 1, windowDays: longest, inactiveDays: inactive }).hotDays,
    ).toBe(hot.days);
  });

  it('shards, alarms and PITR are the counts and switches the estimate uses', () => {
    // Act
    const alarms = Object.keys(service.findResources('AWS::CloudWatch::Alarm')).length;
    const tables = Object.values(data.findResources('AWS::DynamoDB::Table'));
    const fns = [...functionsOf(service).values()];

    // Assert
    expect(alarms).toBe(COST_ASSUMPTIONS.alarms);
    for (const fn of fns)
      expect((fn.Environment as { Variables: Record<string, string> }).Variables[ENV.shardCount]).toBe(
        String(DEPLOYMENT.shardCount),
      );
    const pitr = tables.map(
      (t) =>
        (t.Properties.PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled: boolean })
          .PointInTimeRecoveryEnabled,
    );
    expect(pitr.sort()).toEqual([DEPLOYMENT.pitr.events, DEPLOYMENT.pitr.scores].sort());
    // Each table by its index: byAccount on events, byScore on scores.
    const pitrOf = (index: string) =>
      tables.find((t) => JSON.stringify(t.Properties.GlobalSecondaryIndexes).includes(`"IndexName":"${index}"`))!
        .Properties.PointInTimeRecoverySpecification;
    expect(pitrOf('byAccount')).toEqual({ PointInTimeRecoveryEnabled: DEPLOYMENT.pitr.events });
    expect(pitrOf('byScore')).toEqual({ PointInTimeRecoveryEnabled: DEPLOYMENT.pitr.scores });
    const ttl = tables.map((t) => (t.Properties.TimeToLiveSpecification as { AttributeName: string }).AttributeName);
    expect(ttl).toEqual(['expiresAt', 'expiresAt']);
  });

  it('the archive is kept for the retention period and written by one daily schedule in UTC', () => {
    // Act
    const bucket = Object.values(data.findResources('AWS::S3::Bucket')).find((b) =>
      JSON.stringify(b.Properties.LifecycleConfiguration ?? {}).includes('expire-archived-events'),
    );
    const rule = (
      bucket!.Properties.LifecycleConfiguration as { Rules: { Id: string; Prefix: string; ExpirationInDays: number }[] }
    ).Rules.find((r) => r.Id === 'expire-archived-events');
    const schedules = Object.values(service.findResources('AWS::Scheduler::Schedule')).filter((s) =>
      JSON.stringify(s.Properties.Target.Input).includes('archive'),
    );

    // Assert
    expect(rule).toMatchObject({ Prefix: 'events/', ExpirationInDays: DEPLOYMENT.retentionDays });
    expect(schedules).toHaveLength(1);
    const { hour, minute } = DEPLOYMENT.archiveScheduleUtc;
    expect(schedules[0]!.Properties).toMatchObject({
      ScheduleExpression: `cron(${minute} ${hour} * * ? *)`,
      ScheduleExpressionTimezone: 'Etc/UTC',
    });
    expect(JSON.parse(schedules[0]!.Properties.Target.Input as string)).toEqual({ archive: 'scheduled' });
  });
});
