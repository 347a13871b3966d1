import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3SnapshotStore } from '../../../shared/adapters/s3/snapshot-store.js';

const s3 = mockClient(S3Client);

function serviceError(name: string, status: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
}

describe('S3SnapshotStore.get under real S3 semantics (docs/deploy.md#security-notes)', () => {
  beforeEach(() => s3.reset());
  const store = new S3SnapshotStore({ client: new S3Client({ region: 'us-east-1' }), bucket: 'pulse' });

  it('treats NoSuchKey (what S3 answers a caller holding s3:ListBucket) as missing', async () => {
    // Arrange
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'missing' }));

    // Act / Assert
    await expect(store.get('snapshots/model=customer/latest.json')).resolves.toBeUndefined();
  });

  it('treats a bare 404 as missing', async () => {
    s3.on(GetObjectCommand).rejects(serviceError('NotFound', 404));
    await expect(store.get('runs/r/raw/shard-00000.jsonl.gz')).resolves.toBeUndefined();
  });

  it('fails on 403 AccessDenied (what S3 answers for a missing key without s3:ListBucket): never "missing"', async () => {
    // Arrange
    s3.on(GetObjectCommand).rejects(serviceError('AccessDenied', 403));

    // Act / Assert
    await expect(store.get('snapshots/model=customer/latest.json')).rejects.toThrow(/AccessDenied/);
  });
});
