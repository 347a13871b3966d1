import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import {
  type AlertPageQuery,
  type AlertView,
  type DashboardData,
  DashboardInputError,
  DashboardSourceError,
  type EntityType,
  type EntityView,
  type HistoryView,
  type ModelView,
  type Page,
  type RunView,
  type ScoreListView,
  type ScorePageQuery,
} from './data.js';

/**
 * How requests to a deployed scores API are authorised (docs/dashboard.md#against-aws): a bearer token (a JWT for
 * the JWT authorizer, or PULSE_API_TOKEN of a local server), or SigV4 with the caller's AWS credentials for the
 * IAM authorizer (service `execute-api`).
 */
export type RemoteAuth =
  | { kind: 'bearer'; token: string }
  | { kind: 'sigv4'; region: string; credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider };

export interface RemoteDashboardOptions {
  /** The API's base URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com (a stage path is kept). */
  url: string;
  auth: RemoteAuth;
  /** Per request (default 20 s). */
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
}

/** Signs one request: the headers to send with it. */
export type RequestSigner = (request: {
  method: string;
  url: URL;
  headers: Record<string, string>;
}) => Promise<Record<string, string>>;

export function requestSigner(auth: RemoteAuth): RequestSigner {
  if (auth.kind === 'bearer') {
    return async ({ headers }) => ({ ...headers, authorization: `Bearer ${auth.token}` });
  }
  const signer = new SignatureV4({
    service: 'execute-api',
    region: auth.region,
    credentials: auth.credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  return async ({ method, url, headers }) => {
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: { ...headers, host: url.host },
    });
    // fetch sets Host itself from the URL (the same value that was signed).
    const { host: _host, ...rest } = signed.headers;
    return rest;
  };
}

/** The region of an API Gateway URL (`<id>.execute-api.<region>.amazonaws.com`), if it is one. */
export function regionOfApiUrl(url: string): string | undefined {
  try {
    return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(new URL(url).hostname)?.[1];
  } catch {
    return undefined;
  }
}

/** A page query as the API's query parameters (unset ones are left out when the URL is built). */
function pageParams(query: ScorePageQuery | AlertPageQuery): Record<string, string | undefined> {
  return { ...query, limit: String(query.limit) };
}

interface Problem {
  title?: string;
  detail?: string;
  errors?: { path: string; message: string }[];
}

/** The dashboard's data read through a scores API (docs/api.md): the same pages, against a deployed stack. */
export class RemoteDashboardData implements DashboardData {
  readonly source: string;
  private readonly base: URL;
  private readonly sign: RequestSigner;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: RemoteDashboardOptions) {
    this.base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
    this.source = this.base.origin + this.base.pathname.replace(/\/$/, '');
    this.sign = requestSigner(options.auth);
    this.timeoutMs = options.timeoutMs ?? 20_000;
    this.fetch = options.fetch ?? fetch;
  }

  async models(): Promise<ModelView[]> {
    return (await this.get<Page<ModelView>>('v1/models')).items;
  }

  async runs(query: { model?: string | undefined; limit: number }): Promise<RunView[]> {
    return (await this.get<Page<RunView>>('v1/runs', { model: query.model, limit: String(query.limit) })).items;
  }

  async scores(query: ScorePageQuery): Promise<Page<ScoreListView>> {
    return this.get<Page<ScoreListView>>('v1/scores', pageParams(query));
  }

  async entity(entityType: EntityType, entityId: string, model?: string): Promise<EntityView | null> {
    return this.get<EntityView>(`v1/scores/${entityType}/${encodeURIComponent(entityId)}`, { model }, true);
  }

  async history(entityType: EntityType, entityId: string, model: string): Promise<HistoryView[]> {
    const path = `v1/scores/${entityType}/${encodeURIComponent(entityId)}/history`;
    return (await this.get<Page<HistoryView>>(path, { model })).items;
  }

  async alerts(query: AlertPageQuery): Promise<Page<AlertView>> {
    return this.get<Page<AlertView>>('v1/alerts', pageParams(query));
  }

  private async get<T>(path: string, params?: Record<string, string | undefined>): Promise<T>;
  private async get<T>(path: string, params: Record<string, string | undefined>, nullOn404: true): Promise<T | null>;
  private async get<T>(
    path: string,
    params: Record<string, string | undefined> = {},
    nullOn404 = false,
  ): Promise<T | null> {
    const url = new URL(path, this.base);
    for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
    const headers = await this.sign({ method: 'GET', url, headers: { accept: 'application/json' } });
    let response: Response;
    try {
      response = await this.fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new DashboardSourceError(
        `the scores API at ${this.source} did not answer: ${(error as Error).message}`,
        undefined,
        {
          cause: error,
        },
      );
    }
    if (response.ok) return (await response.json()) as T;
    if (response.status === 404 && nullOn404) return null;
    const problem = (await response.json().catch(() => ({}))) as Problem;
    if (response.status === 400) {
      const first = problem.errors?.[0];
      throw new DashboardInputError(first?.path ?? 'query', first?.message ?? problem.detail ?? 'is not valid');
    }
    if (response.status === 401 || response.status === 403) {
      throw new DashboardSourceError(
        `the scores API refused the credentials (${response.status}): ${problem.detail ?? problem.title ?? 'check --jwt or your AWS credentials'}`,
        response.status,
      );
    }
    throw new DashboardSourceError(
      `the scores API answered ${response.status} to GET /${path}: ${problem.detail ?? problem.title ?? ''}`.trim(),
      response.status,
    );
  }
}
