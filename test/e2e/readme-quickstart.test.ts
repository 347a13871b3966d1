import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, tempDir } from './support.js';

/**
 * The README's quick start, executed as written: its two command lines are exactly `npm install && npm start` and
 * `npm install && npm test`, and `npm start` (dependencies are installed already) brings up a server that answers
 * /healthz and prints the URL, the API token and the write key.
 */

function quickStartCommands(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Quick start'));
  if (!section) throw new Error('README.md has no "## Quick start" section');
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
}

describe('README quick start', () => {
  const data = tempDir('pulse-readme-');
  let stop: (() => Promise<void>) | undefined;

  afterAll(async () => {
    await stop?.();
    data.remove();
  });

  it('gives exactly the two documented command lines', () => {
    expect(quickStartCommands()).toEqual(['npm install && npm start', 'npm install && npm test']);
  });

  it('npm start serves /healthz and prints the URL, token and write key', async () => {
    // Arrange: the part after `npm install &&` of the first command line, with fresh ports and data dir.
    const start = quickStartCommands()[0]!.split('&&')[1]!.trim().split(/\s+/);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      PULSE_S3_PORT: String(await freePort()),
      PULSE_DATA_DIR: data.path,
    };
    delete env.PULSE_API_TOKEN;
    delete env.PULSE_WRITE_KEY;
    const child = spawn(start[0]!, start.slice(1), {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    // 'close', not 'exit': npm exits first; its children hold the pipes until they have stopped.
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(-child.pid!, 'SIGTERM'); // the npm → tsx → node group this test started
      await exited;
    };

    // Act
    const deadline = Date.now() + 60_000;
    let health: Response | undefined;
    while (Date.now() < deadline) {
      try {
        health = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (health.ok && /Write key/.test(output)) break;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const credentials = JSON.parse(readFileSync(join(data.path, 'credentials.json'), 'utf8'));

    // Assert
    expect(health?.status).toBe(200);
    expect(output).toContain(`http://127.0.0.1:${port}`);
    expect(output).toContain(credentials.apiToken);
    expect(output).toContain(credentials.writeKey);
    await stop();
    expect(output).toContain('Pulse stopped: every acknowledged event is stored.');
  });
});
