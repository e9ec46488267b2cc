/**
 * What the backfill and the verification definitions build alike around their Lambda tasks: a task
 * that retries transient Lambda and DynamoDB faults unless told otherwise (every task reads or writes
 * the control table, and a throttle past the SDK's retries must not fail the run), a segment worker's
 * retries (its checkpoint conflict first), and the end of a failed run.
 */
import { type AslRetrier, type AslState, type Json, LAMBDA_TRANSIENT, lambdaTask } from './asl';
import { FAIL_WITH_CAUGHT_ERROR, RELEASE_ON_FAILURE } from './segment-run';

/** A definition's Lambda task builder, its default retries: transient Lambda faults, then `dynamoRetry`. */
export function workflowTask<F extends string>(dynamoRetry: AslRetrier) {
  return (
    fn: F,
    payload: { readonly [key: string]: Json },
    resultPath: string | null,
    next: string,
    retry: readonly AslRetrier[] = [LAMBDA_TRANSIENT, dynamoRetry],
  ) => lambdaTask(fn, payload, resultPath, next, retry);
}

/**
 * The retries of a segment worker: its `conflictError` (another runner advanced the segment's
 * checkpoint: re-read it after a pause and carry on from there), then transient Lambda faults and
 * `dynamoRetry`.
 */
export function segmentWorkerRetry(conflictError: string, dynamoRetry: AslRetrier): AslRetrier[] {
  return [
    { ErrorEquals: [conflictError], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2 },
    LAMBDA_TRANSIENT,
    dynamoRetry,
  ];
}

/**
 * The end of a failed run: `ReleaseOnFailure` (the task `release` makes, going on to its `next`, described
 * by `comment`), then `failed`, the execution's failure with the caught error.
 */
export function failedRun(
  failed: string,
  comment: string,
  release: (next: string) => AslState,
): Record<string, AslState> {
  return {
    [RELEASE_ON_FAILURE]: { ...release(failed), Comment: comment },
    [failed]: FAIL_WITH_CAUGHT_ERROR,
  };
}
