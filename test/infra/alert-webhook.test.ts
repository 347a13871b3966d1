import { describe, expect, it } from 'vitest';
import { FIXTURE_MODELS, synthApp, Template } from './support.js';

/** Alert delivery in AWS: a deploy-time setting creates the rule, API destination and connection. */

function serviceTemplate(context: Record<string, unknown>): Template {
  const { service } = synthApp({ 'pulse:modelsDir': FIXTURE_MODELS, ...context });
  return Template.fromStack(service);
}

describe('alert webhook (API destination)', () => {
  it('creates nothing for a webhook unless a URL is configured', () => {
    // Act
    const template = serviceTemplate({});

    // Assert
    template.resourceCountIs('AWS::Events::ApiDestination', 0);
    template.resourceCountIs('AWS::Events::Connection', 0);
  });

  it('routes every alert type on the alert bus to the URL, the secret resolved by reference only', () => {
    // Act
    const template = serviceTemplate({
      'pulse:alertWebhookUrl': 'https://hooks.example.com/pulse',
      'pulse:alertWebhookSecretName': 'pulse/alert-webhook',
      'pulse:alertWebhookHeader': 'authorization',
    });

    // Assert
    template.hasResourceProperties('AWS::Events::ApiDestination', {
      InvocationEndpoint: 'https://hooks.example.com/pulse',
      HttpMethod: 'POST',
    });
    const connections = template.findResources('AWS::Events::Connection');
    const connection = Object.values(connections)[0]!;
    const auth = connection.Properties.AuthParameters.ApiKeyAuthParameters;
    expect(auth.ApiKeyName).toBe('authorization');
    // A dynamic reference CloudFormation resolves at deploy time: the secret value is never in the template.
    expect(JSON.stringify(auth.ApiKeyValue)).toContain('{{resolve:secretsmanager:');
    expect(JSON.stringify(auth.ApiKeyValue)).toContain('pulse/alert-webhook');
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter(
      (r) => r.Properties.EventPattern?.source?.[0] === 'pulse',
    );
    expect(rules).toHaveLength(1);
    const rule = rules[0]!;
    expect(rule.Properties.EventPattern['detail-type']).toEqual(['ScoreDropped', 'ScoreSpiked', 'BandChanged']);
    expect(JSON.stringify(rule.Properties.EventBusName)).toContain('AlertBus');
    const target = rule.Properties.Targets[0];
    expect(target.DeadLetterConfig).toBeDefined();
    expect(target.RetryPolicy).toMatchObject({ MaximumEventAgeInSeconds: 86_400 });
    expect(target.InputTransformer).toBeUndefined();
  });

  it('sends a Slack incoming webhook a Slack message (text) instead of the raw event', () => {
    // Act
    const template = serviceTemplate({ 'pulse:alertWebhookUrl': 'https://hooks.slack.com/services/T0/B0/XYZ' });

    // Assert
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find(
      (r) => r.Properties.EventPattern?.source?.[0] === 'pulse',
    )!;
    const transformer = rule.Properties.Targets[0].InputTransformer;
    expect(transformer.InputTemplate).toContain('"text"');
    expect(JSON.stringify(transformer.InputPathsMap)).toContain('$.detail.entity.id');
  });

  it('refuses a webhook URL that is not https', () => {
    // Act / Assert
    expect(() => serviceTemplate({ 'pulse:alertWebhookUrl': 'http://hooks.example.com/pulse' })).toThrow(/https/);
  });
});
