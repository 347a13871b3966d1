import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { formatModelIssue, ModelValidationError } from '../../domain/model/errors.js';
import { loadModels } from '../../domain/model/load.js';
import { CliError, type CliIO, EXIT_FAILURE, EXIT_OK, usageError } from '../io.js';

/** `pulse validate <dir|file>`: every problem of every model file as `file:line: path: reason`. */
export async function validateCommand(target: string, io: CliIO): Promise<number> {
  const path = resolve(io.cwd, target);
  // Paths in messages relative to where the user is, like a compiler's.
  const shown = (file: string) => (file.startsWith('/') ? relative(io.cwd, file) || file : file);
  if (!existsSync(path))
    throw usageError(`${target} does not exist: give a model file or a folder of them (e.g. models/)`);
  try {
    const loaded = loadModels(path);
    for (const { model, file } of loaded) {
      io.stdout.write(
        `ok  ${model.name} v${model.version} (${model.level}, ${model.signals.length} signals) ${shown(file)}\n`,
      );
    }
    io.stdout.write(`${loaded.length} model${loaded.length === 1 ? '' : 's'} valid\n`);
    return EXIT_OK;
  } catch (error) {
    if (!(error instanceof ModelValidationError)) throw error;
    for (const issue of error.issues) io.stderr.write(`${formatModelIssue({ ...issue, file: shown(issue.file) })}\n`);
    const files = new Set(error.issues.map((i) => i.file)).size;
    throw new CliError(
      `${error.issues.length} problem${error.issues.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}`,
      EXIT_FAILURE,
    );
  }
}
