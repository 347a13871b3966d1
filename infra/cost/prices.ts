/** One unit price: what is billed, per how many units, and the USD price for that many. */
export interface UnitPrice {
  readonly usd: number;
  readonly per: number;
  readonly unit: string;
}

export const PRICES_AS_OF = '2026 (us-east-1, on-demand list prices; check https://aws.amazon.com/pricing/)';

/** Public us-east-1 on-demand list prices as of 2026. Free tiers are ignored (the estimate is an upper bound). */
export const PRICES = {
  httpApiRequests: { usd: 1.0, per: 1e6, unit: 'HTTP API requests (first 300M a month)' },
  lambdaRequests: { usd: 0.2, per: 1e6, unit: 'Lambda requests' },
  lambdaArmGbSeconds: { usd: 0.0000133334, per: 1, unit: 'Lambda GB-second (arm64)' },
  dynamoWriteRequestUnits: { usd: 0.625, per: 1e6, unit: 'DynamoDB on-demand write request units' },
  dynamoReadRequestUnits: { usd: 0.125, per: 1e6, unit: 'DynamoDB on-demand read request units' },
  dynamoStorageGbMonth: { usd: 0.25, per: 1, unit: 'DynamoDB standard storage GB-month' },
  dynamoPitrGbMonth: { usd: 0.2, per: 1, unit: 'DynamoDB continuous backup (PITR) GB-month' },
  s3StorageGbMonth: { usd: 0.023, per: 1, unit: 'S3 Standard GB-month' },
  s3PutRequests: { usd: 0.005, per: 1000, unit: 'S3 PUT/LIST requests' },
  s3GetRequests: { usd: 0.0004, per: 1000, unit: 'S3 GET requests' },
  stepFunctionsTransitions: { usd: 0.025, per: 1000, unit: 'Step Functions standard state transitions' },
  eventBridgeEvents: { usd: 1.0, per: 1e6, unit: 'EventBridge custom events published' },
  schedulerInvocations: { usd: 1.0, per: 1e6, unit: 'EventBridge Scheduler invocations' },
  logsIngestionGb: { usd: 0.5, per: 1, unit: 'CloudWatch Logs ingestion GB' },
  logsStorageGbMonth: { usd: 0.03, per: 1, unit: 'CloudWatch Logs storage GB-month' },
  xrayTraces: { usd: 5.0, per: 1e6, unit: 'X-Ray traces recorded' },
  secretMonth: { usd: 0.4, per: 1, unit: 'Secrets Manager secret-month' },
  secretApiCalls: { usd: 0.05, per: 10_000, unit: 'Secrets Manager API calls' },
  alarmMonth: { usd: 0.1, per: 1, unit: 'CloudWatch standard alarm-month' },
  dashboardMonth: { usd: 3.0, per: 1, unit: 'CloudWatch dashboard-month' },
} as const satisfies Record<string, UnitPrice>;
