import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import { DataDirLockedError, dataPaths, LOCAL_BUCKET, lockDataDir } from './data-dir.js';

/** Credentials the embedded services accept (any would do; these keep the SDK from looking for real ones). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'pulse-local', secretAccessKey: 'pulse-local' };
export const LOCAL_REGION = 'us-east-1';

export interface EmbeddedDynamo {
  endpoint: string;
  client: DynamoDBClient;
  close(): Promise<void>;
}

export interface EmbeddedS3 {
  endpoint: string;
  client: S3Client;
  bucket: string;
  close(): Promise<void>;
}

/** An error starting an embedded service, with what to do about it. */
export class EmbeddedStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
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
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
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
    const { ListTablesCommand } = await import('@aws-sdk/client-dynamodb');
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
export async function startEmbeddedS3(dataDir: string, port: number): Promise<EmbeddedS3> {
  const directory = dataPaths(dataDir).s3;
  mkdirSync(directory, { recursive: true });
  acceptAnyCredentials();
  const S3rver = require('s3rver') as S3rverClass;
  const server = new S3rver({
    port,
    address: '127.0.0.1',
    directory,
    silent: true,
    configureBuckets: [{ name: LOCAL_BUCKET, configs: [] }],
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
    bucket: LOCAL_BUCKET,
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}
