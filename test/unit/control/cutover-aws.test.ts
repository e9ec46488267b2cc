/**
 * The AWS halves of `dualread cutover`, against mocked clients (Lambda and Step Functions have no local
 * server): the sync's event source mapping found by function name and stream, disabled and re-enabled,
 * its state read as "enabled" until it is `Disabled`; the verification started by name and polled.
 */
import {
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { CdcMappingNotFoundError, EventSourceMappingSwitch } from '../../../adapters/cdc-switch';
import { StateMachineVerifications, VerificationNotDeployedError } from '../../../adapters/verify-runs';

const STREAM = 'arn:aws:dynamodb:eu-west-1:111122223333:table/users/stream/2026-01-01T00:00:00.000';
const OTHER = 'arn:aws:dynamodb:eu-west-1:111122223333:table/other/stream/2026-01-01T00:00:00.000';
const outputs = { UsersSyncFunctionName: 'sync-fn', UsersLegacyStreamArn: STREAM };

describe('Class: EventSourceMappingSwitch', () => {
  const lambda = mockClient(LambdaClient);
  afterEach(() => lambda.reset());

  it('disables only the mapping on the legacy stream, following pages', async () => {
    lambda
      .on(ListEventSourceMappingsCommand, { FunctionName: 'sync-fn' })
      .resolvesOnce({ EventSourceMappings: [{ UUID: 'm-other', EventSourceArn: OTHER }], NextMarker: 'p2' })
      .resolvesOnce({ EventSourceMappings: [{ UUID: 'm-1', EventSourceArn: STREAM, State: 'Enabled' }] });
    lambda.on(UpdateEventSourceMappingCommand).resolves({});
    await EventSourceMappingSwitch.fromOutputs(outputs, 'Users', 'eu-west-1').disable();
    expect(lambda.commandCalls(ListEventSourceMappingsCommand)[1]?.args[0].input.Marker).toBe('p2');
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([
      { UUID: 'm-1', Enabled: false },
    ]);
  });

  it.each([
    ['Enabled', true],
    ['Disabling', true],
    ['Updating', true],
    ['Disabled', false],
  ])('a mapping %s counts as enabled: %s', async (State, enabled) => {
    lambda.on(ListEventSourceMappingsCommand).resolves({
      EventSourceMappings: [{ UUID: 'm-1', EventSourceArn: STREAM, State }],
    });
    expect(await EventSourceMappingSwitch.fromOutputs(outputs, 'Users').enabled()).toBe(enabled);
  });

  it('re-enables the mapping when a cutover aborts', async () => {
    lambda.on(ListEventSourceMappingsCommand).resolves({
      EventSourceMappings: [{ UUID: 'm-1', EventSourceArn: STREAM, State: 'Disabled' }],
    });
    lambda.on(UpdateEventSourceMappingCommand).resolves({});
    await EventSourceMappingSwitch.fromOutputs(outputs, 'Users').enable();
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand)[0]?.args[0].input).toEqual({
      UUID: 'm-1',
      Enabled: true,
    });
  });

  it('names a missing output or mapping and what to do; enabled() is then unknown', async () => {
    expect(() => EventSourceMappingSwitch.fromOutputs({}, 'Users')).toThrow(
      /no UsersSyncFunctionName output: redeploy/,
    );
    lambda.on(ListEventSourceMappingsCommand).resolves({ EventSourceMappings: [] });
    const sw = EventSourceMappingSwitch.fromOutputs(outputs, 'Users');
    await expect(sw.disable()).rejects.toThrow(CdcMappingNotFoundError);
    expect(await sw.enabled()).toBeUndefined();
  });
});

describe('Class: StateMachineVerifications', () => {
  const sfn = mockClient(SFNClient);
  afterEach(() => sfn.reset());
  const ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:verify-users';
  const noWait = async (): Promise<void> => undefined;

  it('starts an execution named after the run and resolves when it succeeds', async () => {
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: `${ARN.replace('stateMachine', 'execution')}:r1` });
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' })
      .resolvesOnce({ status: 'SUCCEEDED' });
    const runner = new StateMachineVerifications(new SFNClient({}), ARN, 0, noWait);
    const run = await runner.start('r1');
    expect(await run.finished).toEqual({ status: 'SUCCEEDED' });
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({
      stateMachineArn: ARN,
      name: 'r1',
      input: JSON.stringify({ runId: 'r1', repair: false }),
    });
  });

  it('follows a run that continued as new to its last execution before it counts as finished', async () => {
    const first = `${ARN.replace('stateMachine', 'execution')}:r3`;
    const next = `${first}-2`;
    sfn.on(StartExecutionCommand).resolves({ executionArn: first });
    sfn.on(DescribeExecutionCommand, { executionArn: first }).resolves({
      executionArn: first,
      status: 'SUCCEEDED',
      output: JSON.stringify({ continuedAs: { executionArn: next } }),
    });
    sfn
      .on(DescribeExecutionCommand, { executionArn: next })
      .resolvesOnce({ executionArn: next, status: 'RUNNING' })
      .resolvesOnce({ executionArn: next, status: 'FAILED', error: 'States.TaskFailed' });
    const runner = new StateMachineVerifications(new SFNClient({}), ARN, 0, noWait);
    const run = await runner.start('r3');
    expect(await run.finished).toEqual({ status: 'FAILED', error: 'execution FAILED: States.TaskFailed' });
    expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual([
      first,
      next,
      next,
    ]);
  });

  it('reports a failed execution with its error and cause, and re-attaches to a run by name', async () => {
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ status: 'FAILED', error: 'VerifyLockHeldError', cause: 'held' });
    const runner = new StateMachineVerifications(new SFNClient({}), ARN, 0, noWait);
    const run = await runner.attach('r2');
    expect(await run?.finished).toEqual({
      status: 'FAILED',
      error: 'execution FAILED: VerifyLockHeldError (held)',
    });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input.executionArn).toBe(
      'arn:aws:states:eu-west-1:111122223333:execution:verify-users:r2',
    );
    expect(() => StateMachineVerifications.fromOutputs({}, 'Users')).toThrow(VerificationNotDeployedError);
  });
});
