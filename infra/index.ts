/**
 * Pulse as a construct library: embed `PulseScoring` in your own CDK app, or compose the parts.
 *
 * ```ts
 * import { PulseScoring } from 'pulse-engagement/infra';
 * new PulseScoring(stack, 'Pulse', { modelsDir: 'scoring-models' });
 * ```
 */

export { loadModelsForSynth, scheduleExpressionFor } from './constructs/models.js';
export { PulseMonitoring, type PulseMonitoringProps } from './constructs/monitoring.js';
export { PulseData, type PulseDataProps, type PulseDataResources } from './constructs/pulse-data.js';
export {
  type DynamoAction,
  PulseFunction,
  type PulseFunctionProps,
  type ShippedModels,
  type SnapshotBucketAccess,
} from './constructs/pulse-function.js';
export { PulseScoring, type PulseScoringProps } from './constructs/pulse-scoring.js';
export {
  API_ROUTES,
  FUNCTION_ENTRIES,
  INGEST_ROUTES,
  type JwtAuthProps,
  PulseService,
  type PulseServiceProps,
} from './constructs/pulse-service.js';
export { ScoringPipeline, type ScoringPipelineProps } from './constructs/scoring-pipeline.js';
export {
  glueColumns,
  glueDatabaseNameFor,
  PARTITION_KEYS,
  SnapshotTable,
  type SnapshotTableProps,
} from './constructs/snapshot-table.js';
export { CONTEXT, createPulseApp, FEATURE_FLAGS, type PulseApp } from './pulse-app.js';
export { DataStack, type DataStackProps } from './stacks/data-stack.js';
export { ServiceStack, type ServiceStackProps } from './stacks/service-stack.js';
