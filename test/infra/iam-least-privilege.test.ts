import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_ENTRIES } from '../../infra/constructs/pulse-service.js';
import { PROJECT_DIR, type SdkCommand, SdkCommandScanner } from '../support/sdk-commands.js';
import { actionsOf, REPO_MODELS, resourcesOf, statementsOfRole, synthApp, Template } from './support.js';

/** Role logical-id prefix of each function in FUNCTION_ENTRIES. */
const ROLES: Record<keyof typeof FUNCTION_ENTRIES, string> = {
  ingest: 'PulseIngestRole',
  api: 'PulseApiRole',
  runPlan: 'PulseRunPlanRole',
  runWorker: 'PulseRunWorkerRole',
  runFinalise: 'PulseRunFinaliseRole',
};

/** The resource of the template a grant is on, from the logical ids its ARN refers to. */
function resourceKind(resource: unknown): string {
  const text = JSON.stringify(resource);
  for (const [needle, kind] of [
    ['EventsTable', 'events-table'],
    ['ScoresTable', 'scores-table'],
    ['SnapshotBucket', 'bucket'],
    ['AlertBus', 'alert-bus'],
    ['WriteKeys', 'write-keys'],
    ['StateMachine', 'state-machine'],
  ] as const)
    if (text.includes(needle)) return kind;
  return `unknown ${text}`;
}

/** Which table an adapter's DynamoDB commands go to. */
function tableOf(command: SdkCommand): string {
  if (['DynamoEventStore', 'DynamoEventEraser', 'DynamoEntityEventReader'].includes(command.adapter ?? ''))
    return 'events-table';
  if (command.adapter?.startsWith('Dynamo')) return 'scores-table';
  throw new Error(`${command.command} is issued outside a DynamoDB adapter: say which table it uses`);
}

/**
 * The IAM `<resource> <action>` pairs an SDK command needs. A command missing here fails the test, so a new
 * command cannot slip past it: add its mapping (and the grant).
 */
function permissionsFor(command: SdkCommand): string[] {
  const action = command.command.replace(/Command$/, '');
  switch (command.client) {
    case 'client-dynamodb':
      return [`${tableOf(command)} dynamodb:${action}`];
    case 'client-s3': {
      const s3: Record<string, string[]> = {
        // ListBucket too: without it S3 answers a missing key with 403, not 404 (docs/deploy.md#security-notes).
        GetObject: ['s3:GetObject', 's3:ListBucket'],
        PutObject: ['s3:PutObject'],
        ListObjectsV2: ['s3:ListBucket'],
        DeleteObjects: ['s3:DeleteObject'],
      };
      if (!s3[action]) throw new Error(`no IAM mapping for S3 ${action}`);
      return s3[action].map((a) => `bucket ${a}`);
    }
    case 'client-eventbridge':
      return [`alert-bus events:${action}`];
    case 'client-secrets-manager':
      return [`write-keys secretsmanager:${action}`];
    case 'client-sfn':
      return [`state-machine states:${action}`];
    default:
      throw new Error(`no IAM mapping for ${command.client} ${action}`);
  }
}

describe('least privilege, both ways: each role grants exactly what its code can issue', () => {
  let scanner: SdkCommandScanner;
  let template: Template;

  beforeAll(() => {
    scanner = new SdkCommandScanner(PROJECT_DIR, Object.values(FUNCTION_ENTRIES), ['DynamoTable']);
    template = Template.fromStack(synthApp({ 'pulse:modelsDir': REPO_MODELS }).service);
  }, 600_000);

  for (const [fn, entry] of Object.entries(FUNCTION_ENTRIES) as [keyof typeof FUNCTION_ENTRIES, string][])
    it(`${fn}: the synthesised role allows exactly the SDK commands reachable from ${entry}`, () => {
      // Arrange: what the code can issue, from the handler's call graph.
      const commands = scanner.commandsOf(entry);
      const needed = new Set(commands.flatMap(permissionsFor));

      // Act: what the role allows (logs and X-Ray are the platform's, granted to every function).
      const granted = new Set<string>();
      for (const statement of statementsOfRole(template, ROLES[fn])) {
        expect(statement.Effect).toBe('Allow');
        for (const action of actionsOf(statement)) {
          if (action.startsWith('logs:') || action.startsWith('xray:')) continue;
          for (const resource of resourcesOf(statement)) granted.add(`${resourceKind(resource)} ${action}`);
        }
      }

      // Assert
      expect(commands.length).toBeGreaterThan(0);
      expect([...granted].sort()).toEqual([...needed].sort());
    });

  it('finds commands through port interfaces only in the adapters a function constructs', () => {
    // The API function builds no event store and no S3 store: nothing of ingest's or of the run's reaches it.
    const api = scanner.commandsOf(FUNCTION_ENTRIES.api);
    expect(api.some((c) => c.adapter === 'DynamoEventStore' || c.client === 'client-s3')).toBe(false);
    // Shared table helpers and base classes act for the adapter that calls them: erasing a user's events is the
    // events eraser's Query and BatchWriteItem (events table), not a helper's (which would say scores table).
    expect(api.filter((c) => c.adapter === 'DynamoTable' || c.adapter === 'TableEraser')).toEqual([]);
    expect(api.filter((c) => c.adapter === 'DynamoEventEraser').map((c) => c.command)).toEqual([
      'BatchWriteItemCommand',
      'QueryCommand',
    ]);
    // Ingest writes events through EventStore.putEvents, one conditional put each: no Query of the events table,
    // and none of local mode's sole-writer batch calls.
    const ingest = scanner.commandsOf(FUNCTION_ENTRIES.ingest);
    expect(ingest.filter((c) => c.adapter === 'DynamoEventStore').map((c) => c.command)).toEqual(['PutItemCommand']);
  });
});
