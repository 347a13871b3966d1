import {
  DynamoDBClient,
  DynamoDBServiceException,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';

/** A client for aws-sdk-client-mock to intercept: region and credentials fixed, so nothing is looked up. */
export const mockableDynamoClient = () =>
  new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

/** DynamoDB's throttling error, which the retry policy retries. */
export const throttled = () => new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });

/** A DynamoDB error as the SDK raises it: a client fault below HTTP 500 (never retried), a server fault from 500. */
export function serviceError(name: string, httpStatusCode: number, message: string): DynamoDBServiceException {
  const $fault = httpStatusCode >= 500 ? 'server' : 'client';
  return new DynamoDBServiceException({ name, $fault, message, $metadata: { httpStatusCode } });
}
