import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledge one cdk-nag finding on a construct (and everything below it). cdk-nag v3 matches a finding by its
 * exact id, e.g. `AwsSolutions-IAM5[Resource::*]`; a reason is mandatory so every exception is explained in code.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length < 20) throw new Error(`cdk-nag acknowledgement ${id} needs a real reason`);
  Validations.of(scope).acknowledge({ id, reason });
}
