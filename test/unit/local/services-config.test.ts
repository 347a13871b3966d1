import { describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LocalConfigError, localServices } from '../../../shared/local/config.js';

describe('local mode: store settings from the environment', () => {
  it('defaults to the embedded stores, tables pulse-events/pulse-scores, bucket pulse-local, a fixed local key pair', () => {
    // Act
    const services = localServices({});

    // Assert
    expect(services).toEqual({
      dynamoEndpoint: undefined,
      s3Endpoint: undefined,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      eventsTable: 'pulse-events',
      scoresTable: 'pulse-scores',
      bucket: 'pulse-local',
    });
    // DynamoDB Local refuses access key ids with anything but letters and digits.
    expect(LOCAL_CREDENTIALS.accessKeyId).toMatch(/^[A-Za-z0-9]+$/);
  });

  it('reads the endpoints, prefix, bucket, region and AWS_* keys', () => {
    // Act
    const services = localServices({
      PULSE_DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000/',
      PULSE_S3_ENDPOINT: 'https://minio.internal:9000',
      PULSE_TABLE_PREFIX: 'team-a',
      PULSE_S3_BUCKET: 'team-a-snapshots',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    });

    // Assert
    expect(services).toEqual({
      dynamoEndpoint: 'http://127.0.0.1:8000',
      s3Endpoint: 'https://minio.internal:9000',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' },
      eventsTable: 'team-a-events',
      scoresTable: 'team-a-scores',
      bucket: 'team-a-snapshots',
    });
  });

  it('uses the local key pair unless both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set', () => {
    expect(localServices({ AWS_ACCESS_KEY_ID: 'only-the-id' }).credentials).toBe(LOCAL_CREDENTIALS);
    expect(localServices({ AWS_DEFAULT_REGION: 'ap-south-1' }).region).toBe('ap-south-1');
  });

  it.each([
    ['PULSE_DYNAMODB_ENDPOINT', 'localhost:8000'],
    ['PULSE_DYNAMODB_ENDPOINT', 'ftp://127.0.0.1:8000'],
    ['PULSE_S3_ENDPOINT', 'http://user:pass@127.0.0.1:9000'],
    ['PULSE_TABLE_PREFIX', 'has space'],
    ['PULSE_S3_BUCKET', 'Upper_Case'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    // Act
    const attempt = () => localServices({ [name]: value });

    // Assert
    expect(attempt).toThrow(LocalConfigError);
    expect(attempt).toThrow(name);
  });

  it('never repeats credentials written into an endpoint URL', () => {
    // Act
    let message = '';
    try {
      localServices({ PULSE_S3_ENDPOINT: 'http://user:hunter2@127.0.0.1:9000' });
    } catch (error) {
      message = (error as Error).message;
    }

    // Assert
    expect(message).toContain('PULSE_S3_ENDPOINT');
    expect(message).not.toContain('hunter2');
  });
});
