/**
 * Errors of the CLI itself, and the one printer every command's failure goes through: the error's
 * name, what was wrong and the fix, as text (colours only on a TTY) or as JSON with `--json`.
 */
import type { Guardrail } from '../core/control';
import { DualReadError } from '../core/common';

/** The command line is wrong (missing or bad option); the message says what to pass. */
export class UsageError extends DualReadError {
  override name = 'UsageError';
}

/** The stack, control table, definitions file or migration could not be found; the message says where it looked. */
export class TargetNotFoundError extends DualReadError {
  override name = 'TargetNotFoundError';
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
