import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localConfig } from '../../shared/local/config.js';
import { type LocalServer, startLocalServer } from '../../shared/local/server.js';
import { type DynamoHarness, haveJava, startDynamoDbLocal } from './dynamo.js';

/**
 * The real local server (`npm start`'s server, in this process, on free ports and a fresh data dir) on either
 * DynamoDB engine: `dynalite` is the embedded default; `dynamodb-local` points it at AWS's DynamoDB Local through
 * PULSE_DYNAMODB_ENDPOINT (byte-accurate key and item limits). Suites that need DynamoDB Local check `haveJava`
 * and skip with the reason in the test name.
 */
export type LocalEngine = 'dynalite' | 'dynamodb-local';

export const LOCAL_ENGINES: readonly LocalEngine[] = ['dynalite', 'dynamodb-local'];

/** Whether an engine can run on this machine (DynamoDB Local needs Java). */
export const engineAvailable = (engine: LocalEngine): boolean => engine === 'dynalite' || haveJava;

export interface LocalServerOnEngine {
  engine: LocalEngine;
  url: string;
  apiToken: string;
  writeKey: string;
  dataDir: string;
  server: LocalServer;
  /** DynamoDB Local, when the engine is `dynamodb-local` (shared with other servers when one was passed in). */
  dynamo?: DynamoHarness | undefined;
  /** The environment the server was configured from (to open the same store again, e.g. with the CLI). */
  env: NodeJS.ProcessEnv;
  /** Stop the server, the DynamoDB Local it started (not one passed in) and remove the data dir. */
  stop(): Promise<void>;
}

export interface StartLocalServerOnOptions {
  /** A running DynamoDB Local to share (each server gets its own table prefix); default: start one. */
  dynamo?: DynamoHarness | undefined;
  modelsDir?: string | undefined;
  /** More variables (e.g. PULSE_RETENTION_DAYS). */
  env?: NodeJS.ProcessEnv | undefined;
}

/** The environment variables that point local mode at a DynamoDB Local (or any DynamoDB-compatible endpoint). */
export function externalDynamoEnv(dynamo: DynamoHarness, tablePrefix?: string): NodeJS.ProcessEnv {
  return {
    PULSE_DYNAMODB_ENDPOINT: dynamo.endpoint,
    ...(tablePrefix ? { PULSE_TABLE_PREFIX: tablePrefix } : {}),
  };
}

export async function startLocalServerOn(
  engine: LocalEngine,
  options: StartLocalServerOnOptions = {},
): Promise<LocalServerOnEngine> {
  const dataDir = mkdtempSync(join(tmpdir(), `pulse-${engine}-`));
  const ownDynamo = engine === 'dynamodb-local' && !options.dynamo;
  const dynamo =
    engine === 'dynamodb-local' ? (options.dynamo ?? (await startDynamoDbLocal({ sharedDb: true }))) : undefined;
  const apiToken = `pat_${randomUUID()}`;
  const writeKey = `pwk_${randomUUID()}`;
  const env: NodeJS.ProcessEnv = {
    PORT: '0',
    PULSE_DATA_DIR: dataDir,
    PULSE_API_TOKEN: apiToken,
    PULSE_WRITE_KEY: writeKey,
    ...(options.modelsDir ? { PULSE_MODELS_DIR: options.modelsDir } : {}),
    ...(dynamo ? externalDynamoEnv(dynamo, `pulse-${randomUUID().slice(0, 8)}`) : {}),
    ...options.env,
  };
  let server: LocalServer;
  try {
    server = await startLocalServer(localConfig(env, dataDir, { s3Port: 0, quiet: true }));
  } catch (error) {
    if (ownDynamo) await dynamo?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    engine,
    url: server.url,
    apiToken,
    writeKey,
    dataDir,
    server,
    dynamo,
    env,
    stop: async () => {
      await server.close();
      if (ownDynamo) await dynamo?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
