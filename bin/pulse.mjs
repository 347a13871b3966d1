#!/usr/bin/env node
// The `pulse` command (package bin; `npx pulse …`): runs the TypeScript CLI through tsx, no build step.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../shared/cli/main.ts');
process.exitCode = await runCli(process.argv);
