/**
 * The backfill state machine: ONE definition, used by CDK (task placeholders substituted with the
 * functions' ARNs through `definitionSubstitutions`) and by local mode (`local/backfill.ts` binds
 * every Task to the real handler with `local/state-machine-runner.ts`).
 *
 * Shape (docs/backfill.md has the history arithmetic; the segment loop, the Map and continue-as-new are
 * built by stepfunctions/segment-run.ts, which the verification shares):
 *
 *   Preflight ─▶ PrepareRound ─▶ CopySegments (Distributed Map, one child execution per segment)
 *        │                           │   per segment:  ReadControls ─▶ ControlsChoice
 *        │                           │     done ─▶ SegmentDone        paused ─▶ WaitWhilePaused ─┐
 *        │                           │     wait>0 ─▶ WaitForRateLimit ─┐                           │
 *        │                           │     else ─▶ CopyPages ─▶ PagesChoice (done ─▶ SegmentDone)   │
 *        │                           │                 ◀── NextIteration ◀──────────────────────────┘
 *        │                           │     after maxIterationsPerRound iterations ─▶ SegmentYield
 *        │                           ▼
 *        │                      FinishRound ─▶ complete? ─▶ Succeeded
 *        │                           │ no: NextRound ─▶ rounds < maxRoundsPerExecution ─▶ CopySegments
 *        │                           │                  else ─▶ ContinueAsNew (same runId) ─▶ ContinuedAsNew
 *        │                      (Map fails) ─▶ ReleaseOnFailure ─▶ BackfillFailed
 *        └─ (preflight refuses: lock held, CDC not consuming, ...) ─▶ execution fails with that error
 *
 * JSONPath only; no JSONata, no Assign, no falsy Pass Result, no $$.State.RetryCount (what the local
 * interpreter does not run faithfully: docs/backfill.md).
 */
import { type AslMachine, dynamoTransient } from './asl';
import { CONTINUE_AS_NEW, nextRound, segmentLoop, segmentMap } from './segment-run';
import { failedRun, segmentWorkerRetry, workflowTask } from './workflow-tasks';

const DYNAMO_TRANSIENT_RETRY = dynamoTransient();

/** Placeholders of the function ARNs, substituted by CDK and bound to handlers locally. */
export const BackfillFunction = {
  PREFLIGHT: 'BackfillPreflightFunctionArn',
  CONTROLS: 'BackfillControlsFunctionArn',
  PAGE: 'BackfillPageFunctionArn',
  FINISH: 'BackfillFinishFunctionArn',
} as const;
export type BackfillFunction = (typeof BackfillFunction)[keyof typeof BackfillFunction];

/** Task state names, and which function each invokes (local mode binds by state name). */
export const BackfillTask = {
  Preflight: BackfillFunction.PREFLIGHT,
  ReadControls: BackfillFunction.CONTROLS,
  CopyPages: BackfillFunction.PAGE,
  FinishRound: BackfillFunction.FINISH,
  ReleaseOnFailure: BackfillFunction.FINISH,
} as const;

/** The Task that continues a long backfill as a new execution. */
export const CONTINUE_AS_NEW_STATE = CONTINUE_AS_NEW;

/** Wait states (local tests shorten them with `waitTimeOverrides`). */
export const BackfillWait = { PAUSED: 'WaitWhilePaused', RATE: 'WaitForRateLimit' } as const;

/** A Lambda task of this definition (retries of transient Lambda and DynamoDB faults by default). */
const task = workflowTask<BackfillFunction>(DYNAMO_TRANSIENT_RETRY);

