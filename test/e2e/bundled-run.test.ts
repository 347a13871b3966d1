import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/constructs/pulse-function.js';
import { DynamoEventStore } from '../../shared/adapters/dynamodb/event-store.js';
import { DynamoRunStore } from '../../shared/adapters/dynamodb/run-store.js';
import { DynamoScoreStore } from '../../shared/adapters/dynamodb/score-store.js';
import { S3SnapshotStore } from '../../shared/adapters/s3/snapshot-store.js';
import { ENV } from '../../shared/config-names.js';
import type { ScoringEvent } from '../../shared/domain/event.js';
import { loadModels } from '../../shared/domain/model/load.js';
import type { RunRecord } from '../../shared/ports/run-store.js';
import { latestKey } from '../../shared/run/keys.js';
import type { LatestPointer, SnapshotManifest } from '../../shared/run/snapshot.js';
import { REPO_MODELS, synthApp, Template } from '../infra/support.js';
import { createPulseTables, type DynamoHarness, haveJava, startDynamoDbLocal } from '../support/dynamo.js';
import { type S3Harness, startS3rver } from '../support/s3.js';

/**
 * The run functions exactly as deployed: the cdk.out bundles, each in its own plain `node` process (no tsx), driven
 * through the synthesised state machine definition (its states, parameters, item reader key and choices), against
 * DynamoDB Local and s3rver. Bundled once for every test in this file.
 */

type Json = Record<string, unknown>;
interface State extends Json {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  Parameters?: Json;
  ResultPath?: string | null;
  Choices?: { Variable: string; BooleanEquals?: boolean; IsPresent?: boolean; Next: string }[];
  Default?: string;
  ItemReader?: { Parameters: Json };
  ItemProcessor?: { StartAt: string; States: Record<string, State> };
  ResultSelector?: Json;
}
interface Definition {
  StartAt: string;
  States: Record<string, State>;
}

const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const REGION = 'us-east-1';
const SHARDS = 16;
const FULL_BUDGET_MS = 15 * 60_000;

function get(path: string, data: unknown): unknown {
  if (path === '$') return data;
  let value: unknown = data;
  for (const part of path.replace(/^\$\./, '').split('.')) value = (value as Json | undefined)?.[part];
  return value;
}

function parameters(template: Json, input: unknown): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) out[key.slice(0, -2)] = get(value as string, input);
    else out[key] = value !== null && typeof value === 'object' ? parameters(value as Json, input) : value;
  }
  return out;
}

function withResult(input: unknown, resultPath: string | null | undefined, result: unknown): unknown {
  if (resultPath === null) return input;
  if (resultPath === undefined || resultPath === '$') return result;
  const parts = resultPath.replace(/^\$\./, '').split('.');
  const copy = structuredClone(input) as Json;
  let at = copy;
  for (const part of parts.slice(0, -1)) {
    at[part] ??= {};
    at = at[part] as Json;
  }
  at[parts.at(-1)!] = result;
  return copy;
}

/** A Lambda function as a long-lived child process running its bundle (one cold start, many invocations). */
class BundledFunction {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly invocations: unknown[] = [];

  private constructor(private readonly child: ChildProcess) {
    child.on(
      'message',
      (message: { id: number; result?: unknown; error?: { errorType: string; errorMessage: string } }) => {
        const waiter = this.pending.get(message.id);
        if (!waiter) return;
        this.pending.delete(message.id);
        if (message.error) waiter.reject(new Error(`${message.error.errorType}: ${message.error.errorMessage}`));
        else waiter.resolve(message.result);
      },
    );
  }

  static async start(bundle: string, env: Record<string, string>): Promise<BundledFunction> {
    const child = fork(join(PROJECT_ROOT, 'test', 'e2e', 'fixtures', 'lambda-runner.mjs'), [bundle], {
      env,
      // Plain node: none of the test runner's loaders.
      execArgv: [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const ready = await new Promise<{ ready: boolean; error?: { errorMessage: string } }>((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`${bundle} exited with ${code}: ${stderr}`)));
    });
    if (!ready.ready) throw new Error(`${bundle} failed to start: ${ready.error?.errorMessage}`);
    return new BundledFunction(child);
  }

  invoke(event: unknown, remainingMs = FULL_BUDGET_MS): Promise<unknown> {
    const id = this.next++;
    this.invocations.push(event);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, event, remainingMs });
    });
  }

  stop(): void {
    this.child.kill();
  }
}

