import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';

/**
 * DynamoDB refused a request as invalid (`ValidationException`: an item over 400 KB, a key over its byte limit).
 * The SDK has no class of its own for it, so this one test is the single place that reads the error's name.
 */
export function isValidationError(error: unknown): error is DynamoDBServiceException {
  return error instanceof DynamoDBServiceException && error.name === 'ValidationException';
}
