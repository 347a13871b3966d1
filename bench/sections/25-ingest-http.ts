import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createAdaptorServer } from '@hono/node-server';
import { DEFAULT_CONCURRENCY, ingestCommand } from '../../shared/cli/commands/ingest.js';
import { localConfig } from '../../shared/local/config.js';
import { openLocalStack } from '../../shared/local/stack.js';
import type { BenchFn, BenchRow } from '../types.js';

/**
 * Local ingest under load: the local server (`npm start`'s app over embedded dynalite) on a free loopback port,
 * CLIENTS concurrent clients each posting BATCH-event requests to POST /v1/events until TOTAL events are sent
 * (bounded in requests and time). Then `pulse ingest` sends a JSONL file of as many new events to the same server
 * (its default concurrency). Afterwards every shard is read back: events lost = acknowledged (202, counted
 * `accepted`) but not stored, which must be 0. The notes give the CPU time per event of this process (server and
 * clients) and of its main thread, which a loaded machine inflates less than the wall-clock rate.
 */
const CLIENTS = 8;
const BATCH = 250;
const DAY_MS = 86_400_000;
const NAMES = ['login', 'feature_used', 'session_ended', 'project_created', 'report_exported'];

function event(n: number, now: number, prefix: string) {
  const user = (n * 7919) % 20_000;
  return {
    eventId: `${prefix}-${n}`,
    name: NAMES[n % NAMES.length],
    userId: `user-${user}`,
    accountId: n % 2 === 0 ? `acct-${user % 500}` : undefined,
    timestamp: new Date(now - (n % 86_400) * 1000).toISOString(),
    properties: { plan: n % 3 === 0 ? 'pro' : 'trial', minutes: n % 90 },
  };
}

/** CPU seconds (user + system) of this process's main thread, where the kernel reports it (Linux). */
function mainThreadCpuSeconds(): number | undefined {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]?.split(' ');
    const ticks = Number(fields?.[11]) + Number(fields?.[12]);
    return Number.isFinite(ticks) ? ticks / 100 : undefined;
  } catch {
    return undefined;
  }
}