/** EventBridge PutEvents (JSON protocol) that accepts every entry and records it. */
async function startEventBus(): Promise<{ server: Server; endpoint: string; entries: unknown[] }> {
  const entries: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const request = JSON.parse(body || '{}') as { Entries?: unknown[] };
      entries.push(...(request.Entries ?? []));
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      res.end(
        JSON.stringify({
          FailedEntryCount: 0,
          Entries: (request.Entries ?? []).map((_, i) => ({ EventId: `e-${entries.length}-${i}` })),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, endpoint: `http://127.0.0.1:${port}`, entries };
}

/** The app synthesised with real bundling (local esbuild, no Docker), once for this file. */
let bundled: Promise<{ directory: string; template: Template }> | undefined;
function bundle(): Promise<{ directory: string; template: Template }> {
  bundled ??= (async () => {
    const { app, service } = synthApp({ 'pulse:modelsDir': REPO_MODELS }, { bundle: true });
    const assembly = app.synth();
    return { directory: assembly.directory, template: Template.fromStack(service) };
  })();
  return bundled;
}

describe('real bundling synth (local esbuild, no Docker)', () => {
  it('builds an ESM bundle with source map per function and ships the validated models with those that need them', async () => {
    // Arrange
    const { directory, template } = await bundle();

    // Act
    const fns = template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } });
    const bundles = Object.entries(fns).map(([id, fn]) => {
      const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
      return { id, dir: join(directory, `asset.${hash}`), env: fn.Properties.Environment.Variables };
    });

    // Assert
    expect(bundles).toHaveLength(5);
    const modelFiles = loadModels(REPO_MODELS)
      .map((m) => m.file.split('/').pop())
      .sort();
    for (const { id, dir, env } of bundles) {
      expect(existsSync(join(dir, 'index.mjs')), id).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map')), id).toBe(true);
      expect(readFileSync(join(dir, 'index.mjs'), 'utf8').slice(0, 200)).toContain('createRequire');
      if (env.PULSE_MODELS_DIR) expect(readdirSync(join(dir, 'models')).sort(), id).toEqual(modelFiles);
      else expect(existsSync(join(dir, 'models')), id).toBe(false);
    }

    // The ESM bundles load in Node: no `require is not defined`, no missing module. A handler may still refuse to
    // start here for want of its configuration (no AWS environment), which is the cold-start check working.
    for (const { id, dir } of bundles) {
      const loaded = await import(pathToFileURL(join(dir, 'index.mjs')).href).then(
        (mod: { handler?: unknown }) => typeof mod.handler,
        (error: Error) => error.message,
      );
      expect(loaded, id).not.toMatch(/require is not defined|Cannot find (module|package)|Dynamic require|SyntaxError/);
    }
  }, 900_000);
});

