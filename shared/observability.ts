import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * The one configured logger and metrics instance of a process. Log level comes from `POWERTOOLS_LOG_LEVEL`
 * (default INFO); metrics are emitted as CloudWatch EMF and can be silenced with `POWERTOOLS_METRICS_DISABLED`.
 * Never log event properties, traits or other user-supplied content: counts and ids of requests only.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pulse' });

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Pulse',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pulse',
});
