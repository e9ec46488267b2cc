/**
 * Runs of the deployed state machines (backfill, verification) on AWS: `StartExecution` with the
 * operator's input, and waiting for the execution (and the executions it continued as new) to end by
 * polling `DescribeExecution`. The SFN client is injected so tests drive it with aws-sdk-client-mock.
 *
 * A run that continues as new ends its first execution SUCCEEDED with `continuedAs.executionArn` in its
 * output (stepfunctions/segment-run.ts: the ContinueAsNew Task starts the next execution and the parent
 * ends); waiting
 * follows that chain to the execution that ended without continuing.
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { setTimeout as sleep } from 'node:timers/promises';
import { DualReadError } from '../core/common';

/** The state machine does not exist (wrong stack output, or the stack was torn down). */
export class StateMachineNotFoundError extends DualReadError {}

/** An execution of that name already exists (names are unique for 90 days): pick another run id. */
export class ExecutionExistsError extends DualReadError {}

/** The execution ended FAILED, TIMED_OUT or ABORTED; `error` and `cause` are Step Functions'. */
export class ExecutionFailedError extends DualReadError {
  constructor(
    readonly executionArn: string,
    readonly status: string,
    readonly error: string | undefined,
    readonly cause: string | undefined,
  ) {
    super(
      `execution ${executionArn} ended ${status}${error ? `: ${error}` : ''}${cause ? ` — ${cause}` : ''}. ` +
        'Its history in the Step Functions console shows the failing state; fix the cause and start the run again ' +
        'with the same --run-id to resume from its checkpoints',
    );
  }
}

/** A started execution. */
export interface StartedExecution {
  readonly executionArn: string;
  readonly startDate: number;
}

/** Where an execution stands. */
export interface ExecutionView {
  readonly executionArn: string;
  readonly status: string;
  readonly startDate?: number;
  readonly stopDate?: number;
  /** The parsed output of a SUCCEEDED execution. */
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

/** A client for `region` (the SDK's default chain without one). */
export function makeSfnClient(region?: string): SFNClient {
  return new SFNClient(region ? { region } : {});
}

/**
 * Starts an execution of `stateMachineArn` with `input` (named `name`, which is also the run id).
 *
 * @throws StateMachineNotFoundError, ExecutionExistsError
 */
export async function startExecution(
  sfn: SFNClient,
  stateMachineArn: string,
  name: string,
  input: unknown,
): Promise<StartedExecution> {
  try {
    const out = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
    );
    return { executionArn: out.executionArn ?? '', startDate: out.startDate?.getTime() ?? 0 };
  } catch (err) {
    if (err instanceof StateMachineDoesNotExist)
      throw new StateMachineNotFoundError(
        `state machine ${stateMachineArn} does not exist: check --env and --region, or redeploy the stack`,
      );
    if (err instanceof ExecutionAlreadyExists)
      throw new ExecutionExistsError(
        `an execution named "${name}" already exists for ${stateMachineArn}: pass another --run-id (execution names are unique for 90 days)`,
      );
    throw err;
  }
}

function view(out: DescribeExecutionCommandOutput): ExecutionView {
  let output: unknown;
  if (out.output !== undefined) {
    try {
      output = JSON.parse(out.output);
    } catch {
      output = out.output;
    }
  }
  return {
    executionArn: out.executionArn ?? '',
    status: out.status ?? 'UNKNOWN',
    ...(out.startDate ? { startDate: out.startDate.getTime() } : {}),
    ...(out.stopDate ? { stopDate: out.stopDate.getTime() } : {}),
    ...(output !== undefined ? { output } : {}),
    ...(out.error ? { error: out.error } : {}),
    ...(out.cause ? { cause: out.cause } : {}),
  };
}

/** Where execution `executionArn` stands. */
export async function describeExecution(sfn: SFNClient, executionArn: string): Promise<ExecutionView> {
  return view(await sfn.send(new DescribeExecutionCommand({ executionArn })));
}

/** The most recent executions of `stateMachineArn`, newest first. */
export async function recentExecutions(
  sfn: SFNClient,
  stateMachineArn: string,
  maxResults = 5,
): Promise<ExecutionView[]> {
  const out = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults }));
  return (out.executions ?? []).map((e) => ({
    executionArn: e.executionArn ?? '',
    status: e.status ?? 'UNKNOWN',
    ...(e.startDate ? { startDate: e.startDate.getTime() } : {}),
    ...(e.stopDate ? { stopDate: e.stopDate.getTime() } : {}),
  }));
}

/** The ARN of the execution a finished one continued as, when its output names one. */
function continuedAs(output: unknown): string | undefined {
  if (typeof output !== 'object' || output === null) return undefined;
  const c = (output as { continuedAs?: { executionArn?: unknown } }).continuedAs;
  const next = c?.executionArn;
  return typeof next === 'string' && next.startsWith('arn:') ? next : undefined;
}

/** Options of `waitForExecution`. */
export interface WaitOptions {
  /** @default 5000 */
  readonly pollMs?: number;
  /** Called on every poll (progress output). */
  readonly onPoll?: (v: ExecutionView) => void | Promise<void>;
  /** @default node's timers/promises setTimeout */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Waits until `executionArn` (and any execution it continued as) ends, polling `DescribeExecution`.
 *
 * @returns the view of the last execution, SUCCEEDED
 * @throws ExecutionFailedError when it ends FAILED, TIMED_OUT or ABORTED
 */
export async function waitForExecution(
  sfn: SFNClient,
  executionArn: string,
  options: WaitOptions = {},
): Promise<ExecutionView> {
  const pause = options.sleep ?? sleep;
  let arn = executionArn;
  for (;;) {
    const v = await describeExecution(sfn, arn);
    await options.onPoll?.(v);
    if (v.status === 'SUCCEEDED') {
      const next = continuedAs(v.output);
      if (!next) return v;
      arn = next;
      continue;
    }
    if (v.status !== 'RUNNING' && v.status !== 'PENDING_REDRIVE')
      throw new ExecutionFailedError(v.executionArn, v.status, v.error, v.cause);
    await pause(options.pollMs ?? 5000);
  }
}
