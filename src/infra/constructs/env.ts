import { Aws, Stack, Token } from "aws-cdk-lib";
import type { IConstruct } from "constructs";
import { partitionOf } from "../../access/names.js";

/**
 * Account and partition of the stack holding `scope`, as literals when the stack has an explicit environment
 * (xeks's stacks always do), so ARNs built from them read plainly in the template and can be named from another
 * account. Environment-agnostic stacks get the usual pseudo-parameter tokens.
 */
export function literalEnv(scope: IConstruct): { account: string; region: string; partition: string } {
  const stack = Stack.of(scope);
  const partition = Token.isUnresolved(stack.region) ? Aws.PARTITION : partitionOf(stack.region);
  return { account: stack.account, region: stack.region, partition };
}
