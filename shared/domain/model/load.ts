import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { canonicalJson } from '../event.js';
import { formatPath } from '../field-errors.js';
import { type ModelIssue, ModelValidationError } from './errors.js';
import { type Model, ModelSchema } from './schema.js';

/** A validated model plus what identifies its exact content (for manifests and run ids). */
export interface LoadedModel {
  model: Model;
  file: string;
  /** sha256 of the model's canonical JSON: changes whenever anything that affects scores changes. */
  contentHash: string;
}

const MODEL_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Parse and validate one model file's text. Throws ModelValidationError naming the file, field path and reason. */
export function parseModel(text: string, file: string): LoadedModel {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ModelValidationError(
      doc.errors.map((e) => ({
        file,
        path: '',
        message: `not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${e.message.split('\n')[0]}`,
        line: e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line,
      })),
    );
  }
  const raw: unknown = doc.toJS();
  const result = ModelSchema.safeParse(raw);
  if (!result.success) {
    const issues: ModelIssue[] = result.error.issues.map((issue) => {
      const node = doc.getIn(issue.path as (string | number)[], true);
      const offset = isNode(node) ? node.range?.[0] : undefined;
      return {
        file,
        path: formatPath(issue.path),
        message: issue.message,
        line: offset === undefined ? undefined : lineCounter.linePos(offset).line,
      };
    });
    throw new ModelValidationError(issues);
  }
  const model = result.data;
  const stem = basename(file, extname(file));
  if (stem !== model.name && !stem.startsWith(`${model.name}.`)) {
    throw new ModelValidationError([
      { file, path: 'name', message: `model "${model.name}" must live in a file named ${model.name}.yaml (or .json)` },
    ]);
  }
  return { model, file, contentHash: modelContentHash(model) };
}

export function modelContentHash(model: Model): string {
  return createHash('sha256').update(canonicalJson(model)).digest('hex');
}

export function loadModelFile(file: string): LoadedModel {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ModelValidationError([{ file, path: '', message: `cannot be read: ${(error as Error).message}` }]);
  }
  return parseModel(text, file);
}

/**
 * Load every model in a directory (or one file). All files are checked before failing, so one run of
 * `pulse validate` lists every problem; model names must be unique.
 */
export function loadModels(dirOrFile: string): LoadedModel[] {
  let files: string[];
  try {
    files = statSync(dirOrFile).isDirectory()
      ? readdirSync(dirOrFile)
          .filter((f) => MODEL_EXTENSIONS.has(extname(f)) && !f.endsWith('.schema.json') && !f.includes('.suggested.'))
          .sort()
          .map((f) => join(dirOrFile, f))
      : [dirOrFile];
  } catch (error) {
    throw new ModelValidationError([
      { file: dirOrFile, path: '', message: `cannot be read: ${(error as Error).message}` },
    ]);
  }
  const issues: ModelIssue[] = [];
  const loaded: LoadedModel[] = [];
  for (const file of files) {
    try {
      loaded.push(loadModelFile(file));
    } catch (error) {
      if (error instanceof ModelValidationError) issues.push(...error.issues);
      else throw error;
    }
  }
  const seen = new Map<string, string>();
  for (const { model, file } of loaded) {
    const other = seen.get(model.name);
    if (other) issues.push({ file, path: 'name', message: `model name "${model.name}" is also used by ${other}` });
    seen.set(model.name, file);
  }
  if (issues.length > 0) throw new ModelValidationError(issues);
  if (loaded.length === 0)
    throw new ModelValidationError([
      { file: dirOrFile, path: '', message: 'no model files (*.yaml, *.yml, *.json) found' },
    ]);
  return loaded;
}
