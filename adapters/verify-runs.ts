/**
 * A verification run on AWS, started and (optionally) waited for in one call: `StartExecution` of the
 * stack's verification state machine, `DescribeExecution` until the run (with its continuations) ends,
 * then its `VERIFY#<runId>` report from the control table. `dualread verify` uses it; so may any
 * command that needs a fresh verification before it acts (cutover).
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { ControlKey, type RunStartInput } from '../core/control';
import type { VerifyReport } from '../core/verify';
import type { ControlStore } from './control-store';
import { type WaitOptions, startExecution, waitForExecution } from './state-machine-runs';

/** What a verification is started with: the run settings and whether it repairs confirmed drift. */
export interface VerifyRunInput extends RunStartInput {
  readonly runId: string;
  /** Repair confirmed drift (audited). */
  readonly repair: boolean;
}

/** A started (and, with `wait`, finished) verification. */
export interface VerifyRunOutcome {
  readonly runId: string;
  readonly executionArn: string;
  /** The report (absent when not waited for, or when the run wrote none). */
  readonly report?: VerifyReport;
}

/** The `VERIFY#<runId>` report, if the run wrote one. */
export function readVerifyReport(store: ControlStore, runId: string): Promise<VerifyReport | undefined> {
  return store.get<VerifyReport>(ControlKey.verify(runId));
}

/** True when a finished report shows the stores equal (COMPLETE and clean). */
export function isClean(report: VerifyReport | undefined): boolean {
  return report?.status === 'COMPLETE' && report.clean === true;
}

/**
 * Starts verification run `input.runId` as execution `executionName` and, when `wait` is given, waits
 * for it to end and reads its report.
 *
 * @throws StateMachineNotFoundError, ExecutionExistsError (start); ExecutionFailedError (wait)
 */
export async function runVerification(o: {
  readonly sfn: SFNClient;
  readonly store: ControlStore;
  readonly stateMachineArn: string;
  readonly executionName: string;
  readonly input: VerifyRunInput;
  readonly wait?: WaitOptions;
}): Promise<VerifyRunOutcome> {
  const started = await startExecution(o.sfn, o.stateMachineArn, o.executionName, o.input);
  if (!o.wait) return { runId: o.input.runId, executionArn: started.executionArn };
  const ended = await waitForExecution(o.sfn, started.executionArn, o.wait);
  const report = await readVerifyReport(o.store, o.input.runId);
  return { runId: o.input.runId, executionArn: ended.executionArn, ...(report ? { report } : {}) };
}
