/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { csrf } from 'hono/csrf';
import { html } from 'hono/html';
import { HTTPException } from 'hono/http-exception';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { z } from 'zod';
import { isoDate } from '../domain/dates.js';
import type { ErrorLog } from '../http/problem.js';
import { logger as defaultLogger } from '../observability.js';
import {
  type AlertView,
  type DashboardData,
  DashboardInputError,
  DashboardSourceError,
  type EntityType,
  type ModelView,
} from './data.js';
import {
  AlertsPage,
  EntityPage,
  ErrorPage,
  LoginPage,
  ModelPage,
  OverviewPage,
  RunsPage,
  summarisedRuns,
} from './pages.js';
import { endSession, hasSession, safeNext, startSession, tokenMatches, withoutToken } from './session.js';

export interface DashboardDeps {
  data: DashboardData;
  /** The token that signs a browser in (`?token=` or the sign-in form): PULSE_API_TOKEN locally. */
  token: string;
  clock?: (() => number) | undefined;
  logger?: ErrorLog | undefined;
}

/** Paths the dashboard answers (everything else falls through to the API and its 404). */
const PAGE_PATHS = ['/', '/models/*', '/entities/*', '/alerts', '/runs'] as const;

/** Recent runs the overview reads per model (band mix over time). */
const OVERVIEW_RUNS = 12;
const OVERVIEW_ALERTS = 5;
const ALERT_DAYS = 30;
/** The entity page looks for the entity's alerts among this many of the model's latest alerts. */
const ENTITY_ALERT_SCAN = 1000;
const ENTITY_ALERT_DAYS = 90;
const CSV_PAGE = 1000;

const SECURITY_HEADERS: Record<string, string> = {
  // No scripts at all; inline styles only; forms post to this site only.
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/** Bytes of a dashboard form (sign-in, sign-out). */
const FORM_MAX_BYTES = 8 * 1024;

const modelName = z.string().regex(/^[a-z0-9-]+$/, 'must be a model name ([a-z0-9-]+)');
const cursor = z.string().min(1).max(4096);
const calendarDate = isoDate();
const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

const ModelPageQuery = z.object({
  band: z.preprocess(emptyAsUndefined, z.string().min(1).max(200).optional()),
  limit: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(200).optional()),
  cursor: z.preprocess(emptyAsUndefined, cursor.optional()),
  from: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).optional()),
  sort: z.preprocess(emptyAsUndefined, z.enum(['score-desc']).optional()),
});
const EntityParams = z.object({
  type: z.enum(['user', 'account'], { error: 'must be "user" or "account"' }),
  id: z.string().min(1).max(256),
});
const EntityQuery = z.object({ model: z.preprocess(emptyAsUndefined, modelName.optional()) });
const AlertsQuery = z.object({
  model: z.preprocess(emptyAsUndefined, modelName.optional()),
  since: z.preprocess(emptyAsUndefined, calendarDate.optional()),
  cursor: z.preprocess(emptyAsUndefined, cursor.optional()),
});
const RunsQuery = z.object({ model: z.preprocess(emptyAsUndefined, modelName.optional()) });

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new DashboardInputError(issue.path.map(String).join('.') || 'query', issue.message);
}

const page = (c: Context, element: JSX.Element, status: 200 | 400 | 401 | 403 | 404 | 413 | 500 | 502 = 200) =>
  c.html(html`<!doctype html>${element}`, status);

/**
 * The dashboard (docs/dashboard.md): server-rendered, read-only pages over one DashboardData, signed in with a
 * session cookie. Mounted on the local server's app next to the API, or served alone by `pulse dashboard`.
 */
