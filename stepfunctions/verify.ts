/**
 * The verification state machine (issue 5): ONE definition, used by CDK (task placeholders substituted
 * with the functions' ARNs through `definitionSubstitutions`) and by local mode (`local/verify.ts`
 * binds every Task to the real handlers with `local/state-machine-runner.ts`).
 *
 *   Preflight (lock, RUNNING report) ──(lock held)──▶ AlreadyRunning (succeeds: runs never overlap)
 *      │ ──(backfill not COMPLETE: stage SKIPPED, report SKIPPED, no lock)──▶ Skipped (succeeds, no alarm)
 *      ▼
 *   PrepareRound ─▶ StageChoice ─┬─ SUMS    ─▶ ChecksumLegacySegments (Distributed Map, a child per segment:
 *      ▲                         │                ReadControls ─▶ pause / rate Wait ─▶ ScanSegment loop)
 *      │                         ├─ NEW     ─▶ ChecksumNewSegments (same loop: new checksum + key census)
 *      │                         ├─ LEGACY  ─▶ CompareLegacySegments (only when the checksums differ:
 *      │                         │                BatchGetItem of the mapped keys, classification)
 *      │                         ├─ EXTRAS  ─▶ FindExtras (only when the key censuses differ too)
 *      │                         ├─ RECHECK ─▶ Recheck (waits for the frontier inside, bounded)
 *      │                         ├─ REPAIR  ─▶ Repair (conditional writes, audit)
 *      │                         └─ REPORT  ─▶ Report ─▶ ReleaseLock ─▶ Succeeded
 *      │                              │ (each of the first four)
 *   NextRound ◀── Advance (next stage from the control table, lock renewed)
 *      └─ rounds >= maxRoundsPerExecution ─▶ ContinueAsNew (same runId) ─▶ ContinuedAsNew
 *   Any failure after the preflight ─▶ ReleaseOnFailure (FAILED report, lock released) ─▶ VerifyFailed
 *
 * History: the segment loops run in child executions (one per segment, bounded by
 * maxIterationsPerRound), and the parent continues as a new execution after maxRoundsPerExecution
 * rounds, exactly as the backfill does (docs/backfill.md has the arithmetic; the loop, the Map and
 * continue-as-new are built by stepfunctions/segment-run.ts for both).
 * JSONPath only; no JSONata, no Assign, no falsy Pass Result, no $$.State.RetryCount (the local
 * interpreter, aws-local-stepfunctions 3.0.0, ignores or lacks them).
 */
import { type AslMachine, type AslState, type Json, dynamoTransient } from './asl';
import { CATCH_ALL_TO_RELEASE, CONTINUE_AS_NEW, nextRound, segmentLoop, segmentMap } from './segment-run';
import { failedRun, segmentWorkerRetry, workflowTask } from './workflow-tasks';

const DYNAMO_TRANSIENT_RETRY = dynamoTransient('UnprocessedKeysError');

/** Placeholders of the function ARNs, substituted by CDK and bound to handlers locally. */
export const VerifyFunction = {
  CONTROL: 'VerifyControlFunctionArn',
  SCAN: 'VerifyScanFunctionArn',
  RECHECK: 'VerifyRecheckFunctionArn',
  REPAIR: 'VerifyRepairFunctionArn',
} as const;
export type VerifyFunction = (typeof VerifyFunction)[keyof typeof VerifyFunction];

/** The Task that continues a long run as a new execution. */
export const VERIFY_CONTINUE_AS_NEW_STATE = CONTINUE_AS_NEW;

type Payload = { [key: string]: Json };

/** A Lambda task of this definition (retries of transient faults by default). */
const task = workflowTask<VerifyFunction>(DYNAMO_TRANSIENT_RETRY);

const segmentPayload: Payload = {
  'runId.$': '$.runId',
  'side.$': '$.side',
  'segment.$': '$.segment',
  'totalSegments.$': '$.totalSegments',
};

/** The scan passes (VerifySide in core/verify/checkpoint.ts). */
export type LoopSide = 'sums' | 'new' | 'legacy' | 'extras';

/** State names of a side's segment loop (state names are unique across a machine, Map bodies included). */
export function loopStates(side: LoopSide) {
  const p = { sums: 'Sums', new: 'New', legacy: 'Legacy', extras: 'Extras' }[side];
  return {
    readControls: `${p}ReadControls`,
    controlsChoice: `${p}ControlsChoice`,
    paused: `${p}WaitWhilePaused`,
    rate: `${p}WaitForRateLimit`,
    scan: `${p}ScanSegment`,
    pagesChoice: `${p}PagesChoice`,
    nextIteration: `${p}NextIteration`,
    iterationChoice: `${p}IterationChoice`,
    segmentYield: `${p}SegmentYield`,
    segmentDone: `${p}SegmentDone`,
  } as const;
}

/** The per-segment loop of one side (a child execution per segment in AWS). */
function passLoop(side: LoopSide): Record<string, AslState> {
  const n = loopStates(side);
  return segmentLoop(
    { ...n, work: n.scan },
    {
      readControls: {
        ...task(
          VerifyFunction.CONTROL,
          { op: 'controls', ...segmentPayload },
          '$.controls',
          n.controlsChoice,
        ),
        Comment: 'Operator controls shared with backfill (pause, rate) and whether the segment is done',
      },
      work: {
        ...task(
          VerifyFunction.SCAN,
          segmentPayload,
          '$.page',
          n.pagesChoice,
          segmentWorkerRetry('VerifyCheckpointConflictError', DYNAMO_TRANSIENT_RETRY),
        ),
        Comment: 'Segment worker: classifies and hashes pages for a bounded time, advancing its checkpoint',
      },
    },
  );
}

