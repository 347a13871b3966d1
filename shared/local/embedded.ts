import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, S3Client, type S3ServiceException } from '@aws-sdk/client-s3';
import type { EmbeddedTable } from '../adapters/dynamodb/sole-writer-event-store.js';
import { PulseError } from '../domain/errors.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalServices } from './config.js';
import { DataDirLockedError, dataPaths, LOCAL_BUCKET, lockDataDir } from './data-dir.js';
import { dynaliteInProcess } from './embedded-table.js';

export { LOCAL_CREDENTIALS, LOCAL_REGION };

/** The DynamoDB local mode uses: the embedded dynalite, or an external service (PULSE_DYNAMODB_ENDPOINT). */
export interface EmbeddedDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** False for an external service (which other processes may share). */
  embedded: boolean;
  /** The embedded store's table written in this process (docs/local-mode.md#ingest-throughput); none when external. */
  table?: ((name: string) => EmbeddedTable) | undefined;
  close(): Promise<void>;
}

/** The S3 local mode uses: the embedded s3rver, or an external service (PULSE_S3_ENDPOINT). */
export interface EmbeddedS3 {
  endpoint: string;
  client: S3Client;
  bucket: string;
  embedded: boolean;
  close(): Promise<void>;
}

/** An error starting an embedded service, with what to do about it. */
export class EmbeddedStartError extends PulseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { kind: 'failed', status: 500, cause: options?.cause });
    this.name = 'EmbeddedStartError';
  }
}

/**
 * dynalite (DynamoDB on LevelDB) on a private loopback port, its data under `<dataDir>/dynamodb`. LevelDB allows
 * one process per directory: a second one gets a clear "already in use" error.
 */
