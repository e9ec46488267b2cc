/**
 * The templates of a stack and of every nested stack in it (a `DualReadStack` puts each migration in a
 * nested stack), for assertions about "every resource of the deployment".
 */
import { NestedStack, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** `stack`'s template first, then one per nested stack under it, in construct order. */
export function stackTemplates(stack: Stack): Template[] {
  const nested = stack.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack);
  return [Template.fromStack(stack), ...nested.map((n) => Template.fromStack(n))];
}