/** The Distributed Map of one pass over the round's pending segments. */
function passMap(side: LoopSide, label: string): AslState {
  return segmentMap({
    label,
    itemsPath: '$.next.segments',
    runPath: '$.run',
    item: { side },
    startAt: loopStates(side).readControls,
    states: passLoop(side),
    resultPath: '$.round',
    next: 'Advance',
  });
}

const runPayload: Payload = { 'run.$': '$.run', 'executionId.$': '$$.Execution.Id' };

/** Builds the verification definition. Pure: the same object for CDK and local mode. */
export function verifyDefinition(): AslMachine {
  return {
    Comment:
      'dualread verification: lock, checksums of both tables by Distributed Maps over scan segments; only ' +
      'when they differ, per-item comparison (and origin lookups when the key censuses differ), lag-aware ' +
      're-check of suspects against the frontier, optional repair, report; ' +
      'continues as a new execution to keep every history far below 25,000 events',
    StartAt: 'Preflight',
    States: {
      Preflight: {
        ...task(
          VerifyFunction.CONTROL,
          {
            op: 'preflight',
            'input.$': '$',
            'executionId.$': '$$.Execution.Id',
            'executionName.$': '$$.Execution.Name',
          },
          '$.run',
          'PrepareRound',
        ),
        Catch: [
          { ErrorEquals: ['VerifyAlreadyRunningError'], ResultPath: '$.error', Next: 'AlreadyRunning' },
        ],
        Comment: 'Both tables usable, the verification lock (runs never overlap), the RUNNING report',
      },
      AlreadyRunning: {
        Type: 'Succeed',
        Comment: 'Another run holds the lock: this start (e.g. a schedule tick) does nothing',
      },
      Skipped: {
        Type: 'Succeed',
        OutputPath: '$.run',
        Comment:
          'The backfill is not COMPLETE: the run did not judge (report SKIPPED with the reason; no drift, no failure)',
      },
      PrepareRound: {
        Type: 'Pass',
        Parameters: { 'run.$': '$.run.value', 'next.$': '$.run.value.next', counter: { round: 0 } },
        Next: 'StageChoice',
      },
      StageChoice: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.next.stage', StringEquals: 'SKIPPED', Next: 'Skipped' },
          { Variable: '$.next.stage', StringEquals: 'SUMS', Next: 'ChecksumLegacySegments' },
          { Variable: '$.next.stage', StringEquals: 'NEW', Next: 'ChecksumNewSegments' },
          { Variable: '$.next.stage', StringEquals: 'LEGACY', Next: 'CompareLegacySegments' },
          { Variable: '$.next.stage', StringEquals: 'EXTRAS', Next: 'FindExtras' },
          { Variable: '$.next.stage', StringEquals: 'RECHECK', Next: 'Recheck' },
          { Variable: '$.next.stage', StringEquals: 'REPAIR', Next: 'Repair' },
        ],
        Default: 'Report',
      },
      ChecksumLegacySegments: passMap('sums', 'ChecksumLegacySegments'),
      ChecksumNewSegments: passMap('new', 'ChecksumNewSegments'),
      CompareLegacySegments: passMap('legacy', 'CompareLegacySegments'),
      FindExtras: passMap('extras', 'FindExtras'),
      Recheck: {
        ...task(
          VerifyFunction.RECHECK,
          { 'runId.$': '$.run.runId', 'actor.$': '$.run.actor' },
          '$.step',
          'Advance',
        ),
        Catch: CATCH_ALL_TO_RELEASE,
        Comment: 'Re-reads suspects once the frontier has passed their legacy read; only survivors are drift',
      },
      Repair: {
        ...task(
          VerifyFunction.REPAIR,
          { 'runId.$': '$.run.runId', 'actor.$': '$.run.actor' },
          '$.step',
          'Advance',
        ),
        Catch: CATCH_ALL_TO_RELEASE,
        Comment: 'Conditional repair of confirmed drift that loses to any CDC write meanwhile; audited',
      },
      Advance: {
        ...task(VerifyFunction.CONTROL, { op: 'advance', ...runPayload }, '$.advance', 'NextRound'),
        Catch: CATCH_ALL_TO_RELEASE,
        Comment: 'The next stage, from checkpoints and suspects in the control table; renews the lock',
      },
      ...nextRound({
        carry: { 'next.$': '$.advance.value' },
        runPath: '$.run',
        loopStart: 'StageChoice',
        continueWith: [
          'runId',
          'repair',
          'totalSegments',
          'maxConcurrency',
          'maxIterationsPerRound',
          'maxRoundsPerExecution',
          'actor',
        ],
      }),
      Report: {
        ...task(VerifyFunction.CONTROL, { op: 'report', ...runPayload }, '$.report', 'ReleaseLock'),
        Catch: CATCH_ALL_TO_RELEASE,
        Comment: 'VERIFY#<runId>: counts per class, checksums, samples, clean flag; metrics per class',
      },
      ReleaseLock: {
        ...task(VerifyFunction.CONTROL, { op: 'release', ...runPayload }, '$.released', 'Succeeded'),
        Catch: CATCH_ALL_TO_RELEASE,
      },
      Succeeded: { Type: 'Succeed', OutputPath: '$.report.value' },
      ...failedRun(
        'VerifyFailed',
        'FAILED report with the error, lock released; checkpoints stay, so a start with the runId resumes',
        (next) =>
          task(
            VerifyFunction.CONTROL,
            { op: 'fail', ...runPayload, 'error.$': '$.error' },
            '$.released',
            next,
          ),
      ),
    },
  };
}
