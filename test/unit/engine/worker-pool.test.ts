import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cachedBundle,
  closePools,
  poolThreadIds,
  runInPool,
  WorkerTaskError,
  withoutTsx,
} from '../../../shared/files/worker-pool.js';

const dir = mkdtempSync(join(tmpdir(), 'pulse-bundle-'));
afterAll(async () => {
  await closePools();
  rmSync(dir, { recursive: true, force: true });
});

/** A worker module from TypeScript source whose default export handles a task. */
function workerModule(name: string, source: string): URL {
  const entry = join(dir, name);
  writeFileSync(entry, source);
  return pathToFileURL(entry);
}

// Answers with double its input and its thread; `{ fail: 'throw' }` throws, `{ fail: 'exit' }` ends its thread.
const DOUBLER = `import { threadId } from 'node:worker_threads';
export default function double(task: { n: number; fail?: 'throw' | 'exit' }): { doubled: number; threadId: number } {
  if (task.fail === 'throw') throw new Error(\`cannot double \${task.n}\`);
  if (task.fail === 'exit') process.exit(7);
  return { doubled: task.n * 2, threadId };
}
`;

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

describe('runInPool', () => {
  it('compiles the bundle through a V8 code cache it writes itself, and starts as well from a cache that is corrupt', async () => {
    // Arrange
    const entry = workerModule('cached.ts', DOUBLER);
    const name = createHash('sha256').update(fileURLToPath(entry)).digest('hex').slice(0, 16);
    const codeCache = fileURLToPath(
      new URL(`../../../node_modules/.cache/pulse-workers/${name}.js.v8cache`, import.meta.url),
    );
    rmSync(codeCache, { force: true });
    // Each run in a fresh pool, so that each starts a worker (which reads the code cache).
    const run = async (n: number) => {
      try {
        return (await runInPool<{ doubled: number }>(entry, { n })).doubled;
      } finally {
        await closePools();
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

  it('reuses its worker for the next task, and moves typed arrays both ways', async () => {
    // Arrange: the worker doubles the values it is given and returns them moved (`movable`), keeping a reference to
    // what it returned last, so that the next task can tell whether it was moved (detached) or copied.
    const pool = new URL('../../../shared/files/worker-pool.ts', import.meta.url).href;
    const entry = workerModule(
      'summer.ts',
      `import { threadId } from 'node:worker_threads';
import { movable } from ${JSON.stringify(pool)};
let last: Float64Array | null = null;
export default function double({ values }: { values: Float64Array }) {
  const lastDetached = last === null ? null : last.byteLength === 0;
  for (let i = 0; i < values.length; i++) values[i]! *= 2;
  last = values;
  return movable({ values, lastDetached, threadId }, [values.buffer]);
}
`,
    );
    const values = new Float64Array([1, 2, 3.5]);
    type Reply = { values: Float64Array; lastDetached: boolean | null; threadId: number };

    // Act
    const first = await runInPool<Reply>(entry, { values }, [values.buffer]);
    const second = await runInPool<Reply>(entry, { values: new Float64Array([4]) });

    // Assert
    expect([...first.values]).toEqual([2, 4, 7]);
    expect([...second.values]).toEqual([8]);
    expect(second.threadId).toBe(first.threadId);
    expect(poolThreadIds(entry)).toEqual([first.threadId]);
    // Moved to the worker: this thread's copy is detached; moved back: the worker's is.
    expect(values.length).toBe(0);
    expect(second.lastDetached).toBe(true);
  });

  it('rejects a task that throws or whose worker dies, naming the worker and why; the next task works', async () => {
    // Arrange
    const entry = workerModule('doubler.ts', DOUBLER);
    const before = await runInPool<{ doubled: number; threadId: number }>(entry, { n: 1 });

    // Act
    const thrown = await runInPool(entry, { n: 3, fail: 'throw' }).catch((error: unknown) => error);
    const afterThrow = await runInPool<{ doubled: number; threadId: number }>(entry, { n: 2 });
    const died = await runInPool(entry, { n: 4, fail: 'exit' }).catch((error: unknown) => error);
    const afterDeath = await runInPool<{ doubled: number; threadId: number }>(entry, { n: 5 });

    // Assert
    expect(thrown).toBeInstanceOf(WorkerTaskError);
    expect((thrown as Error).message).toBe('worker doubler.ts failed: cannot double 3');
    // A task that throws leaves its worker in the pool.
    expect(afterThrow).toEqual({ doubled: 4, threadId: before.threadId });
    expect(died).toBeInstanceOf(WorkerTaskError);
    expect((died as Error).message).toMatch(/^worker doubler\.ts failed: .*exited with code: 7/);
    // A worker that died is replaced.
    expect(afterDeath.doubled).toBe(10);
    expect(afterDeath.threadId).not.toBe(before.threadId);
  });

  it('rejects, not hangs, when the worker module fails to load; a fixed module then loads', async () => {
    // Arrange
    const entry = workerModule(
      'broken.ts',
      "throw new Error('broken at load');\nexport default function never(): number { return 1; }\n",
    );

    // Act
    const failed = await runInPool(entry, {}).catch((error: unknown) => error);
    writeFileSync(fileURLToPath(entry), 'export default function fixed(): number { return 1; }\n');
    await closePools();
    const fixed = await runInPool<number>(entry, {});

    // Assert
    expect(failed).toBeInstanceOf(WorkerTaskError);
    expect((failed as Error).message).toContain('broken at load');
    expect(fixed).toBe(1);
  });
});

describe('withoutTsx (the Node options a bundled worker starts with)', () => {
  it("drops tsx's loaders in every spelling and keeps every other option", () => {
    const argv = [
      '--require',
      '/app/node_modules/tsx/dist/preflight.cjs',
      '--import',
      'file:///app/node_modules/tsx/dist/loader.mjs',
      '--import=tsx',
      '-r',
      'tsx/cjs',
      '--max-old-space-size=2048',
      '--import',
      './instrument.mjs',
      '--require=dotenv/config',
      '--enable-source-maps',
    ];

    expect(withoutTsx(argv)).toEqual([
      '--max-old-space-size=2048',
      '--import',
      './instrument.mjs',
      '--require',
      'dotenv/config',
      '--enable-source-maps',
    ]);
  });
});
