/**
 * Environment variable names shared by the Lambda handlers (which read them) and the CDK app (which sets them),
 * so the two can never drift apart.
 */
export const ENV = {
  eventsTable: 'PULSE_EVENTS_TABLE',
  scoresTable: 'PULSE_SCORES_TABLE',
  snapshotBucket: 'PULSE_SNAPSHOT_BUCKET',
  alertBus: 'PULSE_ALERT_BUS',
  modelsDir: 'PULSE_MODELS_DIR',
  shardCount: 'PULSE_SHARD_COUNT',
  retentionDays: 'PULSE_RETENTION_DAYS',
  /** Days the events table keeps an event (its TTL), from the models at deploy time (docs/data-model.md#hot-window). */
  hotDays: 'PULSE_HOT_DAYS',
  writeKeysSecretArn: 'PULSE_WRITE_KEYS_SECRET_ARN',
  stateMachineArn: 'PULSE_STATE_MACHINE_ARN',
} as const;
