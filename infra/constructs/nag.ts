import { Stack, Validations } from 'aws-cdk-lib';
import { CfnPolicy } from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/**
 * Acknowledge one cdk-nag finding on a construct (and everything below it). cdk-nag v3 matches a finding by its
 * exact id, e.g. `AwsSolutions-IAM5[Resource::*]`; a reason is mandatory so every exception is explained in code.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length < 20) throw new Error(`cdk-nag acknowledgement ${id} needs a real reason`);
  Validations.of(scope).acknowledge({ id, reason });
}

/** A wildcard resource Pulse grants on purpose, and the only actions allowed on it. */
export interface WildcardGrant {
  /** The resource as passed to the policy statement (tokens allowed), or a test on cdk-nag's flattened form. */
  readonly resource: string | ((flattened: string) => boolean);
  /** Every action of a statement using this resource must be one of these (`*` in actions is never accepted). */
  readonly actions: readonly string[];
  readonly reason: string;
}

/**
 * Acknowledge AwsSolutions-IAM5 (wildcard resource) findings of the IAM policies under `owner`, but only for
 * statements whose every wildcard resource and every action is covered by one of `grants`. A wildcard the grants
 * do not explain — a new statement, a broader action — stays a finding and fails the synth.
 *
 * The finding id embeds the resolved resource (logical ids, cross-stack export names), which only exist once the
 * app is prepared; so the check runs as a construct validation, after references are resolved and before cdk-nag.
 */
export function acknowledgeWildcardGrants(owner: IConstruct, grants: readonly WildcardGrant[]): void {
  owner.node.addValidation({
    validate: () => {
      const stack = Stack.of(owner);
      const flat = (value: unknown): string => String(flattenCfnReference(stack.resolve(value)));
      const covered = new Map<string, string | undefined>();
      for (const node of owner.node.findAll()) {
        if (!(node instanceof CfnPolicy)) continue;
        const doc = stack.resolve(node.policyDocument) as { Statement?: Statement[] };
        for (const statement of doc.Statement ?? []) {
          if (statement.Effect !== 'Allow') continue;
          const actions = toArray(statement.Action).map(String);
          for (const resource of toArray(statement.Resource).map((r) => flat(r))) {
            if (!resource.includes('*')) continue;
            const grant = grants.find(
              (g) =>
                (typeof g.resource === 'string' ? flat(g.resource) === resource : g.resource(resource)) &&
                actions.every((a) => !a.includes('*') && g.actions.includes(a)),
            );
            const id = `AwsSolutions-IAM5[Resource::${resource}]`;
            // One unexplained statement with this resource keeps the finding for all of them.
            covered.set(id, covered.has(id) && covered.get(id) === undefined ? undefined : grant?.reason);
          }
        }
      }
      for (const [id, reason] of covered) if (reason) acknowledge(owner, id, reason);
      return [];
    },
  });
}

interface Statement {
  Effect?: string;
  Action?: unknown;
  Resource?: unknown;
}

function toArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}
