/**
 * The AWS side of `dualread backfill start` and of waiting on an execution: the stack's outputs
 * (CloudFormation), the caller (STS) and Step Functions, all through aws-sdk-client-mock (none has a
 * local server).
 */
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { ExecutionFailedError, waitForExecution } from '../../../adapters/state-machine-runs';
import { ExitCode } from '../../../cli/exit-codes';
import { runCli } from '../../../cli/program';
import { mockDualReadStack, recordingIo } from '../../helpers/aws-cli';

const MACHINE = 'arn:aws:states:eu-west-1:111122223333:stateMachine:DualRead-prod-backfill-users';
const EXEC = (n: string) =>
  `arn:aws:states:eu-west-1:111122223333:execution:DualRead-prod-backfill-users:${n}`;
const NOW = Date.parse('2026-12-04T19:54:00Z');

describe('dualread backfill start on AWS', () => {
  const aws = mockDualReadStack({ ControlTableName: 'control', UsersBackfillStateMachineArn: MACHINE });
  const sfn = mockClient(SFNClient);
  beforeEach(() => sfn.reset());

  it('starts an execution of the stack’s backfill state machine with the run id and the caller as actor', async () => {
    // Arrange
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXEC('x'), startDate: new Date(NOW) });
    const io = recordingIo();

    // Act
    const code = await runCli(
      [
        '--env',
        'prod',
        '--region',
        'eu-west-1',
        '--json',
        'backfill',
        'start',
        '--run-id',
        'bf-1',
        '--segments',
        '8',
      ],
      io,
      () => NOW,
    );

    // Assess
    expect(code).toBe(ExitCode.OK);
    expect(JSON.parse(io.out())).toEqual({ migrationId: 'users', runId: 'bf-1', executionArn: EXEC('x') });
    const call = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(call?.stateMachineArn).toBe(MACHINE);
    expect(call?.name).toBe(`bf-1-${NOW.toString(36)}`);
    expect(JSON.parse(call?.input ?? '{}')).toEqual({
      runId: 'bf-1',
      totalSegments: 8,
      actor: 'arn:aws:iam::111122223333:user/alice',
    });
  });

  it('exits 5 naming the missing output when the stack has no backfill state machine', async () => {
    aws.stack({ ControlTableName: 'control' });
    const io = recordingIo();
    const code = await runCli(['--env', 'prod', 'backfill', 'start'], io, () => NOW);
    expect(code).toBe(ExitCode.NOT_FOUND);
    expect(io.err()).toMatch(/TargetNotFoundError: the stack has no output UsersBackfillStateMachineArn/);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('exits 3 when the execution name is taken', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const io = recordingIo();
    const code = await runCli(['--env', 'prod', 'backfill', 'start', '--run-id', 'bf-1'], io, () => NOW);
    expect(code).toBe(ExitCode.CONFLICT);
    expect(io.err()).toMatch(/ExecutionExistsError: .*pass another --run-id/);
  });

  it('with --wait, exits 3 when another run holds the lock and 7 when the run fails, naming the step’s error', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXEC('x'), startDate: new Date(NOW) });
    const failWith = (error: string, message: string) =>
      sfn.on(DescribeExecutionCommand).resolves({
        executionArn: EXEC('x'),
        stateMachineArn: MACHINE,
        status: 'FAILED',
        startDate: new Date(NOW),
        error,
        cause: JSON.stringify({ errorType: error, errorMessage: message }),
      });

    failWith('BackfillAlreadyRunningError', 'run "bf-0" holds the backfill lock');
    const held = recordingIo();
    expect(await runCli(['--env', 'prod', 'backfill', 'start', '--wait'], held, () => NOW)).toBe(
      ExitCode.CONFLICT,
    );
    expect(held.err()).toMatch(
      /RunFailedError: the backfill run failed with BackfillAlreadyRunningError: run "bf-0"/,
    );

    failWith('CdcNotConsumingError', 'the sync function is not consuming the stream');
    const failed = recordingIo();
    expect(await runCli(['--env', 'prod', '--json', 'backfill', 'start', '--wait'], failed, () => NOW)).toBe(
      ExitCode.RUN_FAILED,
    );
    expect(JSON.parse(failed.out())).toMatchObject({
      error: { name: 'RunFailedError', exitCode: ExitCode.RUN_FAILED },
    });
  });
});

describe('Function: waitForExecution', () => {
  const sfn = mockClient(SFNClient);
  beforeEach(() => sfn.reset());

  it('polls while RUNNING and follows the executions the run continued as', async () => {
    // Arrange
    sfn
      .on(DescribeExecutionCommand, { executionArn: EXEC('a') })
      .resolvesOnce({
        executionArn: EXEC('a'),
        stateMachineArn: MACHINE,
        status: 'RUNNING',
        startDate: new Date(),
      })
      .resolves({
        executionArn: EXEC('a'),
        stateMachineArn: MACHINE,
        status: 'SUCCEEDED',
        startDate: new Date(),
        output: JSON.stringify({ continuedAs: { executionArn: EXEC('b') } }),
      });
    sfn.on(DescribeExecutionCommand, { executionArn: EXEC('b') }).resolves({
      executionArn: EXEC('b'),
      stateMachineArn: MACHINE,
      status: 'SUCCEEDED',
      startDate: new Date(),
      output: JSON.stringify({ status: 'COMPLETE' }),
    });
    const sleeps: number[] = [];

    // Act
    const end = await waitForExecution(new SFNClient({ region: 'eu-west-1' }), EXEC('a'), {
      pollMs: 7,
      sleep: async (ms) => void sleeps.push(ms),
    });

    // Assess
    expect(end).toMatchObject({
      executionArn: EXEC('b'),
      status: 'SUCCEEDED',
      output: { status: 'COMPLETE' },
    });
    expect(sleeps).toEqual([7]);
  });

  it('throws ExecutionFailedError with Step Functions’ error and cause', async () => {
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: EXEC('a'),
      stateMachineArn: MACHINE,
      status: 'TIMED_OUT',
      startDate: new Date(),
    });
    await expect(
      waitForExecution(new SFNClient({ region: 'eu-west-1' }), EXEC('a'), { sleep: async () => undefined }),
    ).rejects.toThrow(ExecutionFailedError);
  });
});
