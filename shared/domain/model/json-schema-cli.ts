import { writeFileSync } from 'node:fs';
import { modelJsonSchema } from './json-schema.js';

// `npm run schema`: regenerate models/model.schema.json (a test fails when the committed copy is stale).
const out = process.argv[2] ?? 'models/model.schema.json';
writeFileSync(out, `${JSON.stringify(modelJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