describe.skipIf(!haveJava)(
  'bundled run handlers driven by the synthesised state machine (DynamoDB Local needs Java)',
  () => {
    let dynamo: DynamoHarness;
    let s3: S3Harness;
    let bus: Awaited<ReturnType<typeof startEventBus>>;
    let definition: Definition;
    const functions = new Map<string, BundledFunction>();
    let client: DynamoDBClient;
    let tables: { eventsTable: string; scoresTable: string };

    beforeAll(async () => {
      // Arrange: bundle once, as `cdk synth` does, and read what the template says.
      const built = await bundle();
      const assembly = { directory: built.directory };
      const template = built.template.toJSON() as {
        Resources: Record<string, { Type: string; Properties: Json }>;
      };
      const [machine] = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
      const tokens: unknown[] = [];
      const parts = (machine!.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      definition = JSON.parse(
        parts.map((part) => (typeof part === 'string' ? part : `__TOKEN_${tokens.push(part) - 1}__`)).join(''),
      ) as Definition;

      [dynamo, s3, bus] = await Promise.all([startDynamoDbLocal(), startS3rver(), startEventBus()]);
      // DynamoDB Local keeps one database per access key: the handlers and this test use the same one.
      client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: CREDENTIALS });
      tables = await createPulseTables(client);

      // Each function the definition invokes, started from its asset with its template environment.
      const taskResources = new Set<string>();
      const collect = (states: Record<string, State>) => {
        for (const state of Object.values(states)) {
          if (state.Type === 'Task' && state.Resource) taskResources.add(state.Resource);
          if (state.ItemProcessor) collect(state.ItemProcessor.States);
        }
      };
      collect(definition.States);
      for (const resource of taskResources) {
        const token = tokens[Number(/^__TOKEN_(\d+)__$/.exec(resource)?.[1])] as { 'Fn::GetAtt': [string, string] };
        const logicalId = token['Fn::GetAtt'][0];
        const fn = template.Resources[logicalId]!.Properties;
        const bundleDir = join(assembly.directory, `asset.${String((fn.Code as Json).S3Key).replace(/\.zip$/, '')}`);
        const env: Record<string, string> = {
          PATH: process.env.PATH ?? '',
          AWS_REGION: REGION,
          AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
          AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
          AWS_ENDPOINT_URL_S3: s3.endpoint,
          AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
        };
        const local: Record<string, string> = {
          [ENV.eventsTable]: tables.eventsTable,
          [ENV.scoresTable]: tables.scoresTable,
          [ENV.snapshotBucket]: s3.bucket,
          [ENV.alertBus]: 'pulse-alerts',
          [ENV.modelsDir]: join(bundleDir, 'models'),
        };
        for (const [name, value] of Object.entries((fn.Environment as { Variables: Json }).Variables)) {
          if (local[name] !== undefined) env[name] = local[name];
          else if (typeof value === 'string') env[name] = value;
          else throw new Error(`${logicalId}: no local value for ${name}`);
        }
        expect(existsSync(join(bundleDir, 'index.mjs'))).toBe(true);
        functions.set(resource, await BundledFunction.start(join(bundleDir, 'index.mjs'), env));
      }
    }, 900_000);

    afterAll(async () => {
      for (const fn of functions.values()) fn.stop();
      await Promise.all([dynamo?.stop(), s3?.stop(), new Promise((r) => bus?.server.close(r))]);
    });

    /**
     * Run an execution the way Step Functions would, for the states this definition uses. `budget(item, attempt)`
     * is the time a worker invocation has left (a Lambda's remaining time), to make workers checkpoint.
     */
    async function execute(
      input: unknown,
      budget: (item: Json, invocation: number) => number = () => FULL_BUDGET_MS,
    ): Promise<unknown> {
      const runStates = async (states: Record<string, State>, startAt: string, start: unknown, item?: Json) => {
        let name: string | undefined = startAt;
        let data = start;
        let invocation = 0;
        for (let steps = 0; name !== undefined; steps++) {
          if (steps > 500) throw new Error('the execution did not end');
          const state: State = states[name]!;
          switch (state.Type) {
            case 'Task': {
              const fn = functions.get(state.Resource!)!;
              const payload = state.Parameters ? parameters(state.Parameters, data) : data;
              const remaining = item ? budget(item, invocation++) : FULL_BUDGET_MS;
              data = withResult(data, state.ResultPath, await fn.invoke(payload, remaining));
              break;
            }
            case 'Choice': {
              const match = state.Choices!.find((c) =>
                c.IsPresent !== undefined
                  ? (get(c.Variable, data) !== undefined) === c.IsPresent
                  : get(c.Variable, data) === c.BooleanEquals,
              );
              name = match?.Next ?? state.Default;
              continue;
            }
            case 'Map': {
              const key = get(state.ItemReader!.Parameters['Key.$'] as string, data) as string;
              const objects = new S3SnapshotStore({ client: s3.client, bucket: s3.bucket });
              const items = JSON.parse(new TextDecoder().decode((await objects.get(key))!)) as Json[];
              const processor = state.ItemProcessor!;
              const results = [];
              for (const each of items) results.push(await runStates(processor.States, processor.StartAt, each, each));
              data = withResult(data, state.ResultPath, {
                ResultWriterDetails: { Bucket: s3.bucket, Key: 'local' },
                results,
              });
              break;
            }
            case 'Pass':
              data = withResult(data, state.ResultPath, state.Parameters ? parameters(state.Parameters, data) : data);
              break;
            case 'Succeed':
              return data;
            case 'Fail':
              throw new Error(`execution failed: ${JSON.stringify(data)}`);
            default:
              throw new Error(`state type ${state.Type} is not simulated`);
          }
          name = state.End ? undefined : state.Next;
        }
        return data;
      };
      return runStates(definition.States, definition.StartAt, input);
    }

    it('scores a model’s first-ever run (no latest.json yet) and a second run, with workers that checkpoint', async () => {
      // Arrange: a month of events for 40 users in 8 accounts, written by the events adapter the functions read.
      const events = new DynamoEventStore({ client, tableName: tables.eventsTable, shardCount: SHARDS });
      const batch: ScoringEvent[] = [];
      for (let user = 0; user < 40; user++)
        for (let day = 1; day <= 28; day += 1 + (user % 4)) {
          const at = Date.parse(`2026-02-${String(day).padStart(2, '0')}T10:00:00Z`) + user * 60_000;
          batch.push({
            eventId: `e-${user}-${day}-p`,
            name: 'project_created',
            userId: `u${user}`,
            accountId: `a${user % 8}`,
            timestamp: at,
          });
          batch.push({
            eventId: `e-${user}-${day}-l`,
            name: 'login',
            userId: `u${user}`,
            accountId: `a${user % 8}`,
            timestamp: at + 1000,
          });
        }
      for (let i = 0; i < batch.length; i += 500) await events.putEvents(batch.slice(i, i + 500));
      const runs = new DynamoRunStore({ client, tableName: tables.scoresTable });
      const scores = new DynamoScoreStore({ client, tableName: tables.scoresTable, shardCount: SHARDS });
      const objects = new S3SnapshotStore({ client: s3.client, bucket: s3.bucket });
      expect(await objects.get(latestKey('customer'))).toBeUndefined();
      const worker = functions.get(definition.States.ScoreShards!.ItemProcessor!.States.ScoreShard!.Resource!)!;

      // Act 1: the first-ever run. Each worker's first invocation has no time left: it reads one day and
      // checkpoints; the state machine invokes it again with its progress.
      const first = (await execute({ model: 'customer', asOf: '2026-03-01' }, (_item, n) =>
        n === 0 ? 0 : FULL_BUDGET_MS,
      )) as {
        plan: { runId: string };
        result: { status: string; done: boolean };
      };

      // Assert 1: every shard took two invocations, the second one carrying on from the first one's checkpoint.
      expect(first.result).toMatchObject({ status: 'succeeded', done: true });
      expect(worker.invocations).toHaveLength(2 * SHARDS);
      expect(worker.invocations.filter((i) => (i as Json).checkpoint !== undefined)).toHaveLength(SHARDS);
      const firstRun = (await runs.get(first.plan.runId)) as RunRecord;
      expect(firstRun).toMatchObject({ status: 'succeeded', counts: { entities: 40, events: batch.length } });
      const latest1 = JSON.parse(
        new TextDecoder().decode((await objects.get(latestKey('customer')))!),
      ) as LatestPointer;
      expect(latest1).toMatchObject({ date: '2026-03-01', runId: first.plan.runId });
      const manifest1 = JSON.parse(
        new TextDecoder().decode((await objects.get(latest1.manifest))!),
      ) as SnapshotManifest;
      expect(manifest1.rowCount).toBe(40);
      // Scratch objects (shard list, raw rows, checkpoints) are gone once the run succeeded.
      expect(await objects.list(`runs/${first.plan.runId}/`)).toEqual([]);
      const u1 = (await scores.getCurrent('user', 'u1', ['customer']))[0]!;
      expect(u1.previous).toBeNull();

      // Act 2: the next day's run of the same model.
      const second = (await execute({ model: 'customer', asOf: '2026-03-02' })) as {
        plan: { runId: string };
        result: { status: string };
      };

      // Assert 2
      expect(second.result).toMatchObject({ status: 'succeeded' });
      const latest2 = JSON.parse(
        new TextDecoder().decode((await objects.get(latestKey('customer')))!),
      ) as LatestPointer;
      expect(latest2).toMatchObject({ date: '2026-03-02', runId: second.plan.runId });
      const u1again = (await scores.getCurrent('user', 'u1', ['customer']))[0]!;
      expect(u1again.asOf).toBe((await runs.get(second.plan.runId))!.asOf);
      expect(u1again.asOf > u1.asOf).toBe(true);
      expect(u1again.previous).toMatchObject({ score: u1.score, asOf: u1.asOf });
      expect(worker.invocations).toHaveLength(3 * SHARDS);
    }, 900_000);
  },
);
