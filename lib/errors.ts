/**
 * Errors raised while building the CDK app. They are thrown at synth time, before anything is
 * deployed, so a wrong combination of props never reaches CloudFormation.
 */
import { DualReadError } from '../core/common';

/**
 * A construct got an invalid combination of props; the message names the construct, the migration
 * and what to change.
 */
export class ConstructPropsError extends DualReadError {
  constructor(
    readonly construct: string,
    readonly migrationId: string | undefined,
    problem: string,
  ) {
    super(`${construct}${migrationId === undefined ? '' : ` (migration "${migrationId}")`}: ${problem}`);
  }
}

/** A context value of the CDK app (`-c key=value` or cdk.json) is invalid; the message says which and why. */
export class AppContextError extends DualReadError {
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`context "${key}": ${problem}`);
  }
}
