import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { PulseData, type PulseDataProps } from '../constructs/pulse-data.js';

export interface DataStackProps extends StackProps {
  readonly data?: PulseDataProps;
}

/** Stateful resources, retained and protected: deploy once, rarely change. */
export class DataStack extends Stack {
  readonly data: PulseData;

  constructor(scope: Construct, id: string, props: DataStackProps = {}) {
    super(scope, id, props);
    this.data = new PulseData(this, 'Pulse', props.data);
    new CfnOutput(this, 'EventsTableName', { value: this.data.eventsTable.tableName });
    new CfnOutput(this, 'ScoresTableName', { value: this.data.scoresTable.tableName });
    new CfnOutput(this, 'SnapshotBucketName', { value: this.data.snapshotBucket.bucketName });
    new CfnOutput(this, 'WriteKeysSecretArn', {
      value: this.data.writeKeys.secretArn,
      description: 'aws secretsmanager get-secret-value --secret-id <this> to read the write key',
    });
  }
}
