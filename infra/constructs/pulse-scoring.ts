import type { Construct } from 'constructs';
import { Construct as BaseConstruct } from 'constructs';
import { loadModelsForSynth } from './models.js';
import { PulseData, type PulseDataProps } from './pulse-data.js';
import { PulseService, type PulseServiceProps } from './pulse-service.js';

export interface PulseScoringProps extends PulseDataProps, Omit<PulseServiceProps, 'data' | 'models'> {
  /** Folder (or single file) of model files, validated at synth time. */
  readonly modelsDir: string;
}

/**
 * Pulse in one construct, for teams embedding it in their own CDK app:
 *
 * ```ts
 * new PulseScoring(this, 'Pulse', { modelsDir: 'scoring-models', jwt: { issuer, audience: ['pulse'] } });
 * ```
 *
 * Data (tables, bucket, write-key secret; retained) and service (functions, API, runs, schedules, alerts, Athena,
 * alarms) in the same scope. The standalone app splits the two into a data stack and a service stack instead.
 */
export class PulseScoring extends BaseConstruct {
  readonly data: PulseData;
  readonly service: PulseService;

  constructor(scope: Construct, id: string, props: PulseScoringProps) {
    super(scope, id);
    const { modelsDir, ...rest } = props;
    this.data = new PulseData(this, 'Data', rest);
    this.service = new PulseService(this, 'Service', {
      ...rest,
      data: this.data,
      models: loadModelsForSynth(modelsDir),
    });
  }
}
