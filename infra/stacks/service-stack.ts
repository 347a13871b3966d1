import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { LoadedModel } from '../../shared/domain/model/load.js';
import type { PulseDataResources } from '../constructs/pulse-data.js';
import { PulseService, type PulseServiceProps } from '../constructs/pulse-service.js';

export interface ServiceStackProps extends StackProps, Omit<PulseServiceProps, 'data' | 'models'> {
  readonly data: PulseDataResources;
  readonly models: readonly LoadedModel[];
}

/** Stateless compute: functions, API, runs, schedules, alerts, Athena table, alarms. Redeploy freely. */
export class ServiceStack extends Stack {
  readonly service: PulseService;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { data, models, ...rest } = props;
    this.service = new PulseService(this, 'Pulse', { ...rest, data, models });
  }
}
