import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedBundle, nextReply, startWorkerAt } from '../../../shared/files/score-jsonl.js';

const dir = mkdtempSync(join(tmpdir(), 'pulse-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cachedBundle (workers started from the TypeScript source)', () => {
  it('gives the bundle of the sources as they are now: cached while no input changes, bundled again when one does', async () => {
    // Arrange
    const entry = join(dir, 'entry.ts');
    const helper = join(dir, 'helper.ts');
    writeFileSync(entry, "import { word } from './helper';\nconsole.log(word);\n");
    writeFileSync(helper, "export const word: string = 'first-version';\n");

    // Act
    const first = await cachedBundle(entry);
    const again = await cachedBundle(entry);
    writeFileSync(helper, "export const word: string = 'second-version';\n");
    const changed = await cachedBundle(entry);

    // Assert
    expect(first).toContain('first-version');
    expect(again).toBe(first);
    expect(changed).toContain('second-version');
    expect(changed).not.toContain('first-version');
  });
});

describe('startWorkerAt from the TypeScript source', () => {
  it('compiles the bundle through a V8 code cache it writes itself, and starts as well from a cache that is corrupt', async () => {
    // Arrange
    const entry = join(dir, 'worker.ts');
    // The worker answers a message: by then its start (compiling, writing the code cache) is over.
    writeFileSync(
      entry,
      "import { parentPort, workerData } from 'node:worker_threads';\nparentPort!.once('message', () => parentPort!.postMessage((workerData as { n: number }).n * 2));\n",
    );
    const name = createHash('sha256').update(entry).digest('hex').slice(0, 16);
    const codeCache = fileURLToPath(
      new URL(`../../../node_modules/.cache/pulse-workers/${name}.js.v8cache`, import.meta.url),
    );
    rmSync(codeCache, { force: true });
    const run = async (n: number) => {
      const worker = await startWorkerAt(pathToFileURL(entry), { n });
      try {
        const reply = nextReply<number>(worker);
        worker.postMessage('go');
        return await reply;
      } finally {
        await worker.terminate();
      }
    };

    // Act
    const first = await run(21);
    const cacheWritten = existsSync(codeCache);
    const second = await run(4);
    writeFileSync(codeCache, 'not a code cache');
    const third = await run(5);

    // Assert
    expect([first, second, third]).toEqual([42, 8, 10]);
    expect(cacheWritten).toBe(true);
    expect(readFileSync(codeCache, 'utf8')).not.toBe('not a code cache');
  });
});
