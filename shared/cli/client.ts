import { CliError, EXIT_FAILURE, EXIT_USAGE } from './io.js';

/** How the CLI reaches Pulse: over HTTP, or straight into an in-process app (local store, no server running). */
export interface ApiTarget {
  /** For messages: the URL, or a description of the local store. */
  label: string;
  baseUrl: string;
  fetch: (request: Request) => Promise<Response>;
  apiToken?: string | undefined;
  writeKey?: string | undefined;
  close(): Promise<void>;
}

export interface Problem {
  title?: string;
  detail?: string;
  errors?: { path: string; message: string }[];
}

export interface IngestResponse {
  accepted: number;
  duplicates: number;
  rejected: { index: number; errors: { path: string; message: string }[] }[];
}

/**
 * An HTTP answer that is not a success: carries the status so callers can decide to retry. A 400 means the
 * arguments the user gave were refused (unknown model, bad band, ...): bad usage, exit 2.
 */
export class ApiError extends CliError {
  constructor(message: string, status: number) {
    super(message, status === 400 ? EXIT_USAGE : EXIT_FAILURE, { kind: 'upstream-failed', status });
    this.name = 'ApiError';
  }
}

/** The target could not be reached at all (connection refused, DNS, reset): retryable. */
export class UnreachableError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT_FAILURE, { kind: 'unavailable', status: 503, cause: options?.cause });
    this.name = 'UnreachableError';
  }
}

function problemMessage(status: number, body: unknown): string {
  const p = (body ?? {}) as Problem;
  const fields = (p.errors ?? []).map((e) => `${e.path}: ${e.message}`).join('; ');
  return [`HTTP ${status}${p.title ? ` ${p.title}` : ''}`, fields || p.detail].filter(Boolean).join(' — ');
}

/** A thin client of the Pulse HTTP API (docs/data-model.md#ingest-contract-details, docs/api.md). */
export class PulseClient {
  constructor(readonly target: ApiTarget) {}

  async send(
    method: string,
    path: string,
    options: { body?: unknown; auth: 'api' | 'write' },
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.auth === 'api') {
      if (!this.target.apiToken)
        throw new CliError('no API token: set PULSE_API_TOKEN (printed by npm start) or pass --token');
      headers.authorization = `Bearer ${this.target.apiToken}`;
    } else {
      if (!this.target.writeKey)
        throw new CliError('no write key: pass --write-key or set PULSE_WRITE_KEY (printed by npm start)');
      headers.authorization = `Basic ${Buffer.from(`${this.target.writeKey}:`).toString('base64')}`;
    }
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.target.fetch(
        new Request(new URL(path, this.target.baseUrl), {
          method,
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
        }),
      );
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new UnreachableError(`cannot reach Pulse at ${this.target.label} (${cause}); is it running?`, {
        cause: error,
      });
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      body = { detail: text.slice(0, 200) };
    }
    return { status: response.status, body };
  }

  /** Success bodies only; anything else becomes an ApiError with the problem's title, detail and fields. */
  async call<T>(method: string, path: string, options: { body?: unknown; auth: 'api' | 'write' }): Promise<T> {
    const { status, body } = await this.send(method, path, options);
    if (status >= 200 && status < 300) return body as T;
    if (status === 401) {
      const what =
        options.auth === 'api' ? 'API token (PULSE_API_TOKEN / --token)' : 'write key (--write-key / PULSE_WRITE_KEY)';
      throw new ApiError(`the ${what} was refused by ${this.target.label}`, status);
    }
    throw new ApiError(problemMessage(status, body), status);
  }

  /**
   * `POST /v1/events`. A 400 whose body is an ingest result (every event rejected) is a result, not an error;
   * 5xx and unreachable are thrown for the caller to retry.
   */
  async ingest(events: readonly unknown[]): Promise<IngestResponse> {
    const { status, body } = await this.send('POST', '/v1/events', { body: { events }, auth: 'write' });
    const result = body as Partial<IngestResponse> | undefined;
    if ((status === 202 || status === 200 || status === 400) && typeof result?.accepted === 'number') {
      return { accepted: result.accepted, duplicates: result.duplicates ?? 0, rejected: result.rejected ?? [] };
    }
    if (status === 401)
      throw new ApiError(
        `the write key was refused by ${this.target.label}: pass --write-key or set PULSE_WRITE_KEY`,
        status,
      );
    throw new ApiError(problemMessage(status, body), status);
  }
}