/** The per-segment loop, run once per pending segment by the Map (a child execution in AWS). */
const copyLoop: AslMachine['States'] = segmentLoop(
  {
    readControls: 'ReadControls',
    controlsChoice: 'ControlsChoice',
    paused: BackfillWait.PAUSED,
    rate: BackfillWait.RATE,
    work: 'CopyPages',
    pagesChoice: 'PagesChoice',
    nextIteration: 'NextIteration',
    iterationChoice: 'IterationChoice',
    segmentYield: 'SegmentYield',
    segmentDone: 'SegmentDone',
  },
  {
    readControls: {
      ...task(
        BackfillFunction.CONTROLS,
        { 'runId.$': '$.runId', 'segment.$': '$.segment', 'totalSegments.$': '$.totalSegments' },
        '$.controls',
        'ControlsChoice',
      ),
      Comment: 'Operator controls (pause, rate) and whether the segment is already done',
    },
    work: {
      ...task(
        BackfillFunction.PAGE,
        { 'runId.$': '$.runId', 'segment.$': '$.segment', 'totalSegments.$': '$.totalSegments' },
        '$.page',
        'PagesChoice',
        // Another runner advanced this checkpoint (e.g. the Lambda of an aborted execution still
        // finishing): re-read it after a pause and carry on from where that runner got.
        segmentWorkerRetry('CheckpointConflictError', DYNAMO_TRANSIENT_RETRY),
      ),
      Comment: 'Page worker: copies pages of the segment for a bounded time, advancing its checkpoint',
    },
    comments: {
      paused: 'Paused by the operator: re-check the controls after the poll interval',
      rate: 'Rate limit: the segment read its share; wait until its next page may start',
      segmentYield:
        'Iteration budget of this round used up: the next round (or execution) continues from the checkpoint',
    },
  },
);

/** Payload of `finish`. */
function finishPayload(mode: 'round' | 'failed') {
  return {
    'runId.$': '$.run.value.runId',
    'totalSegments.$': '$.run.value.totalSegments',
    'actor.$': '$.run.value.actor',
    'executionId.$': '$$.Execution.Id',
    mode,
    ...(mode === 'failed' ? { 'error.$': '$.error' } : {}),
  };
}

/** Builds the backfill definition. Pure: the same object for CDK and local mode. */
export function backfillDefinition(): AslMachine {
  return {
    Comment:
      'dualread backfill: preflight, then a Distributed Map over scan segments, each a bounded loop of ' +
      'controls check + page worker; rounds until every segment is done; continues as a new execution ' +
      'to keep every history far below 25,000 events',
    StartAt: 'Preflight',
    States: {
      Preflight: {
        ...task(
          BackfillFunction.PREFLIGHT,
          { 'input.$': '$', 'executionId.$': '$$.Execution.Id', 'executionName.$': '$$.Execution.Name' },
          '$.run',
          'PrepareRound',
        ),
        Comment:
          'CDC consuming from TRIM_HORIZON, new table exists, backfill lock, start recorded; no Catch: ' +
          'a refusal fails the execution with its named error and leaves the lock with its owner',
      },
      PrepareRound: {
        Type: 'Pass',
        Parameters: { 'run.$': '$.run', 'segments.$': '$.run.value.segments', counter: { round: 0 } },
        Next: 'CopySegments',
      },
      // The results are not needed (FinishRound reads the checkpoints), and a Distributed Map's
      // output must fit the 256 KiB payload limit: discard them.
      CopySegments: segmentMap({
        label: 'CopySegments',
        itemsPath: '$.segments',
        runPath: '$.run.value',
        startAt: 'ReadControls',
        states: copyLoop,
        resultPath: null,
        next: 'FinishRound',
      }),
      FinishRound: {
        ...task(BackfillFunction.FINISH, finishPayload('round'), '$.finish', 'FinishChoice'),
        Comment:
          'All segments done: STATE COMPLETE with counts and audit, lock released; else pending segments',
      },
      FinishChoice: {
        Type: 'Choice',
        Choices: [{ Variable: '$.finish.value.complete', BooleanEquals: true, Next: 'Succeeded' }],
        Default: 'NextRound',
      },
      ...nextRound({
        carry: { 'segments.$': '$.finish.value.segments' },
        runPath: '$.run.value',
        loopStart: 'CopySegments',
        continueWith: [
          'runId',
          'totalSegments',
          'maxConcurrency',
          'maxIterationsPerRound',
          'maxRoundsPerExecution',
          'actor',
        ],
      }),
      ...failedRun(
        'BackfillFailed',
        'Records FAILED with audit and releases the lock; checkpoints stay, so a new start resumes',
        (next) => task(BackfillFunction.FINISH, finishPayload('failed'), '$.released', next),
      ),
      Succeeded: { Type: 'Succeed' },
    },
  };
}
