import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll } from 'vitest';
import { PROJECT_ROOT } from '../../infra/constructs/pulse-function.js';
import { createPulseApp, type PulseApp } from '../../infra/pulse-app.js';

export const FIXTURE_MODELS = join(PROJECT_ROOT, 'test', 'fixtures', 'models');
export const BAD_MODELS = join(PROJECT_ROOT, 'test', 'fixtures', 'bad-models');
export const REPO_MODELS = join(PROJECT_ROOT, 'models');

const outdirs: string[] = [];
// Registered on the root suite of every test file that imports this module.
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh cloud-assembly folder, removed after the test file. */
export function tempOutdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-cdk-'));
  outdirs.push(dir);
  return dir;
}

/** The standalone app with bundling skipped (assets are irrelevant to these assertions) and extra context. */
export function synthApp(context: Record<string, unknown> = {}, options: { bundle?: boolean } = {}): PulseApp {
  const app = new App({
    outdir: tempOutdir(),
    context: {
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      'pulse:nag': 'false',
      ...context,
    },
  });
  return createPulseApp(app);
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every IAM statement attached (inline or via AWS::IAM::Policy) to a role whose logical id starts with `prefix`. */
export function statementsOfRole(template: Template, prefix: string): Statement[] {
  const roles = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith(prefix));
  if (roles.length !== 1) throw new Error(`expected one role ${prefix}*, found ${roles.join(', ') || 'none'}`);
  const role = roles[0]!;
  const statements: Statement[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const attached = (policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role);
    if (attached) statements.push(...(policy.Properties.PolicyDocument.Statement as Statement[]));
  }
  return statements;
}

export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
export const resourcesOf = (s: Statement): unknown[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/** All actions a role may perform on resources whose JSON mentions `needle` (e.g. an export name). */
export function actionsOn(statements: Statement[], needle: string): Set<string> {
  const out = new Set<string>();
  for (const s of statements)
    if (resourcesOf(s).some((r) => JSON.stringify(r).includes(needle))) for (const a of actionsOf(s)) out.add(a);
  return out;
}

export { Template };
