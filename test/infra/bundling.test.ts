import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModels } from '../../shared/domain/model/load.js';
import { REPO_MODELS, synthApp, Template } from './support.js';

describe('real bundling synth (local esbuild, no Docker)', () => {
  it('builds an ESM bundle with source map per function and ships the validated models with those that need them', async () => {
    // Arrange
    const { app, service } = synthApp({ 'pulse:modelsDir': REPO_MODELS }, { bundle: true });

    // Act
    const assembly = app.synth();
    const template = Template.fromStack(service);
    const fns = template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } });
    const bundles = Object.entries(fns).map(([id, fn]) => {
      const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
      return { id, dir: join(assembly.directory, `asset.${hash}`), env: fn.Properties.Environment.Variables };
    });

    // Assert
    expect(bundles).toHaveLength(5);
    const modelFiles = loadModels(REPO_MODELS)
      .map((m) => m.file.split('/').pop())
      .sort();
    for (const { id, dir, env } of bundles) {
      expect(existsSync(join(dir, 'index.mjs')), id).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map')), id).toBe(true);
      expect(readFileSync(join(dir, 'index.mjs'), 'utf8').slice(0, 200)).toContain('createRequire');
      if (env.PULSE_MODELS_DIR) expect(readdirSync(join(dir, 'models')).sort(), id).toEqual(modelFiles);
      else expect(existsSync(join(dir, 'models')), id).toBe(false);
    }

    // The ESM bundles load in Node: no `require is not defined`, no missing module. A handler may still refuse to
    // start here for want of its configuration (no AWS environment), which is the cold-start check working.
    for (const { id, dir } of bundles) {
      const loaded = await import(pathToFileURL(join(dir, 'index.mjs')).href).then(
        (mod: { handler?: unknown }) => typeof mod.handler,
        (error: Error) => error.message,
      );
      expect(loaded, id).not.toMatch(/require is not defined|Cannot find (module|package)|Dynamic require|SyntaxError/);
    }
  });
});
