import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoEntityStore } from '../adapters/dynamodb/entity-store.js';
import { DynamoEventStore } from '../adapters/dynamodb/event-store.js';
import { EVENTS_TABLE, ensureTable, SCORES_TABLE } from '../adapters/dynamodb/tables.js';
import { DirectorySnapshotStore } from '../adapters/fs/snapshot-store.js';
import { S3SnapshotStore } from '../adapters/s3/snapshot-store.js';
import { CalibrateError, CalibrateUsageError } from '../calibrate/errors.js';
import { findModelPrefix } from '../calibrate/snapshots.js';
import { type EventSource, storeEventSource } from '../calibrate/sources.js';
import { ModelValidationError } from '../domain/model/errors.js';
import { type LoadedModel, loadModelFile } from '../domain/model/load.js';
import { EXAMPLE_MODELS_DIR, LocalConfigError, type LocalServices, localServices } from '../local/config.js';
import { dataDirOf, dataPaths } from '../local/data-dir.js';
import { EmbeddedStartError, openLocalDynamo, openLocalS3 } from '../local/embedded.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import { runningLocalServer } from './target.js';

/** Where the CLI runs: its environment and working directory. */
export interface CalibrateEnv {
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const MODEL_NAME = /^[a-z0-9-]+$/;
const MODEL_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** The stores' settings from the environment (docs/configuration.md#local-mode); a bad value is a usage error. */
function servicesOf(where: CalibrateEnv): LocalServices {
  try {
    return localServices(where.env);
  } catch (error) {
    if (error instanceof LocalConfigError) throw new CalibrateUsageError(error.message, { cause: error });
    throw error;
  }
}

/** A data dir for messages: relative to where the user is when that is shorter. */
function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && rel.length < path.length ? rel : path;
}

/** The active models' directory: PULSE_MODELS_DIR, else the repository's models/ (docs/local-mode.md). */
export function modelsDirOf({ env, cwd }: CalibrateEnv): string {
  return env.PULSE_MODELS_DIR ? resolve(cwd, env.PULSE_MODELS_DIR) : EXAMPLE_MODELS_DIR;
}

/** Every model of the directory that loads (a broken file does not hide the others). */
function activeModels(dir: string): LoadedModel[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter(
      (f) => MODEL_EXTENSIONS.has(extname(f)) && !f.endsWith('.schema.json') && !f.includes('.suggested.'),
    );
  } catch {
    return [];
  }
  return files.sort().flatMap((f) => {
    try {
      return [loadModelFile(join(dir, f))];
    } catch (error) {
      if (error instanceof ModelValidationError) return [];
      throw error;
    }
  });
}

/**
 * `--model`: a model file, or the name of an active model (PULSE_MODELS_DIR, default the repository's models/).
 * Anything else is a usage error listing the active models. An invalid file throws ModelValidationError (exit 1).
 */
export function resolveModel(spec: string, where: CalibrateEnv): LoadedModel {
  const path = resolve(where.cwd, spec);
  if (existsSync(path) && statSync(path).isFile()) return loadModelFile(where.cwd === process.cwd() ? spec : path);
  const dir = modelsDirOf(where);
  const models = activeModels(dir);
  if (MODEL_NAME.test(spec)) {
    const found = models.find((m) => m.model.name === spec);
    if (found) return found;
  }
  const names = models.map((m) => m.model.name);
  throw new CalibrateUsageError(
    `--model ${spec}: no such file, and no active model of that name in ${shown(dir, where.cwd)} (${names.length > 0 ? `models: ${names.join(', ')}` : 'it holds no valid models'}); give a model file or one of those names`,
  );
}

export interface OpenedEvents {
  source: EventSource;
  close(): Promise<void>;
}

