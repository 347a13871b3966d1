import { RunExistsError, RunNotFoundError } from '../../ports/errors.js';
import type { RunPatch, RunRecord, RunStore } from '../../ports/run-store.js';

/** Runs in memory. */
export class InMemoryRunStore implements RunStore {
  private readonly runs = new Map<string, RunRecord>();

  constructor(private readonly clock: () => number = Date.now) {}

  async create(run: RunRecord): Promise<void> {
    if (this.runs.has(run.runId)) throw new RunExistsError(run.runId);
    this.runs.set(run.runId, structuredClone(run));
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    const run = this.runs.get(runId);
    return run ? structuredClone(run) : undefined;
  }

  async update(runId: string, patch: RunPatch): Promise<RunRecord> {
    const run = this.runs.get(runId);
    if (!run) throw new RunNotFoundError(runId);
    const updated: RunRecord = { ...run, ...structuredClone(patch), updatedAt: new Date(this.clock()).toISOString() };
    this.runs.set(runId, updated);
    return structuredClone(updated);
  }

  async list(model: string, limit = 50): Promise<RunRecord[]> {
    return [...this.runs.values()]
      .filter((r) => r.model === model)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.runId < b.runId ? 1 : -1))
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }
}
