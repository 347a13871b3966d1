import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modelJsonSchema } from '../../shared/domain/model/json-schema.js';
import { loadModels } from '../../shared/domain/model/load.js';

describe('the example models in models/', () => {
  it('are valid and named trial, customer and account', () => {
    const names = loadModels('models').map((m) => m.model.name);

    expect(names.sort()).toEqual(['account', 'customer', 'trial']);
  });

  it('ship a JSON Schema that matches the zod schema (run `npm run schema` after changing it)', () => {
    const committed = JSON.parse(readFileSync('models/model.schema.json', 'utf8'));

    expect(committed).toEqual(modelJsonSchema());
  });
});
