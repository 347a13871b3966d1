import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYMENT } from '../../infra/cost/deployment.js';
import { EVENT_ARCHIVE_COLUMNS } from '../../shared/domain/event-archive-schema.js';
import { actionsOf, REPO_MODELS, resourcesOf, statementsOfRole, synthApp, Template } from './support.js';

describe('event archive infrastructure', () => {
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(synthApp({ 'pulse:modelsDir': REPO_MODELS }).service);
  });

  it('a Glue table over events/ with partition projection on dt and shard, columns from the archive schema', () => {
    // Act
    const tables = Object.values(template.findResources('AWS::Glue::Table')).map((t) => t.Properties);
    const events = tables.find((t) => t.TableInput.Name === 'events')!;
    const snapshots = tables.find((t) => t.TableInput.Name === 'snapshots')!;
    const input = events.TableInput;

    // Assert
    expect(events.DatabaseName).toEqual(snapshots.DatabaseName);
    expect(input.PartitionKeys).toEqual([
      { Name: 'dt', Type: 'string', Comment: expect.any(String) },
      { Name: 'shard', Type: 'int', Comment: expect.any(String) },
    ]);
    expect(input.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => [c.Name, c.Type])).toEqual(
      EVENT_ARCHIVE_COLUMNS.map((c) => [c.name, c.type]),
    );
    expect(input.Parameters).toMatchObject({
      classification: 'parquet',
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.shard.type': 'integer',
      'projection.shard.range': `0,${DEPLOYMENT.shardCount - 1}`,
    });
    const placeholders = ['dt', 'shard'].map((k) => `${k}=\${${k}}`).join('/');
    expect(JSON.stringify(input.Parameters['storage.location.template'])).toContain(`/events/${placeholders}/`);
    expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    );
  });

  it('the state machine archives on { "archive" } input with the worker function, and only then', () => {
    // Act
    const [sm] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const body = sm!.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
    const text = body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');

    // Assert
    expect(text).toContain('"StartAt":"ArchiveOrRun?"');
    expect(text).toContain('"Choices":[{"Variable":"$.archive","IsPresent":true,"Next":"ArchiveEvents"}]');
    expect(text).toContain('"Default":"Plan"');
    const archiveState = text.slice(text.indexOf('"ArchiveEvents":{'));
    expect(archiveState.slice(0, 1500)).toContain('PulseRunWorker');
  });

  it('the worker reads and writes events/ and nothing else new; ingest and the API never touch it', () => {
    // Act
    const worker = statementsOfRole(template, 'PulseRunWorkerRole');
    const onArchive = (prefix: string) => worker.filter((s) => JSON.stringify(resourcesOf(s)).includes(prefix));

    // Assert
    expect(onArchive('/events/*').flatMap(actionsOf).sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    for (const role of ['PulseIngestRole', 'PulseApiRole']) {
      expect(JSON.stringify(statementsOfRole(template, role))).not.toContain('/events/*');
    }
  });
});
