/**
 * Starting a verification run and waiting for it to end, the same way for every caller. On AWS:
 * `StartExecution` of the verification state machine (stack output
 * `<Migration>VerificationStateMachineArn`), `DescribeExecution` until the run (with its continuations)
 * ends, then its `VERIFY#<runId>` report from the control table. `runVerification` is what `dualread
 * verify` calls; `VerificationRunner` is the shape `dualread cutover` drives (locally the caller gives the
 * same shape over local/verify.ts: adapters do not import local mode), and a run started earlier is
 * found again by its execution ARN.
 *
 * The verdict (clean or not) is the run's report in the control table; `finished` only says whether
 * the execution ended, and why it failed when it did.
 */
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DualReadError } from '../core/common';
import { ControlKey, type RunStartInput } from '../core/control';
import type { VerifyReport } from '../core/verify';
import type { ControlStore } from './control-store';
import { type RequiredOutput, type StackOutputs, requiredOutput } from './stack-outputs';
import {
  ExecutionFailedError,
  type WaitOptions,
  startExecution,
  waitForExecution,
} from './state-machine-runs';

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

/** How an execution ended. */
export interface RunEnd {
  readonly status: 'SUCCEEDED' | 'FAILED';
  /** The failure (error name and cause) when FAILED. */
  readonly error?: string;
}

/** A started verification. */
export interface VerificationRun {
  readonly runId: string;
  /** Resolves when the execution ends (never rejects: a failure is `status: 'FAILED'`). */
  readonly finished: Promise<RunEnd>;
}

/** Starts verification runs; `attach` finds one started by an earlier process, if it can. */
export interface VerificationRunner {
  start(runId: string): Promise<VerificationRun>;
  attach?(runId: string): Promise<VerificationRun | undefined>;
}

/** The stack has no verification state machine output. */
export class VerificationNotDeployedError extends DualReadError {}

/** The stack output naming the verification state machine. */
const VERIFICATION_OUTPUT: RequiredOutput = {
  name: 'VerificationStateMachineArn',
  missing: VerificationNotDeployedError,
  remedy: 'deploy the verification (and redeploy with this version of dualread)',
};

/** AWS: the verification state machine. */
export class StateMachineVerifications implements VerificationRunner {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
    private readonly pollMs = 5_000,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** A runner for the stack's outputs; a named error when the output is missing. */
  static fromOutputs(outputs: StackOutputs, prefix: string, region?: string): StateMachineVerifications {
    const arn = requiredOutput(outputs, prefix, VERIFICATION_OUTPUT);
    return new StateMachineVerifications(new SFNClient(region ? { region } : {}), arn);
  }

  async start(runId: string): Promise<VerificationRun> {
    const started = await startExecution(this.sfn, this.stateMachineArn, runId, { runId, repair: false });
    return { runId, finished: this.poll(started.executionArn || this.executionArn(runId)) };
  }

  async attach(runId: string): Promise<VerificationRun | undefined> {
    const arn = this.executionArn(runId);
    try {
      await this.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    } catch {
      return undefined;
    }
    return { runId, finished: this.poll(arn) };
  }

  private executionArn(runId: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${runId}`;
  }

  /** Waits with `waitForExecution` (continuations followed); a failure is a `RunEnd`, never a rejection. */
  private poll(executionArn: string): Promise<RunEnd> {
    return waitForExecution(this.sfn, executionArn, { pollMs: this.pollMs, sleep: this.sleep }).then(
      (): RunEnd => ({ status: 'SUCCEEDED' }),
      (err: unknown): RunEnd => ({
        status: 'FAILED',
        error:
          err instanceof ExecutionFailedError
            ? `execution ${err.status}${err.error ? `: ${err.error}` : ''}${err.cause ? ` (${err.cause})` : ''}`
            : `DescribeExecution failed: ${(err as Error).message}`,
      }),
    );
  }
}
