import { InvalidFieldError, PulseError } from '../domain/errors.js';

/** A run request that cannot be carried out as asked: the field and why (a 400 for the API, exit 2 for the CLI). */
export class InvalidRunRequestError extends InvalidFieldError {
  override readonly name = 'InvalidRunRequestError';
}

/** The run names a model that is not loaded (a 404/400 for the API). */
export class UnknownModelError extends InvalidFieldError {
  constructor(readonly model: string) {
    const message = `model "${model}" is not one of the active models`;
    super('model', message, { message });
    this.name = 'UnknownModelError';
  }
}

/** The model changed between planning and executing a run: the run must be planned again. */
export class ModelChangedError extends PulseError {
  constructor(
    readonly model: string,
    readonly runId: string,
  ) {
    super(`model "${model}" changed since run ${runId} was planned; start a new run`, {
      kind: 'conflict',
      status: 409,
    });
    this.name = 'ModelChangedError';
  }
}

/** A step found the run in a state it cannot continue from (e.g. a shard's result is missing). */
export class RunStateError extends PulseError {
  constructor(
    readonly runId: string,
    message: string,
  ) {
    super(`run ${runId}: ${message}`, { kind: 'conflict', status: 409 });
    this.name = 'RunStateError';
  }
}
