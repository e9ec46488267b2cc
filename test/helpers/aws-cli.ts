/**
 * The `dualread` program in process against mocked AWS (aws-sdk-client-mock): the stack `DualRead-prod`
 * with the outputs a test names, the caller `alice`, and a CLI io that records what was printed.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { CliIo } from '../../cli/output';

/** The caller every AWS CLI test runs as. */
const CALLER_ARN = 'arn:aws:iam::111122223333:user/alice';

/**
 * Mocks CloudFormation and STS for a describe block. `reset(outputs)` clears both and answers as the
 * stack with `outputs`, called by `CALLER_ARN` (before each test of the block when `outputs` are given
 * here); `stack(outputs)` changes the outputs.
 */
export function mockDualReadStack(outputs?: Record<string, string>) {
  const cfn = mockClient(CloudFormationClient);
  const sts = mockClient(STSClient);
  const stack = (outputs: Record<string, string>): void => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'DualRead-prod',
          CreationTime: new Date(),
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
        },
      ],
    });
  };
  const reset = (outputs: Record<string, string>): void => {
    cfn.reset();
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Arn: CALLER_ARN });
    stack(outputs);
  };
  if (outputs) beforeEach(() => reset(outputs));
  return { cfn, sts, stack, reset };
}

/** A CLI io (not a TTY, no environment) that keeps what was written to stdout and stderr. */
export function recordingIo(): CliIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    isTTY: false,
    env: {},
    out: () => out.join(''),
    err: () => err.join(''),
  };
}
