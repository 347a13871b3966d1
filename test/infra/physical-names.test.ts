import { describe, expect, it } from 'vitest';
import { glueDatabaseNameFor } from '../../infra/constructs/snapshot-table.js';
import { synthApp, Template } from './support.js';

/** Name-like properties that are not account-unique: policy and metric names, attributes, stage and API names. */
const NOT_ACCOUNT_UNIQUE = new Set([
  'AWS::IAM::Policy PolicyName',
  'AWS::CloudWatch::Alarm MetricName',
  'AWS::DynamoDB::Table TimeToLiveSpecification.AttributeName',
  'AWS::ApiGatewayV2::Api Name',
  'AWS::ApiGatewayV2::Stage StageName',
  // Unique within its database, whose name is checked.
  'AWS::Glue::Table TableInput.Name',
]);

/** Every literal string property named `…Name` (to two levels), as `<type> <path>` → values. */
function namesOf(prefix: string): Map<string, string[]> {
  const { data, service } = synthApp({ 'pulse:stackPrefix': prefix });
  const out = new Map<string, string[]>();
  for (const stack of [data, service]) {
    const resources = Template.fromStack(stack).toJSON().Resources as Record<
      string,
      { Type: string; Properties?: unknown }
    >;
    for (const resource of Object.values(resources)) {
      const walk = (value: unknown, path: string, depth: number) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value) || depth > 1) return;
        for (const [key, v] of Object.entries(value)) {
          if (/Name$/.test(key) && typeof v === 'string') {
            const id = `${resource.Type} ${path}${key}`;
            out.set(id, [...(out.get(id) ?? []), v]);
          } else walk(v, `${path}${key}.`, depth + 1);
        }
      };
      walk(resource.Properties, '', 0);
    }
  }
  return out;
}

describe('two copies in one account', () => {
  it('derives every account-unique physical name from pulse:stackPrefix, so a second copy deploys beside the first', () => {
    // Act
    const first = namesOf('Pulse');
    const second = namesOf('PulseStaging');

    // Assert
    const checked = [...first.keys()].filter((id) => !NOT_ACCOUNT_UNIQUE.has(id));
    // The names this test exists for: Glue database, Athena workgroup, state machine log group, bus, schedules.
    expect(checked).toEqual(
      expect.arrayContaining([
        'AWS::Glue::Database DatabaseInput.Name',
        'AWS::Athena::WorkGroup Name',
        'AWS::Logs::LogGroup LogGroupName',
        'AWS::Events::EventBus Name',
        'AWS::Scheduler::ScheduleGroup Name',
      ]),
    );
    for (const id of checked) {
      const clash = (first.get(id) ?? []).filter((name) => (second.get(id) ?? []).includes(name));
      expect(clash, id).toEqual([]);
    }
    expect(first.get('AWS::Glue::Database DatabaseInput.Name')).toEqual(['pulse']);
    expect(second.get('AWS::Glue::Database DatabaseInput.Name')).toEqual(['pulsestaging']);
    // Both tables (snapshots, events) live in the one database.
    expect(new Set(second.get('AWS::Glue::Table DatabaseName'))).toEqual(new Set(['pulsestaging']));
  }, 300_000);

  it('makes Glue database names Athena accepts unquoted, and refuses a prefix with nothing to derive from', () => {
    expect(glueDatabaseNameFor('Pulse')).toBe('pulse');
    expect(glueDatabaseNameFor('Pulse-EU-2')).toBe('pulse_eu_2');
    expect(() => glueDatabaseNameFor('--')).toThrow(/Glue database name/);
  }, 300_000);

  it('leaves the Glue database, table and Athena workgroup out with pulse:glue=false (Lake Formation accounts)', () => {
    // Act
    const template = Template.fromStack(synthApp({ 'pulse:glue': 'false' }).service);

    // Assert
    for (const type of ['AWS::Glue::Database', 'AWS::Glue::Table', 'AWS::Athena::WorkGroup'])
      template.resourceCountIs(type, 0);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  }, 300_000);
});