function body(seq: number, now: number): string {
  const events = Array.from({ length: BATCH }, (_, i) => {
    const n = seq * BATCH + i;
    const user = (n * 7919) % 20_000;
    return {
      eventId: `load-${n}`,
      name: NAMES[n % NAMES.length],
      userId: `user-${user}`,
      accountId: n % 2 === 0 ? `acct-${user % 500}` : undefined,
      timestamp: new Date(now - (n % 86_400) * 1000).toISOString(),
      properties: { plan: n % 3 === 0 ? 'pro' : 'trial', minutes: n % 90 },
    };
  });
  return JSON.stringify({ events });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export const bench: BenchFn = async ({ quick }) => {
  const total = quick ? 10_000 : 50_000;
  const deadlineMs = quick ? 60_000 : 180_000;
  const work = mkdtempSync(join(tmpdir(), 'pulse-bench-ingest-'));
  const env = { PULSE_DATA_DIR: join(work, 'data'), PORT: '0' };
  const config = localConfig(env, work, { s3Port: 0, quiet: true });
  const stack = await openLocalStack(config);
  const server = createAdaptorServer({ fetch: stack.app.fetch }) as Server;
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  try {
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
    );
    const url = `http://127.0.0.1:${port}/v1/events`;
    const auth = `Basic ${Buffer.from(`${config.credentials.writeKey}:`).toString('base64')}`;
    const now = Date.now() - 60_000;
    const requests = Math.ceil(total / BATCH);
    const bodies = Array.from({ length: requests }, (_, i) => body(i, now));
    const latencies: number[] = [];
    let next = 0;
    let accepted = 0;
    let duplicates = 0;
    let rejected = 0;
    let failedRequests = 0;
    const loadAtStart = loadavg()[0];
    const cpuAtStart = process.cpuUsage();
    const mainAtStart = mainThreadCpuSeconds();
    const start = performance.now();
    const client = async () => {
      while (next < requests && performance.now() - start < deadlineMs) {
        const payload = bodies[next++]!;
        const sent = performance.now();
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: auth },
          body: payload,
        });
        const answer = (await response.json()) as { accepted?: number; duplicates?: number; rejected?: unknown[] };
        latencies.push(performance.now() - sent);
        if (response.status !== 202) failedRequests++;
        accepted += answer.accepted ?? 0;
        duplicates += answer.duplicates ?? 0;
        rejected += answer.rejected?.length ?? 0;
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuAtStart);
    const mainAtEnd = mainThreadCpuSeconds();

    // `pulse ingest` of a JSONL file of as many new events, to the same server.
    const file = join(work, 'events.jsonl');
    writeFileSync(
      file,
      `${Array.from({ length: total }, (_, n) => JSON.stringify(event(n, now, 'file'))).join('\n')}\n`,
    );
    let cliOutput = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        cliOutput += String(chunk);
        done();
      },
    });
    const cliStart = performance.now();
    await ingestCommand(
      { file },
      {
        label: 'bench',
        baseUrl: `http://127.0.0.1:${port}/`,
        writeKey: config.credentials.writeKey,
        fetch: (request) => fetch(request),
        close: async () => {},
      },
      { stdout: sink, stderr: sink, env: {}, cwd: work },
    );
    const cliSeconds = (performance.now() - cliStart) / 1000;
    const cliAccepted = Number(/accepted (\d+)/.exec(cliOutput)?.[1] ?? Number.NaN);
    const sent = latencies.length * BATCH;

    // Read every shard back: each acknowledged event must be stored, once.
    const stored = new Set<string>();
    for (let shard = 0; shard < stack.runDeps.events.shardCount; shard++) {
      for await (const page of stack.runDeps.events.readShard({
        level: 'user',
        shard,
        from: now - 2 * DAY_MS,
        to: now + DAY_MS,
      }))
        for (const e of page) stored.add(e.eventId);
    }
    const storedFromFile = [...stored].filter((id) => id.startsWith('file-')).length;
    const storedFromLoad = stored.size - storedFromFile;
    const lost = Math.max(0, accepted - storedFromLoad) + Math.max(0, cliAccepted - storedFromFile);
    latencies.sort((a, b) => a - b);
    const base = {
      name: 'first measurement (issue #15, a quieter machine, before the conditional-put write path)',
      value: 2092,
    };
    rows.push(
      {
        metric: `HTTP ingest, ${CLIENTS} clients × ${BATCH}-event requests, local server`,
        value: sent / seconds,
        unit: 'events/s',
        target: '>= 20,920 (10× the first measurement)',
        baseline: base,
        ratio: sent / seconds / base.value,
      },
      { metric: 'HTTP ingest, request latency p50', value: percentile(latencies, 50), unit: 'ms' },
      { metric: 'HTTP ingest, request latency p99', value: percentile(latencies, 99), unit: 'ms' },
      { metric: 'HTTP ingest, events lost (acknowledged, not stored)', value: lost, unit: 'events', target: '0' },
      {
        metric: `pulse ingest of a ${total.toLocaleString('en-US')}-event JSONL file, local server`,
        value: total / cliSeconds,
        unit: 'events/s',
        target: '10M events in minutes, not an hour (>= 20,000)',
      },
    );
    const perEvent = (cpuMicros: number) => `${(cpuMicros / sent).toFixed(1)} µs`;
    notes.push(
      `${sent.toLocaleString('en-US')} events in ${latencies.length} requests over ${seconds.toFixed(1)} s: accepted ` +
        `${accepted.toLocaleString('en-US')}, duplicates ${duplicates}, rejected ${rejected}, non-202 requests ` +
        `${failedRequests}; stored and read back ${stored.size.toLocaleString('en-US')}`,
      `load average at start of the load: ${loadAtStart?.toFixed(2)} on this shared machine; the server, dynalite ` +
        'and the clients share its cores',
      `CPU per event during the load, this process (server, LevelDB threads and clients): ${perEvent(cpu.user + cpu.system)}` +
        (mainAtStart !== undefined && mainAtEnd !== undefined
          ? `, of which its main thread ${perEvent((mainAtEnd - mainAtStart) * 1e6)}`
          : ''),
      `pulse ingest: ${total.toLocaleString('en-US')} events in ${cliSeconds.toFixed(1)} s with ${DEFAULT_CONCURRENCY} ` +
        `requests in flight, accepted ${cliAccepted.toLocaleString('en-US')}; stored and read back ${storedFromFile.toLocaleString('en-US')}`,
    );
    if (lost > 0 || storedFromLoad !== accepted || storedFromFile !== cliAccepted)
      throw new Error(
        `ingest lost events: ${accepted} + ${cliAccepted} accepted, ${storedFromLoad} + ${storedFromFile} stored`,
      );
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stack.close();
    rmSync(work, { recursive: true, force: true });
  }
  return { name: 'ingest over HTTP (local server)', rows, notes };
};