export function dashboardRoutes(deps: DashboardDeps): Hono {
  if (deps.token.length === 0) throw new Error('the dashboard token must not be empty');
  const { data } = deps;
  const clock = deps.clock ?? Date.now;
  const log = deps.logger ?? defaultLogger;
  const app = new Hono();
  const daysAgo = (days: number) => new Date(clock() - days * 86_400_000).toISOString().slice(0, 10);

  const secure = async (c: Context, next: () => Promise<void>) => {
    await next();
    for (const [key, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(key, value);
  };
  for (const path of [...PAGE_PATHS, '/login', '/logout']) app.use(path, secure);
  app.use('/login', csrf());
  app.use('/logout', csrf());
  // A sign-in form is a token and a path: refuse anything bigger before parsing it (docs/dashboard.md).
  const formLimit = bodyLimit({ maxSize: FORM_MAX_BYTES });
  app.use('/login', formLimit);
  app.use('/logout', formLimit);

  // Sign-in: `?token=` on any page sets the session cookie and redirects to the same page without it.
  for (const path of PAGE_PATHS) {
    app.use(path, async (c, next) => {
      const token = c.req.query('token');
      if (token !== undefined) {
        if (!tokenMatches(token, deps.token)) {
          return page(
            c,
            <LoginPage source={data.source} next={withoutToken(c.req.url)} error="That token is not valid." />,
            401,
          );
        }
        startSession(c, deps.token);
        return c.redirect(withoutToken(c.req.url), 303);
      }
      if (!hasSession(c, deps.token)) {
        return page(c, <LoginPage source={data.source} next={withoutToken(c.req.url)} />, 401);
      }
      await next();
    });
  }

  app.get('/login', (c) => {
    const next = safeNext(c.req.query('next'));
    if (hasSession(c, deps.token)) return c.redirect(next, 303);
    return page(c, <LoginPage source={data.source} next={next} />);
  });

  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const next = safeNext(form.next);
    const token = typeof form.token === 'string' ? form.token : '';
    if (!tokenMatches(token, deps.token)) {
      return page(c, <LoginPage source={data.source} next={next} error="That token is not valid." />, 401);
    }
    startSession(c, deps.token);
    return c.redirect(next, 303);
  });

  app.post('/logout', (c) => {
    endSession(c);
    return c.redirect('/login', 303);
  });

  app.get('/', async (c) => {
    const models = await data.models();
    const since = daysAgo(ALERT_DAYS);
    const overviews = await Promise.all(
      models.map(async (model) => {
        const [runs, alerts] = await Promise.all([
          data.runs({ model: model.name, limit: OVERVIEW_RUNS }),
          data.alerts({ model: model.name, since, limit: OVERVIEW_ALERTS }),
        ]);
        return { model, runs, alerts: alerts.items };
      }),
    );
    return page(c, <OverviewPage source={data.source} overviews={overviews} />);
  });

  const modelOr404 = async (name: string): Promise<{ model: ModelView; models: ModelView[] }> => {
    const models = await data.models();
    const model = models.find((m) => m.name === name);
    if (!model) throw new HTTPException(404, { message: `There is no active model "${name}".` });
    return { model, models };
  };

  app.get('/models/:name', async (c) => {
    const { model } = await modelOr404(c.req.param('name'));
    const query = parse(ModelPageQuery, c.req.query());
    const limit = query.limit ?? 50;
    const [runs, scores] = await Promise.all([
      data.runs({ model: model.name, limit: 5 }),
      data.scores({ model: model.name, band: query.band, limit, cursor: query.cursor }),
    ]);
    const latest = summarisedRuns(runs).pop();
    const offset = query.cursor ? (query.from ?? 1) : 1;
    const view = { model, latest, page: scores, band: query.band, limit, cursor: query.cursor, offset };
    return page(c, <ModelPage source={data.source} {...view} />);
  });

  app.get('/models/:name/scores.csv', async (c) => {
    const { model } = await modelOr404(c.req.param('name'));
    const query = parse(ModelPageQuery, c.req.query());
    // The first page is read before answering, so a bad band or an unreachable source is a proper error page.
    let next = await data.scores({ model: model.name, band: query.band, limit: CSV_PAGE });
    let first = true;
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          if (!first) {
            if (!next.nextCursor) {
              controller.close();
              return;
            }
            next = await data.scores({ model: model.name, band: query.band, limit: CSV_PAGE, cursor: next.nextCursor });
          }
          const lines = first ? ['entity_type,entity_id,model,score,band,delta'] : [];
          first = false;
          for (const s of next.items) {
            lines.push([s.entityType, csvCell(s.entityId), s.model, s.score, csvCell(s.band), s.delta ?? ''].join(','));
          }
          controller.enqueue(encoder.encode(`${lines.join('\n')}\n`));
        } catch (error) {
          log.error('dashboard CSV download failed', { model: model.name, error: (error as Error).message });
          controller.error(error);
        }
      },
    });
    const file = `${model.name}${query.band ? `-${query.band}` : ''}-scores.csv`;
    return new Response(stream, {
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${file}"`,
        ...SECURITY_HEADERS,
      },
    });
  });

  app.get('/entities/:type/:id', async (c) => {
    const params = parse(EntityParams, c.req.param());
    const query = parse(EntityQuery, c.req.query());
    const entityType = params.type as EntityType;
    const models = await data.models();
    if (query.model && !models.some((m) => m.name === query.model)) {
      throw new DashboardInputError(
        'model',
        `unknown model "${query.model}"; active models: ${models.map((m) => m.name).join(', ')}`,
      );
    }
    const entity = await data.entity(entityType, params.id);
    if (!entity) throw new HTTPException(404, { message: `No ${entityType} "${params.id}" has been seen or scored.` });
    const name =
      query.model ?? entity.scores[0]?.model ?? models.find((m) => m.level === entityType)?.name ?? models[0]?.name;
    const model = models.find((m) => m.name === name);
    if (!model) throw new HTTPException(404, { message: `No model scores ${entityType}s.` });
    const score = entity.scores.find((s) => s.model === model.name);
    const [history, alerts] = await Promise.all([
      score ? data.history(entityType, params.id, model.name) : [],
      data.alerts({ model: model.name, since: daysAgo(ENTITY_ALERT_DAYS), limit: ENTITY_ALERT_SCAN }),
    ]);
    const own: AlertView[] = alerts.items
      .filter((a) => a.entityType === entityType && a.entityId === params.id)
      .slice(0, 20);
    const otherModels = entity.scores.map((s) => s.model).filter((m) => m !== model.name);
    const view = { entity, model, score, history, alerts: own, otherModels };
    return page(c, <EntityPage source={data.source} {...view} />);
  });

  app.get('/alerts', async (c) => {
    const query = parse(AlertsQuery, c.req.query());
    const models = await data.models();
    const since = query.since ?? daysAgo(ALERT_DAYS);
    const alerts = await data.alerts({ model: query.model, since, limit: 50, cursor: query.cursor });
    const view = { models, model: query.model, since, page: alerts, cursor: query.cursor };
    return page(c, <AlertsPage source={data.source} {...view} />);
  });

  app.get('/runs', async (c) => {
    const query = parse(RunsQuery, c.req.query());
    const [models, runs] = await Promise.all([data.models(), data.runs({ model: query.model, limit: 50 })]);
    return page(c, <RunsPage source={data.source} models={models} model={query.model} runs={runs} />);
  });

  app.onError((error, c) => {
    const render = (status: 400 | 403 | 404 | 413 | 500 | 502, title: string, detail: string) => {
      const response = page(
        c,
        <ErrorPage source={data.source} status={status} title={title} detail={detail} />,
        status,
      );
      return response instanceof Promise ? response : response;
    };
    if (error instanceof DashboardInputError) return render(400, 'That request is not valid', error.message);
    if (error instanceof HTTPException && error.status === 413) {
      return render(413, 'Request too large', `A form may be at most ${FORM_MAX_BYTES / 1024} KB.`);
    }
    if (error instanceof HTTPException) {
      const status = error.status === 404 || error.status === 403 ? error.status : 400;
      return render(
        status,
        status === 404 ? 'Not found' : status === 403 ? 'Forbidden' : 'Bad request',
        error.message || 'This form was not sent from this site.',
      );
    }
    if (error instanceof DashboardSourceError) {
      log.warn('dashboard data source failed', { status: error.sourceStatus, error: error.message });
      return render(502, 'The data could not be read', error.message);
    }
    log.error('dashboard page failed', { path: c.req.path, error: (error as Error).message });
    return render(500, 'Something went wrong', 'The page could not be rendered; the server log has the details.');
  });
  return app;
}

/** A CSV cell: quoted when needed; a leading =, +, -, @ is prefixed with ' so spreadsheets do not run it. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
