import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseApiConfig, stateMachineLauncher } from '../../../functions/api/config.js';
import { InMemoryAlertStore } from '../../../shared/adapters/memory/alert-sink.js';
import { InMemoryRunStore } from '../../../shared/adapters/memory/run-store.js';
import { InMemoryScoreStore } from '../../../shared/adapters/memory/score-store.js';
import { type LoadedModel, modelContentHash } from '../../../shared/domain/model/load.js';
import { apiRoutes } from '../../../shared/http/api-routes.js';
import { createApp } from '../../../shared/http/app.js';
import { model } from '../../support/engine.js';

const sfn = mockClient(SFNClient);
const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:pulse-runs';
const m = model({ name: 'activity', signals: [{ name: 'logins', event: 'login', weight: 1 }] });
const models: LoadedModel[] = [{ model: m, file: 'activity.yaml', contentHash: modelContentHash(m) }];

function gatewayApp(runs = new InMemoryRunStore()) {
  const launcher = stateMachineLauncher({ sfn: new SFNClient({}), stateMachineArn: ARN, models, runs, shardCount: 8 });
  return createApp({
    apiRoutes: apiRoutes({
      auth: { mode: 'gateway' },
      models: () => models,
      scores: new InMemoryScoreStore(),
      runs,
      alerts: new InMemoryAlertStore(),
      launcher,
    }),
  });
}

/** What Hono's aws-lambda adapter passes as env: the API Gateway v2 event with its authorizer context. */
const lambdaEnv = (authorizer: unknown) => ({ event: { requestContext: { authorizer } }, lambdaContext: {} });

describe('API function (AWS)', () => {
  beforeEach(() => {
    sfn.reset();
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${ARN}:x` });
  });

  it('trusts the gateway: IAM or JWT authorizer context passes, none is 401', async () => {
    // Arrange
    const app = gatewayApp();

    // Act
    const iam = await app.request('/v1/models', {}, lambdaEnv({ iam: { userArn: 'arn:aws:iam::1:user/a' } }));
    const jwt = await app.request('/v1/models', {}, lambdaEnv({ jwt: { claims: { sub: 'x' }, scopes: null } }));
    const none = await app.request('/v1/models', {}, lambdaEnv(undefined));
    const bearer = await app.request(
      '/v1/models',
      { headers: { authorization: 'Bearer anything' } },
      lambdaEnv(undefined),
    );
    const health = await app.request('/healthz', {}, lambdaEnv(undefined));

    // Assert
    expect([iam.status, jwt.status, none.status, bearer.status, health.status]).toEqual([200, 200, 401, 401, 200]);
  });

  it('records the queued run, then starts an execution named after it with { runId }', async () => {
    // Arrange
    const runs = new InMemoryRunStore();
    const app = gatewayApp(runs);

    // Act
    const response = await app.request(
      '/v1/runs',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'activity', asOf: '2026-03-01' }),
      },
      lambdaEnv({ iam: {} }),
    );
    const body = (await response.json()) as { runId: string; status: string };

    // Assert
    expect(response.status).toBe(202);
    expect(body.status).toBe('queued');
    const call = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call).toEqual({ stateMachineArn: ARN, name: body.runId, input: JSON.stringify({ runId: body.runId }) });
    expect(await runs.get(body.runId)).toMatchObject({ status: 'queued', shardCount: 8, date: '2026-03-01' });
  });

  it('serves no ingest routes (they have their own function)', async () => {
    const response = await gatewayApp().request('/v1/events', { method: 'POST', body: '{}' }, lambdaEnv({ iam: {} }));
    expect(response.status).toBe(404);
  });

  it('fails fast at cold start naming a missing variable', () => {
    expect(() => parseApiConfig({ PULSE_MODELS_DIR: 'models' })).toThrow(/PULSE_SCORES_TABLE/);
  });
});
