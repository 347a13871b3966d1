import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteDashboardData } from '../../shared/dashboard/remote-data.js';
import { dashboardRoutes } from '../../shared/dashboard/routes.js';
import { localConfig } from '../../shared/local/config.js';
import { runDemo } from '../../shared/local/demo.js';
import { type LocalStack, openLocalStack } from '../../shared/local/stack.js';
import { findChromium, HEADLESS_CHROMIUM } from '../support/chromium.js';
import { ROOT, spawnChild } from './support.js';

/**
 * The dashboard (docs/dashboard.md) rendered by headless Chromium from a demo-sized data set, twice: served by the
 * local server over its stores, and by `pulse dashboard`'s app reading the local server's scores API (the remote
 * implementation, over HTTP with a bearer token). DOM assertions, a screenshot, page weight and a no-JS check.
 */

const chromium = findChromium();
const run = promisify(execFile);
const API_TOKEN = 'dashboard-test-token';
const REMOTE_SESSION_TOKEN = 'remote-session-token';
const PAGE_LIMIT_BYTES = 300 * 1024;

async function serve(app: Hono): Promise<{ url: string; close(): Promise<void> }> {
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(!chromium)(
  'dashboard in headless Chromium (skipped: no chromium on PATH; apt-get install chromium)',
  () => {
    const work = mkdtempSync(join(tmpdir(), 'pulse-dashboard-'));
    const shots = join(work, 'screenshots');
    let stack: LocalStack;
    let local: { url: string; close(): Promise<void> };
    let remote: { url: string; close(): Promise<void> };
    let profile = 0;

    /**
     * Chromium on a fresh, quiet, headless profile. Asynchronous: the servers it loads pages from run in this
     * process, so it must not block the event loop.
     */
    const browser = async (extra: string[], url: string) => {
      const { stdout } = await run(
        chromium!,
        [
          ...HEADLESS_CHROMIUM,
          '--disable-background-networking',
          '--disable-extensions',
          '--hide-scrollbars',
          `--user-data-dir=${join(work, `profile-${profile++}`)}`,
          ...extra,
          url,
        ],
        { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 << 20 },
      );
      return stdout;
    };
    /** The DOM after load, signed in through `?token=` (the page redirects to itself without it). */
    const dom = async (base: string, path: string, token: string, extra: string[] = []) => {
      const url = new URL(path, base);
      url.searchParams.set('token', token);
      return browser(['--dump-dom', ...extra], url.href);
    };

    beforeAll(async () => {
      const env: NodeJS.ProcessEnv = {
        PULSE_DATA_DIR: join(work, 'data'),
        PORT: '0',
        PULSE_SHARD_COUNT: '4',
        PULSE_API_TOKEN: API_TOKEN,
        PULSE_WRITE_KEY: 'dashboard-test-key',
      };
      stack = await openLocalStack(localConfig(env, work, { s3Port: 0, quiet: true }));
      await runDemo(stack, { writeKey: 'dashboard-test-key', accounts: 40, backfillDays: 2 });
      local = await serve(stack.app);
      const data = new RemoteDashboardData({ url: local.url, auth: { kind: 'bearer', token: API_TOKEN } });
      remote = await serve(dashboardRoutes({ data, token: REMOTE_SESSION_TOKEN }));
      mkdirSync(shots);
    }, 300_000);

    afterAll(async () => {
      await remote?.close();
      await local?.close();
      await stack?.close();
      rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 });
    });

    it('asks for the token without a session, and signs in with ?token= into an HttpOnly SameSite=Strict cookie', async () => {
      // Act
      const anonymous = await fetch(`${local.url}/`);
      const wrong = await fetch(`${local.url}/runs?token=nope`, { redirect: 'manual' });
      const signIn = await fetch(`${local.url}/runs?model=account&token=${API_TOKEN}`, { redirect: 'manual' });
      const cookie = signIn.headers.get('set-cookie') ?? '';
      const signedIn = await fetch(`${local.url}/runs`, { headers: { cookie: cookie.split(';')[0]! } });
      const api = await fetch(`${local.url}/v1/models`, { headers: { cookie: cookie.split(';')[0]! } });

      // Assert
      expect(anonymous.status).toBe(401);
      expect(await anonymous.text()).toContain('name="token"');
      expect(wrong.status).toBe(401);
      expect(signIn.status).toBe(303);
      expect(signIn.headers.get('location')).toBe('/runs?model=account');
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      expect(cookie).not.toContain(API_TOKEN);
      expect(signedIn.status).toBe(200);
      // The scores API keeps its bearer auth: the dashboard cookie is not a credential for it.
      expect(api.status).toBe(401);
    });

    it('refuses a sign-in form posted from another site (CSRF)', async () => {
      // Act
      const forged = await fetch(`${local.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
        body: `token=${API_TOKEN}&next=/`,
        redirect: 'manual',
      });
      const own = await fetch(`${local.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: local.url },
        body: `token=${API_TOKEN}&next=//evil.example/`,
        redirect: 'manual',
      });

      // Assert
      expect(forged.status).toBe(403);
      expect(forged.headers.get('set-cookie')).toBeNull();
      expect(own.status).toBe(303);
      expect(own.headers.get('location')).toBe('/');
    });

    it('renders the overview: every model with its band chart, histogram, band history and movers', async () => {
      // Act
      const html = await dom(local.url, '/', API_TOKEN);

      // Assert
      for (const model of stack.models) {
        expect(html).toContain(`id="model-${model.model.name}"`);
        expect(html).toMatch(new RegExp(`<svg id="bands-${model.model.name}"[^>]*role="img"`));
        expect(html).toContain(`id="hist-${model.model.name}"`);
        expect(html).toContain(`id="band-history-${model.model.name}"`);
      }
      const account = stack.models.find((m) => m.model.name === 'account')!.model;
      for (const band of account.bands) expect(html).toContain(`data-band="${band.name}"`);
      // Three summarised runs (two backfilled dates and yesterday) in the band-history chart.
      expect(html.match(/<g class="run-column"/g)?.length).toBe(3 * stack.models.length);
      expect(html).toContain('Largest drops');
      expect(html).toMatch(/<th scope="col"[^>]*>Band<\/th>/);
      expect(html).toContain('succeeded');
    }, 180_000);

    it('lists a model’s entities by band, pages them and offers a CSV download', async () => {
      // Act
      const all = await dom(local.url, '/models/account?limit=25', API_TOKEN);
      const atRisk = await dom(local.url, '/models/account?band=low', API_TOKEN);
      const cookie = `pulse_session=${(await fetch(`${local.url}/?token=${API_TOKEN}`, { redirect: 'manual' })).headers.get('set-cookie')?.split(';')[0]?.split('=')[1]}`;
      const csv = await (await fetch(`${local.url}/models/account/scores.csv`, { headers: { cookie } })).text();

      // Assert
      expect(all.match(/<tbody>[\s\S]*?<\/tbody>/)?.[0].match(/<tr>/g)?.length).toBe(25);
      expect(all).toContain('rel="next"');
      const bands = [...atRisk.matchAll(/<td><span class="band"[^>]*>([^<]+)<\/span><\/td>/g)].map((m) => m[1]);
      expect(bands.length).toBeGreaterThan(0);
      expect(new Set(bands)).toEqual(new Set(['low']));
      const lines = csv.trim().split('\n');
      expect(lines[0]).toBe('entity_type,entity_id,model,score,band,delta');
      expect(lines).toHaveLength(41);
    }, 180_000);

    it('renders an entity: score, band, trend chart, signals, coverage and traits', async () => {
      // Arrange
      const model = stack.models.find((m) => m.model.name === 'account')!.model;

      // Act
      const html = await dom(local.url, '/entities/account/acct-001?model=account', API_TOKEN);

      // Assert
      expect(html).toMatch(/<svg id="trend"[^>]*role="img"/);
      expect(html.match(/<circle class="trend-point"/g)?.length).toBe(3);
      expect(html).toContain('id="contributions"');
      for (const signal of model.signals) expect(html).toContain(`<th scope="row">${signal.name}</th>`);
      expect(html).toContain('Coverage');
      expect(html).toMatch(/<th scope="row">plan<\/th>/);
    }, 180_000);

    it('renders the alerts and runs pages', async () => {
      // Act
      const alerts = await dom(local.url, '/alerts', API_TOKEN);
      const runs = await dom(local.url, '/runs', API_TOKEN);

      // Assert
      expect(alerts).toMatch(/Score dropped|Score spiked|Band changed/);
      expect(alerts).toMatch(/<a href="\/entities\/(account|user)\//);
      expect(runs.match(/<span class="status-succeeded">/g)?.length).toBeGreaterThanOrEqual(3 * stack.models.length);
    }, 180_000);

    it('keeps every page under 300 KB, with no script and a policy that forbids scripts: usable without JavaScript', async () => {
      // Arrange
      const cookie = (await fetch(`${local.url}/?token=${API_TOKEN}`, { redirect: 'manual' })).headers
        .get('set-cookie')!
        .split(';')[0]!;
      const paths = ['/', '/models/account?limit=200', '/entities/account/acct-001', '/alerts', '/runs'];

      // Act
      const pages = await Promise.all(
        paths.map(async (path) => {
          const response = await fetch(`${local.url}${path}`, { headers: { cookie } });
          const body = await response.arrayBuffer();
          return {
            path,
            status: response.status,
            csp: response.headers.get('content-security-policy') ?? '',
            bytes: body.byteLength,
            html: new TextDecoder().decode(body),
          };
        }),
      );

      // Assert
      for (const page of pages) {
        expect(page.status, page.path).toBe(200);
        expect(page.bytes, page.path).toBeLessThan(PAGE_LIMIT_BYTES);
        // No script on the page, and the browser may run none (default-src 'none' without script-src): what
        // Chromium renders in the other tests is the page without JavaScript.
        expect(page.html, page.path).not.toMatch(/<script|\son[a-z]+=/i);
        expect(page.csp, page.path).toContain("default-src 'none'");
        expect(page.csp, page.path).not.toContain('script-src');
        expect(page.html, page.path).toMatch(/<table[\s>]/);
      }
      // Filters and paging are plain GET forms and links.
      expect(pages[1]!.html).toMatch(/<form class="filters" method="get"/);
    }, 180_000);

    it('writes a screenshot of the overview', async () => {
      // Arrange
      const file = join(shots, 'overview.png');
      const url = new URL('/', local.url);
      url.searchParams.set('token', API_TOKEN);

      // Act
      await browser(['--window-size=1280,1600', `--screenshot=${file}`], url.href);

      // Assert
      expect(existsSync(file)).toBe(true);
      expect(statSync(file).size).toBeGreaterThan(20_000);
    }, 180_000);

    it('serves the same pages through the scores API (the remote implementation of pulse dashboard)', async () => {
      // Arrange
      const cookie = (await fetch(`${remote.url}/?token=${REMOTE_SESSION_TOKEN}`, { redirect: 'manual' })).headers
        .get('set-cookie')!
        .split(';')[0]!;
      const get = async (path: string) => (await fetch(`${remote.url}${path}`, { headers: { cookie } })).text();

      // Act
      const overview = await dom(remote.url, '/', REMOTE_SESSION_TOKEN);
      const entity = await dom(remote.url, '/entities/account/acct-001?model=account', REMOTE_SESSION_TOKEN);
      const localEntity = await dom(local.url, '/entities/account/acct-001?model=account', API_TOKEN);
      const [model, runs, alerts] = await Promise.all([get('/models/account?band=low'), get('/runs'), get('/alerts')]);

      // Assert
      for (const m of stack.models) expect(overview).toContain(`<svg id="bands-${m.model.name}"`);
      expect(overview).toContain(`Data: ${local.url}.`);
      const scoreOf = (html: string) => /<div class="v" id="score">([^<]+)<\/div>/.exec(html)?.[1];
      expect(scoreOf(entity)).toBeDefined();
      expect(scoreOf(entity)).toBe(scoreOf(localEntity));
      expect(entity.match(/<circle class="trend-point"/g)?.length).toBe(3);
      expect(entity).toMatch(/<th scope="row">plan<\/th>/);
      expect(model).toContain('<table class="scores">');
      expect(runs).toContain('status-succeeded');
      expect(alerts).toMatch(/Score dropped|Score spiked|Band changed/);
    }, 240_000);

    it('pulse dashboard --url serves the pages from a scores API and prints its sign-in URL', async () => {
      // Arrange
      const child = spawnChild(
        process.execPath,
        [join(ROOT, 'bin/pulse.mjs'), 'dashboard', '--url', local.url, '--token', API_TOKEN, '--port', '0'],
        { ...process.env, PULSE_DASHBOARD_TOKEN: 'cli-session' },
      );
      try {
        const line = await child.waitFor(/Open (http:\/\/127\.0\.0\.1:\d+)\/\?token=cli-session/, 60_000);
        const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0];

        // Act
        const signIn = await fetch(`${base}/?token=cli-session`, { redirect: 'manual' });
        const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
        const overview = await fetch(`${base}/`, { headers: { cookie } });
        const html = await overview.text();

        // Assert
        expect(signIn.status).toBe(303);
        expect(overview.status).toBe(200);
        for (const m of stack.models) expect(html).toContain(`<svg id="bands-${m.model.name}"`);
      } finally {
        expect(await child.stop()).toBe(0);
      }
    }, 120_000);

    it('answers bad page parameters with a 400 page naming the parameter, unknown things with 404', async () => {
      // Arrange
      const cookie = (await fetch(`${remote.url}/?token=${REMOTE_SESSION_TOKEN}`, { redirect: 'manual' })).headers
        .get('set-cookie')!
        .split(';')[0]!;
      const get = async (path: string) => {
        const response = await fetch(`${remote.url}${path}`, { headers: { cookie } });
        return { status: response.status, text: await response.text() };
      };

      // Act
      const badBand = await get('/models/account?band=nope');
      const badDate = await get('/alerts?since=2026-02-30');
      const badCursor = await get('/models/account?cursor=garbage');
      const unknownModel = await get('/models/nope');
      const unknownEntity = await get('/entities/account/nobody');

      // Assert
      expect(badBand.status).toBe(400);
      expect(badBand.text).toContain('band');
      expect(badDate.status).toBe(400);
      expect(badDate.text).toContain('since');
      expect(badCursor.status).toBe(400);
      expect(badCursor.text).toContain('cursor');
      expect(unknownModel.status).toBe(404);
      expect(unknownEntity.status).toBe(404);
    });
  },
);