function storedShardCount(dataDir: string): number | undefined {
  try {
    const n = (JSON.parse(readFileSync(join(dataDir, 'store.json'), 'utf8')) as { shardCount?: unknown }).shardCount;
    return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The events of the local store in PULSE_DATA_DIR, read like the run workers read them. When `npm start` is
 * running on the directory it holds the embedded DynamoDB (LevelDB admits one process), so the store is read
 * through that server's DynamoDB endpoint (from its server.json); otherwise it is opened in this process.
 */
export async function openLocalEvents(where: CalibrateEnv): Promise<OpenedEvents> {
  const dataDir = dataDirOf(where.env, where.cwd);
  const dirShown = shown(dataDir, where.cwd);
  const shardCount = storedShardCount(dataDir);
  if (shardCount === undefined) {
    throw new CalibrateUsageError(
      `without --events, events come from the local store in ${dirShown}, which holds none yet: pass --events <file.jsonl>, or ingest first (npm start, then pulse ingest <file>); PULSE_DATA_DIR chooses the store`,
    );
  }
  const services = servicesOf(where);
  const server = await runningLocalServer(dataDir);
  if (server) {
    if (!server.dynamoUrl) {
      throw new CalibrateError(
        `the local server ${server.url} (pid ${server.pid}) holds the store in ${dirShown} and does not say where its database listens: restart it (npm start) or stop it (Ctrl-C), or pass --events <file.jsonl>`,
      );
    }
    const client = new DynamoDBClient({
      endpoint: server.dynamoUrl,
      region: services.region,
      credentials: services.credentials,
      maxAttempts: 3,
    });
    return {
      source: storeEventSource({
        events: new DynamoEventStore({
          client,
          tableName: server.eventsTable ?? services.eventsTable,
          shardCount,
        }),
        entities: new DynamoEntityStore({
          client,
          tableName: server.scoresTable ?? services.scoresTable,
          shardCount,
        }),
        label: `the local store in ${dirShown} (through the server at ${server.url})`,
      }),
      close: async () => client.destroy(),
    };
  }
  let dynamo: Awaited<ReturnType<typeof openLocalDynamo>>;
  try {
    dynamo = await openLocalDynamo(dataDir, services);
  } catch (error) {
    if (error instanceof EmbeddedStartError)
      throw new CalibrateError(`${error.message}; or pass --events <file.jsonl>`, { cause: error });
    throw error;
  }
  try {
    await ensureTable(dynamo.client, EVENTS_TABLE, services.eventsTable);
    await ensureTable(dynamo.client, SCORES_TABLE, services.scoresTable);
  } catch (error) {
    await dynamo.close();
    throw error;
  }
  return {
    source: storeEventSource({
      events: new DynamoEventStore({ client: dynamo.client, tableName: services.eventsTable, shardCount }),
      entities: new DynamoEntityStore({ client: dynamo.client, tableName: services.scoresTable, shardCount }),
      label: `the local store in ${dirShown}`,
    }),
    close: () => dynamo.close(),
  };
}

export interface OpenedSnapshots {
  objects: SnapshotStore;
  /** Key prefix under which `snapshots/` (or `model=<name>/`) is looked for. */
  base: string;
  /** For messages: where the snapshots are. */
  label: string;
  close(): Promise<void>;
}

export interface SnapshotLocationOptions {
  /** The client for `s3://` locations (default: the AWS SDK's default credential and region chain). */
  s3Client?: S3Client | undefined;
}

/**
 * `--snapshots [location]`: the local embedded S3 of PULSE_DATA_DIR (no location: through the running server's
 * S3 when `npm start` runs, else started in this process), `s3://bucket[/prefix]` with the default AWS credential
 * chain, or a folder holding a copy of the bucket (`aws s3 sync s3://bucket/snapshots ./snapshots`).
 */
export async function openSnapshotLocation(
  location: string | true,
  where: CalibrateEnv,
  options: SnapshotLocationOptions = {},
): Promise<OpenedSnapshots> {
  if (location === true) return openLocalSnapshots(where);
  if (/^s3:\/\//i.test(location)) {
    const match = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(location);
    if (!match) throw new CalibrateUsageError(`--snapshots ${location}: give s3://bucket or s3://bucket/prefix`);
    const bucket = match[1]!;
    const prefix = match[2]!;
    const owned = options.s3Client === undefined;
    const client = options.s3Client ?? new S3Client({ followRegionRedirects: true });
    return {
      objects: new S3SnapshotStore({ client, bucket }),
      base: prefix,
      label: `s3://${bucket}/${prefix}`,
      close: async () => {
        if (owned) client.destroy();
      },
    };
  }
  const path = resolve(where.cwd, location);
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new CalibrateUsageError(
      `--snapshots ${location}: no such folder; give s3://bucket[/prefix], a folder holding a copy of the snapshots, or no value for the local store`,
    );
  }
  // A folder that is one model's snapshots (…/model=customer) is read from its parent.
  const name = basename(path);
  const root = name.startsWith('model=') ? dirname(path) : path;
  return {
    objects: new DirectorySnapshotStore(root),
    base: name.startsWith('model=') ? `${name}/` : '',
    label: `${shown(root, where.cwd)}/`,
    close: async () => {},
  };
}

async function openLocalSnapshots(where: CalibrateEnv): Promise<OpenedSnapshots> {
  const dataDir = dataDirOf(where.env, where.cwd);
  const dirShown = shown(dataDir, where.cwd);
  const services = servicesOf(where);
  const server = await runningLocalServer(dataDir);
  if (server) {
    const client = new S3Client({
      endpoint: server.s3Url,
      region: services.region,
      credentials: services.credentials,
      forcePathStyle: true,
    });
    const bucket = server.bucket ?? services.bucket;
    return {
      objects: new S3SnapshotStore({ client, bucket }),
      base: '',
      label: `s3://${bucket}/ (the local S3 at ${server.s3Url})`,
      close: async () => client.destroy(),
    };
  }
  if (!services.s3Endpoint && !existsSync(dataPaths(dataDir).s3)) {
    throw new CalibrateUsageError(
      `--snapshots without a location reads the local store in ${dirShown}, which has no snapshots yet: run the model first (pulse run <model>), or give s3://bucket[/prefix] or a folder`,
    );
  }
  let s3: Awaited<ReturnType<typeof openLocalS3>>;
  try {
    s3 = await openLocalS3(dataDir, 0, services);
  } catch (error) {
    if (error instanceof EmbeddedStartError) throw new CalibrateError(error.message, { cause: error });
    throw error;
  }
  return {
    objects: new S3SnapshotStore({ client: s3.client, bucket: s3.bucket }),
    base: '',
    label: s3.embedded ? `s3://${s3.bucket}/ in ${dirShown}` : `s3://${s3.bucket}/ at ${s3.endpoint}`,
    close: () => s3.close(),
  };
}

/** The model's partitions in an opened location, or a CalibrateError saying where it looked. */
export async function modelSnapshotPrefix(opened: OpenedSnapshots, modelName: string): Promise<string> {
  let prefix: string | undefined;
  try {
    prefix = await findModelPrefix(opened.objects, opened.base, modelName);
  } catch (error) {
    const message = (error as Error).message;
    throw new CalibrateError(
      `cannot list ${opened.label}: ${message}${opened.label.startsWith('s3://') && !opened.label.includes('local') ? ' (credentials and region come from the default AWS chain: AWS_PROFILE or AWS_ACCESS_KEY_ID…, and AWS_REGION)' : ''}`,
    );
  }
  if (prefix === undefined) {
    throw new CalibrateError(
      `no snapshots of model "${modelName}" in ${opened.label} (looked for snapshots/model=${modelName}/ and model=${modelName}/): run the model first (pulse run ${modelName}), or check the location`,
    );
  }
  return prefix;
}
