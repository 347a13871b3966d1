import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedBundle } from '../../../shared/files/score-jsonl.js';

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
