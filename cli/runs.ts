/**
 * What `dualread backfill start` and `dualread verify` share: the state machine of a run from the
 * stack's outputs (`<Migration>BackfillStateMachineArn`, `<Migration>VerificationStateMachineArn`), the
 * execution name of a run, the run-id option, and a failed run turned into `RunFailedError` (exit 7, or
 * 3 when another run holds the lock).
 */
import { InvalidArgumentError } from 'commander';
import { ExecutionFailedError } from '../adapters/state-machine-runs';
import { LocalExecutionFailedError } from '../local/state-machine-runner';
import { RunFailedError, TargetNotFoundError } from './errors';
import { type Target, pascal } from './target';

/** Which run. */
export type RunKind = 'backfill' | 'verification';

const OUTPUT: Record<RunKind, string> = {
  backfill: 'BackfillStateMachineArn',
  verification: 'VerificationStateMachineArn',
};

/** The ARN of the run's state machine from the stack's outputs. @throws TargetNotFoundError */
export function stateMachineArnOf(target: Target, kind: RunKind): string {
  const key = `${pascal(target.migration.id)}${OUTPUT[kind]}`;
  const arn = target.outputs[key];
  if (!arn)
    throw new TargetNotFoundError(
      `the stack has no output ${key}: the migration "${target.migration.id}" is deployed without a ${kind} ` +
        `state machine, or the stack predates this output — redeploy it with this version (cdk deploy)`,
    );
  return arn;
}

/** `--run-id`: 1-80 letters, digits or `_.-` (it names the execution too, where `:` is not allowed). */
export function runIdArg(value: string): string {
  if (!/^[A-Za-z0-9_.-]{1,60}$/.test(value))
    throw new InvalidArgumentError(
      `"${value}" must be 1-60 letters, digits, "_", "." or "-" (it is part of the execution name)`,
    );
  return value;
}

/** A new run id: `<prefix>-<UTC time>` (e.g. `backfill-20261204T195400Z`). */
export function newRunId(prefix: string, now: number): string {
  return `${prefix}-${new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
}

/**
 * The execution name of a start of run `runId`: unique per start (Step Functions keeps names for 90
 * days, and resuming a run starts a new execution with the same run id).
 */
export function executionName(runId: string, now: number): string {
  return `${runId}-${now.toString(36)}`.slice(0, 80);
}

/** The message of a Step Functions cause: a Lambda error's cause is JSON with `errorMessage`. */
function causeMessage(cause: string | undefined): string {
  if (!cause) return 'no cause given';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the cause as it is
  }
  return cause;
}

/** A failed execution (AWS or local) as `RunFailedError`; any other error as it is. */
export function asRunFailure(kind: RunKind, err: unknown): unknown {
  if (err instanceof LocalExecutionFailedError) return new RunFailedError(kind, err.error, err.cause);
  if (err instanceof ExecutionFailedError)
    return new RunFailedError(
      kind,
      err.error ?? err.status,
      `${causeMessage(err.cause)} (${err.executionArn})`,
    );
  return err;
}
