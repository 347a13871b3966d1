import { Writable } from 'node:stream';
import type { CliIO } from '../../shared/cli/io.js';
import { runCli } from '../../shared/cli/main.js';

/** The CLI's IO with stdout and stderr collected in memory (environment and working directory as given). */
export function capturedIO(env: NodeJS.ProcessEnv, cwd: string): CliIO & { out(): string; err(): string } {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  return {
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    env,
    cwd,
    out: () => out,
    err: () => err,
  };
}

/** `pulse <args>` run in this process; its exit code and what it printed. */
export async function runPulseCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ code: number; out: string; err: string }> {
  const io = capturedIO(env, cwd);
  const code = await runCli(['node', 'pulse', ...args], io);
  return { code, out: io.out(), err: io.err() };
}
