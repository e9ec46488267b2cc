/**
 * Errors of the CLI itself, and the one printer every command's failure goes through: the error's
 * name, what was wrong and the fix, as text (colours only on a TTY) or as JSON with `--json`.
 */
import type { Guardrail } from '../core/control';
import { DualReadError } from '../core/common';

/** The command line is wrong (missing or bad option); the message says what to pass. */
export class UsageError extends DualReadError {}

/** The stack, control table, definitions file or migration could not be found; the message says where it looked. */
export class TargetNotFoundError extends DualReadError {}

/**
 * A backfill or verification run failed: `errorName` is the failing step's error (e.g.
 * `CdcNotConsumingError`), `detail` its message, which says what to do. `alreadyRunning`: another run
 * holds the lock (exit 3, like any conflict).
 */
export class RunFailedError extends DualReadError {
  readonly alreadyRunning: boolean;
  constructor(
    readonly run: 'backfill' | 'verification',
    readonly errorName: string,
    readonly detail: string,
  ) {
    super(
      `the ${run} run failed with ${errorName}: ${detail}${/\.\s*$/.test(detail) ? '' : '.'} ` +
        `Fix the cause it names, then start it again with the same --run-id to resume from its checkpoints ` +
        `(\`dualread ${run === 'backfill' ? 'backfill status' : 'status'}\` shows where it stands)`,
    );
    this.alreadyRunning = /AlreadyRunningError$/.test(errorName);
  }
}

/** How an error is shown. */
export interface PrintedError {
  readonly name: string;
  readonly message: string;
  readonly exitCode: number;
  readonly guardrails?: readonly Guardrail[];
}

/** What a failure is, for both printers. */
export function describeError(err: unknown, exitCode: number): PrintedError {
  if (err instanceof Error) {
    const guardrails = (err as { guardrails?: readonly Guardrail[] }).guardrails;
    const known = err instanceof DualReadError;
    return {
      name: err.name,
      message: known
        ? err.message
        : `${err.message} (unexpected: check the endpoint/credentials and the message above, then retry; report it if it persists)`,
      exitCode,
      ...(guardrails ? { guardrails } : {}),
    };
  }
  return { name: 'Error', message: String(err), exitCode };
}
