import { z } from 'zod';
import { ModelSchema } from './schema.js';

/** JSON Schema of model files, generated from the zod schema so editors autocomplete and check them. */
export function modelJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ModelSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'Pulse scoring model',
    description: 'One Pulse model file (YAML or JSON). See docs/models.md.',
  };
}
