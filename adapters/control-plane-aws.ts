/**
 * What the control plane needs from AWS besides the control table: the stack's outputs
 * (CloudFormation `DescribeStacks` of `DualRead-<env>`), the caller's IAM principal ARN (STS
 * `GetCallerIdentity`, the actor of every change) and the depth of the CDC dead-letter queue (SQS).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DualReadError } from '../core/common';

/** The stack does not exist in that account and region, or has no such output. */
export class StackNotFoundError extends DualReadError {}

/** The outputs of stack `stackName`, by output key. @throws StackNotFoundError */
export async function stackOutputs(stackName: string, region?: string): Promise<Record<string, string>> {
  const cfn = new CloudFormationClient(region ? { region } : {});
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = out.Stacks?.[0];
    if (!stack) throw new StackNotFoundError(`stack ${stackName} not found`);
    return Object.fromEntries(
      (stack.Outputs ?? []).flatMap((o) =>
        o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
      ),
    );
  } catch (err) {
    if (err instanceof StackNotFoundError) throw err;
    if (err instanceof Error && /does not exist/.test(err.message))
      throw new StackNotFoundError(
        `stack ${stackName} does not exist in region ${(await cfn.config.region()) || '?'}: check --env and --region (deploy with \`cdk deploy -c env=<name>\`)`,
      );
    throw err;
  } finally {
    cfn.destroy();
  }
}

/** The caller's IAM principal ARN. */
export async function callerArn(region?: string): Promise<string> {
  const sts = new STSClient(region ? { region } : {});
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    return out.Arn ?? 'unknown-principal';
  } finally {
    sts.destroy();
  }
}

/** Messages waiting or in flight in an SQS queue (each is one dead-lettered batch). */
export function queueDepth(queueUrl: string, region?: string): () => Promise<number | undefined> {
  return async () => {
    const sqs = new SQSClient(region ? { region } : {});
    try {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      const a = out.Attributes ?? {};
      return (
        Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0)
      );
    } catch {
      return undefined;
    } finally {
      sqs.destroy();
    }
  };
}