export async function startEmbeddedDynamo(dataDir: string): Promise<EmbeddedDynamo> {
  const path = dataPaths(dataDir).dynamodb;
  mkdirSync(path, { recursive: true });
  let release: () => void;
  try {
    release = lockDataDir(dataDir);
  } catch (error) {
    if (error instanceof DataDirLockedError) throw new EmbeddedStartError(error.message, { cause: error });
    throw error;
  }
  const { server, table } = dynaliteInProcess({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const dbError = await new Promise<Error | undefined>((resolve) => {
    server.once('error', (error: Error) => resolve(error));
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  if (dbError)
    throw new EmbeddedStartError(`cannot start the embedded DynamoDB: ${dbError.message}`, { cause: dbError });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 3 });
  // LevelDB opens lazily: touch it now so a locked directory fails here, not on the first request.
  try {
    await client.send(new ListTablesCommand({}));
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    client.destroy();
    release();
    throw new EmbeddedStartError(
      `cannot open the embedded DynamoDB in ${path} (is another Pulse process using this PULSE_DATA_DIR?)`,
      { cause: error },
    );
  }
  return {
    endpoint,
    client,
    embedded: true,
    table,
    close: () =>
      new Promise<void>((resolve, reject) => {
        client.destroy();
        server.close((error?: Error) => {
          release();
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}

/** The slice of s3rver's API used here (the package ships no types). */
interface S3rverServer {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverServer;

const require = createRequire(import.meta.url);

/** Rejects with EADDRINUSE (or another listen error) when the port cannot be listened on. */
function probePort(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

let anyCredentialsAccepted = false;

/** s3rver only knows its own dummy key pair; map every access key id to that account so any credentials work. */
function acceptAnyCredentials(): void {
  if (anyCredentialsAccepted) return;
  const AWSAccount = require('s3rver/lib/models/account.js') as {
    registry: Map<string, unknown>;
    DUMMY_ACCOUNT: unknown;
  };
  const registry = AWSAccount.registry;
  registry.get = (key: string) => Map.prototype.get.call(registry, key) ?? AWSAccount.DUMMY_ACCOUNT;
  anyCredentialsAccepted = true;
}

/**
 * s3rver on `127.0.0.1:<port>`, its objects under `<dataDir>/s3`, bucket `pulse-local` created when missing.
 * Path-style addressing; any credentials are accepted (SigV4 signatures are not checked).
 */
export async function startEmbeddedS3(dataDir: string, port: number, bucket = LOCAL_BUCKET): Promise<EmbeddedS3> {
  const directory = dataPaths(dataDir).s3;
  mkdirSync(directory, { recursive: true });
  acceptAnyCredentials();
  const S3rver = require('s3rver') as S3rverClass;
  const server = new S3rver({
    port,
    address: '127.0.0.1',
    directory,
    silent: true,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  let address: { port: number };
  try {
    // s3rver emits a listen error as an unhandled 'error' event; find a taken port first.
    if (port !== 0) await probePort(port);
    address = await server.run();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EmbeddedStartError(
      code === 'EADDRINUSE'
        ? `port ${port} of the embedded S3 is in use: set PULSE_S3_PORT to a free port`
        : `cannot start the embedded S3: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
  return {
    endpoint,
    client,
    bucket,
    embedded: true,
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}

function takeDataDir(dataDir: string): () => void {
  try {
    return lockDataDir(dataDir);
  } catch (error) {
    if (error instanceof DataDirLockedError) throw new EmbeddedStartError(error.message, { cause: error });
    throw error;
  }
}

function reason(error: unknown): string {
  const e = error as { name?: string; message?: string; code?: string };
  return e.code ?? (e.message || e.name || String(error));
}

/**
 * The external DynamoDB at PULSE_DYNAMODB_ENDPOINT. The data dir is still taken for this process (it holds the
 * credentials, store.json and server.json the CLI relies on). Unreachable: a start error naming the variable.
 */
export async function openExternalDynamo(dataDir: string, services: LocalServices): Promise<EmbeddedDynamo> {
  const endpoint = services.dynamoEndpoint;
  if (!endpoint) throw new Error('openExternalDynamo needs PULSE_DYNAMODB_ENDPOINT');
  const release = takeDataDir(dataDir);
  const client = new DynamoDBClient({
    endpoint,
    region: services.region,
    credentials: services.credentials,
    maxAttempts: 3,
  });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
  } catch (error) {
    client.destroy();
    release();
    throw new EmbeddedStartError(
      `cannot reach the DynamoDB at PULSE_DYNAMODB_ENDPOINT=${endpoint} (${reason(error)}): start it, or unset the variable to use the embedded one`,
      { cause: error },
    );
  }
  return {
    endpoint,
    client,
    embedded: false,
    close: async () => {
      client.destroy();
      release();
    },
  };
}

/**
 * Create the bucket when missing. Safe when several processes start at once: "already yours" (AWS) and "already
 * exists" (emulators answer that to their only account) both end in a HeadBucket that must succeed.
 */
async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (error) {
    const status = (error as S3ServiceException).$metadata?.httpStatusCode;
    if (status !== 404) throw error;
  }
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  }
}

/** The external S3 at PULSE_S3_ENDPOINT (path-style, as S3-compatible services expect); the bucket made if missing. */
export async function openExternalS3(services: LocalServices): Promise<EmbeddedS3> {
  const endpoint = services.s3Endpoint;
  if (!endpoint) throw new Error('openExternalS3 needs PULSE_S3_ENDPOINT');
  const client = new S3Client({
    endpoint,
    region: services.region,
    credentials: services.credentials,
    forcePathStyle: true,
    maxAttempts: 3,
  });
  try {
    await ensureBucket(client, services.bucket);
  } catch (error) {
    client.destroy();
    throw new EmbeddedStartError(
      `cannot use bucket ${services.bucket} at PULSE_S3_ENDPOINT=${endpoint} (${reason(error)}): start the service, check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or unset the variable to use the embedded S3`,
      { cause: error },
    );
  }
  return {
    endpoint,
    client,
    bucket: services.bucket,
    embedded: false,
    close: async () => client.destroy(),
  };
}

/** Local mode's DynamoDB: external when PULSE_DYNAMODB_ENDPOINT is set, else the embedded one on the data dir. */
export function openLocalDynamo(dataDir: string, services: LocalServices): Promise<EmbeddedDynamo> {
  return services.dynamoEndpoint ? openExternalDynamo(dataDir, services) : startEmbeddedDynamo(dataDir);
}

/** Local mode's S3: external when PULSE_S3_ENDPOINT is set, else the embedded one on the data dir. */
export function openLocalS3(dataDir: string, s3Port: number, services: LocalServices): Promise<EmbeddedS3> {
  return services.s3Endpoint ? openExternalS3(services) : startEmbeddedS3(dataDir, s3Port, services.bucket);
}
