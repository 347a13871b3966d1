import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { PulseScoring } from '../../infra/index.js';
import { FIXTURE_MODELS, REPO_MODELS, synthApp, tempOutdir } from './support.js';

interface Violation {
  ruleName: string;
  severity?: string;
  violatingConstructs?: { constructPath?: string }[];
}

/** Synthesise with cdk-nag and return every unsuppressed finding (errors and warnings) from the validation report. */
function nagFindings(app: App): string[] {
  try {
    app.synth();
  } catch (error) {
    // In-memory apps throw on validation errors; the report file holds the details either way.
    if (!/Validation ?failed/i.test(String(error))) throw error;
  }
  const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: { violations: Violation[] }[];
  };
  return report.pluginReports.flatMap((p) =>
    p.violations.flatMap((v) =>
      (v.violatingConstructs ?? [{}]).map((r) => `${v.severity ?? 'error'} ${v.ruleName} at ${r.constructPath ?? '?'}`),
    ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unsuppressed in the standalone app (every exception acknowledged with a reason)', () => {
    // Arrange
    const { app } = synthApp({
      'pulse:modelsDir': REPO_MODELS,
      'pulse:nag': 'true',
      'pulse:alarmEmail': 'ops@example.com',
      'pulse:alertWebhookUrl': 'https://hooks.example.com/pulse',
      'pulse:alertWebhookSecretName': 'pulse/alert-webhook',
    });

    // Act
    const findings = nagFindings(app);

    // Assert
    expect(findings).toEqual([]);
  });

  it('finds nothing unsuppressed when PulseScoring is embedded in one stack', () => {
    // Arrange
    const app = new App({
      outdir: tempOutdir(),
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    const stack = new Stack(app, 'Host');
    new PulseScoring(stack, 'Pulse', {
      modelsDir: FIXTURE_MODELS,
      jwt: { issuer: 'https://id.example.com/', audience: ['pulse'] },
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // Act
    const findings = nagFindings(app);

    // Assert
    expect(findings).toEqual([]);
  });

  it('still reports a wildcard grant nobody explained (acknowledgements are not blanket)', () => {
    // Arrange: one extra statement on a function role next to the acknowledged ones.
    const { app, service } = synthApp({ 'pulse:modelsDir': FIXTURE_MODELS, 'pulse:nag': 'true' });
    service.service.functions.ingest.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }),
    );

    // Act
    const findings = nagFindings(app);

    // Assert
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatch(/IAM5.*Ingest/);
  });
});
