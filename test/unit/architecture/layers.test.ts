import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layering of docs/architecture.md#layers, checked on every import under shared/: the domain imports nothing
 * outside itself (and no package but the few pure ones), ports import only the domain, and adapters never import a
 * use case.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Import {
  /** The importing file, relative to the repository root, with `/` separators. */
  from: string;
  /** The specifier as written. */
  specifier: string;
  /** For a relative specifier: the imported file relative to the root; undefined for a package. */
  target: string | undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const posix = (path: string) => path.split(sep).join('/');

/** Every import, export-from, dynamic import and require of the files under `dir` (TypeScript's own pre-parser). */
function importsUnder(dir: string): Import[] {
  return sourceFiles(join(root, dir)).flatMap((file) => {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const from = posix(relative(root, file));
    return info.importedFiles.map(({ fileName: specifier }) => ({
      from,
      specifier,
      target: specifier.startsWith('.') ? posix(relative(root, resolve(dirname(file), specifier))) : undefined,
    }));
  });
}

/** Packages the domain may use: none does I/O with a service, so the domain runs anywhere (docs/architecture.md). */
const DOMAIN_PACKAGES = [/^node:/, /^zod$/, /^luxon$/, /^yaml$/];

/** Folders holding use cases, entry points and wiring: what an adapter must never depend on. */
const USE_CASES = [
  'shared/ingest/',
  'shared/run/',
  'shared/http/',
  'shared/local/',
  'shared/cli/',
  'shared/calibrate/',
  'shared/dashboard/',
  'shared/erasure/',
  'functions/',
  'infra/',
  'bin/',
];

/**
 * The one import from shared/ into infra/: `pulse cost` prints the cost model of the stack the CDK app deploys. The
 * model (infra/cost/) is arithmetic over the deployment constants the CDK app builds the stack from, so it lives
 * beside them; it imports no CDK package (checked below), and the CLI is an entry point, like bin/.
 */
const COST_COMMAND = 'shared/cli/commands/cost.ts';

/** Why an import breaks the layering, or undefined when it does not. */
function layerViolation({ from, specifier, target }: Import): string | undefined {
  if (from.startsWith('shared/') && target !== undefined && /^(infra|functions|bin)\//.test(target)) {
    const allowed = from === COST_COMMAND && target.startsWith('infra/cost/');
    return allowed ? undefined : `shared/ imports ${target} (deployment code depends on shared/, never the reverse)`;
  }
  if (from.startsWith('shared/domain/')) {
    if (target === undefined) {
      return DOMAIN_PACKAGES.some((allowed) => allowed.test(specifier))
        ? undefined
        : `the domain imports the package ${specifier}`;
    }
    return target.startsWith('shared/domain/') ? undefined : `the domain imports ${target}`;
  }
  if (from.startsWith('shared/ports/')) {
    if (target === undefined) return undefined;
    return target.startsWith('shared/domain/') || target.startsWith('shared/ports/')
      ? undefined
      : `a port imports ${target}`;
  }
  if (from.startsWith('shared/adapters/') && target !== undefined) {
    const useCase = USE_CASES.find((folder) => target.startsWith(folder));
    return useCase === undefined ? undefined : `an adapter imports ${target} (${useCase} is a use case)`;
  }
  return undefined;
}

describe('layers (docs/architecture.md#layers)', () => {
  const imports = importsUnder('shared');

  it('reads the imports of every file under shared/', () => {
    const files = new Set(imports.map((i) => i.from));
    expect(files.size).toBeGreaterThan(100);
    // Known edges: the scan resolves relative imports and sees packages.
    expect(imports).toContainEqual({
      from: 'shared/adapters/memory/event-store.ts',
      specifier: '../../ports/event-store.js',
      target: 'shared/ports/event-store.js',
    });
    expect(
      imports.some((i) => i.from.startsWith('shared/adapters/') && i.specifier === '@aws-sdk/client-dynamodb'),
    ).toBe(true);
  });

  it('flags an import outward from the domain, a port importing an adapter and an adapter importing a use case', () => {
    const violations = [
      { from: 'shared/domain/engine/x.ts', specifier: '../../ports/event-store.js' },
      { from: 'shared/domain/x.ts', specifier: '@aws-sdk/client-dynamodb' },
      { from: 'shared/domain/x.ts', specifier: '../observability.js' },
      { from: 'shared/ports/x.ts', specifier: '../adapters/memory/event-store.js' },
      { from: 'shared/adapters/dynamodb/x.ts', specifier: '../../ingest/limits.js' },
      { from: 'shared/adapters/memory/x.ts', specifier: '../../run/deps.js' },
      { from: 'shared/adapters/x.ts', specifier: '../../functions/api/config.js' },
      { from: 'shared/run/x.ts', specifier: '../../infra/cost/estimate.js' },
      { from: 'shared/cli/commands/x.ts', specifier: '../../../infra/cost/estimate.js' },
      { from: 'shared/http/x.ts', specifier: '../../functions/api/config.js' },
    ].map(({ from, specifier }) =>
      layerViolation({
        from,
        specifier,
        target: specifier.startsWith('.') ? posix(join(dirname(from), specifier)) : undefined,
      }),
    );
    expect(violations.every((v) => v !== undefined)).toBe(true);
    expect(
      layerViolation({ from: 'shared/domain/x.ts', specifier: 'zod', target: undefined }) ??
        layerViolation({
          from: 'shared/adapters/s3/x.ts',
          specifier: '../../domain/x.js',
          target: 'shared/domain/x.js',
        }) ??
        layerViolation({ from: 'shared/ports/x.ts', specifier: '../domain/x.js', target: 'shared/domain/x.js' }) ??
        layerViolation({
          from: COST_COMMAND,
          specifier: '../../../infra/cost/table.js',
          target: 'infra/cost/table.js',
        }),
    ).toBeUndefined();
  });

  it('keeps the cost model that `pulse cost` reads free of the CDK', () => {
    const cdk = importsUnder('infra/cost').filter((i) => i.target === undefined);
    expect(importsUnder('infra/cost').length).toBeGreaterThan(0);
    expect(cdk.map((i) => `${i.from}: ${i.specifier}`)).toEqual([]);
  });

  it('has no import against the layers', () => {
    const found = imports.flatMap((i) => {
      const why = layerViolation(i);
      return why === undefined ? [] : [`${i.from}: ${why}`];
    });
    expect(found).toEqual([]);
  });

  it('has every error class extend PulseError (docs/architecture.md#errors)', () => {
    const plainErrors = ['shared', 'functions', 'infra'].flatMap((dir) =>
      sourceFiles(join(root, dir)).flatMap((file) => {
        const from = posix(relative(root, file));
        if (from === 'shared/domain/errors.ts') return [];
        return [...readFileSync(file, 'utf8').matchAll(/class (\w+) extends Error\b/g)].map((m) => `${from}: ${m[1]}`);
      }),
    );
    expect(plainErrors).toEqual([]);
  });
});
