/**
 * The `dualread` exit codes (documented in docs/runbook.md "The dualread CLI"), and which error class
 * maps to which. Scripts may rely on them: they never change meaning.
 */
import { ControlConflictError } from '../adapters/control-store';
import { MigrationFileError } from '../adapters/migration-loader';
import { ForceNeedsReasonError, GuardrailUnmetError, InvalidControlRequestError } from '../core/control';
import { DualReadError } from '../core/common';
import { ExecutionExistsError, StateMachineNotFoundError } from '../adapters/state-machine-runs';
import { RunFailedError, TargetNotFoundError, UsageError } from './errors';

/** Exit codes of every command. */
export const ExitCode = {
  /** Done. */
  OK: 0,
  /** An unexpected failure (a bug, or an AWS/DynamoDB error the message names). */
  ERROR: 1,
  /** A forward move refused: at least one guardrail is unmet (the output lists each with its fix). */
  GUARDRAIL_UNMET: 2,
  /** Someone else changed the migration at the same time: re-run `dualread status`, decide again. */
  CONFLICT: 3,
  /** The command line or a value is wrong (unknown option, bad phase, --force without --reason). */
  USAGE: 4,
  /** The target could not be found: stack, control table, definitions file or migration id. */
  NOT_FOUND: 5,
  /**
   * The work ran and found something wrong: a verification that is not clean (drift, unconfirmed lag,
   * mapping defects, or skipped), or a dead-letter replay that left records failed.
   */
  NOT_CLEAN: 6,
  /** A backfill or verification run failed (the message names the failing step's error and the fix). */
  RUN_FAILED: 7,
  /** `dualread cutover` aborted (legacy writes after the fence, an unclean verification): still NEW_PRIMARY. */
  CUTOVER_ABORTED: 8,
  /** `dualread cutover` gave up waiting (--timeout); its progress is kept: run it again to resume. */
  TIMEOUT: 9,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code of an error. */
export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof GuardrailUnmetError) return ExitCode.GUARDRAIL_UNMET;
  if (err instanceof ControlConflictError || err instanceof ExecutionExistsError) return ExitCode.CONFLICT;
  if (err instanceof RunFailedError) return err.alreadyRunning ? ExitCode.CONFLICT : ExitCode.RUN_FAILED;
  if (
    err instanceof UsageError ||
    err instanceof ForceNeedsReasonError ||
    err instanceof InvalidControlRequestError
  )
    return ExitCode.USAGE;
  if (
    err instanceof TargetNotFoundError ||
    err instanceof MigrationFileError ||
    err instanceof StateMachineNotFoundError
  )
    return ExitCode.NOT_FOUND;
  if (err instanceof DualReadError) return ExitCode.USAGE;
  return ExitCode.ERROR;
}
