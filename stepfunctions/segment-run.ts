/**
 * The shape the backfill and the verification state machines share (docs/backfill.md has the history
 * arithmetic): a Distributed Map over scan segments whose item processor is a bounded loop per segment
 * (read the controls ─▶ pause or rate Wait, or the worker ─▶ next iteration, until the segment is done or
 * the round's iterations are used up), a parent that continues as a new execution of the same run, and
 * the catch-all that releases the run on any failure. Each definition names its own states and tasks.
 */
import {
  type AslCatcher,
  type AslFail,
  type AslMap,
  type AslState,
  type AslTask,
  type Json,
  START_EXECUTION,
} from './asl';

/** State names of one segment loop (unique across a machine, Map bodies included). */
export interface SegmentLoopStates {
  readonly readControls: string;
  readonly controlsChoice: string;
  readonly paused: string;
  readonly rate: string;
  /** The worker Task (backfill: copies pages; verification: scans a pass). */
  readonly work: string;
  readonly pagesChoice: string;
  readonly nextIteration: string;
  readonly iterationChoice: string;
  readonly segmentYield: string;
  readonly segmentDone: string;
}

/** The two Tasks of a segment loop and the comments of its other states. */
export interface SegmentLoopParts {
  /** Reads pause, rate and whether the segment is done into `$.controls`; next: `controlsChoice`. */
  readonly readControls: AslTask;
  /** Works on the segment for a bounded time into `$.page`; next: `pagesChoice`. */
  readonly work: AslTask;
  readonly comments?: { readonly paused?: string; readonly rate?: string; readonly segmentYield?: string };
}

const withComment = <T extends object>(state: T, comment: string | undefined): T =>
  comment === undefined ? state : { ...state, Comment: comment };

/** The per-segment loop, run once per pending segment by the Map (a child execution in AWS). */
export function segmentLoop(n: SegmentLoopStates, parts: SegmentLoopParts): Record<string, AslState> {
  const c = parts.comments ?? {};
  return {
    [n.readControls]: parts.readControls,
    [n.controlsChoice]: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.controls.value.done', BooleanEquals: true, Next: n.segmentDone },
        { Variable: '$.controls.value.paused', BooleanEquals: true, Next: n.paused },
        { Variable: '$.controls.value.waitSeconds', NumericGreaterThan: 0, Next: n.rate },
      ],
      Default: n.work,
    },
    [n.paused]: withComment(
      { Type: 'Wait', SecondsPath: '$.controls.value.waitSeconds', Next: n.nextIteration },
      c.paused,
    ),
    [n.rate]: withComment(
      { Type: 'Wait', SecondsPath: '$.controls.value.waitSeconds', Next: n.nextIteration },
      c.rate,
    ),
    [n.work]: parts.work,
    [n.pagesChoice]: {
      Type: 'Choice',
      Choices: [{ Variable: '$.page.value.done', BooleanEquals: true, Next: n.segmentDone }],
      Default: n.nextIteration,
    },
    [n.nextIteration]: {
      Type: 'Pass',
      Parameters: { 'iteration.$': 'States.MathAdd($.loop.iteration, 1)' },
      ResultPath: '$.loop',
      Next: n.iterationChoice,
    },
    [n.iterationChoice]: {
      Type: 'Choice',
      Choices: [
        {
          Variable: '$.loop.iteration',
          NumericGreaterThanEqualsPath: '$.maxIterations',
          Next: n.segmentYield,
        },
      ],
      Default: n.readControls,
    },
    [n.segmentYield]: withComment(
      { Type: 'Pass', Parameters: { 'segment.$': '$.segment', done: false }, End: true },
      c.segmentYield,
    ),
    [n.segmentDone]: { Type: 'Pass', Parameters: { 'segment.$': '$.segment', done: true }, End: true },
  };
}

/** The state every failure after the preflight goes to: it records the failure and releases the run. */
export const RELEASE_ON_FAILURE = 'ReleaseOnFailure';

/** Catches every error into `$.error` and goes to `ReleaseOnFailure`. */
export const CATCH_ALL_TO_RELEASE: readonly AslCatcher[] = [
  { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: RELEASE_ON_FAILURE },
];

/** The execution's final failure, with the error and cause `ReleaseOnFailure` was given. */
export const FAIL_WITH_CAUGHT_ERROR: AslFail = {
  Type: 'Fail',
  ErrorPath: '$.error.Error',
  CausePath: '$.error.Cause',
};

/** The Distributed Map over the pending segments of a round (one child execution per segment). */
export function segmentMap(m: {
  readonly label: string;
  /** Where the pending segment numbers are. */
  readonly itemsPath: string;
  /** Where the run's settings are (runId, totalSegments, maxConcurrency, maxIterationsPerRound). */
  readonly runPath: string;
  /** More input of each segment's loop (after its segment number). */
  readonly item?: { readonly [key: string]: Json };
  readonly startAt: string;
  readonly states: Record<string, AslState>;
  readonly resultPath: string | null;
  readonly next: string;
}): AslMap {
  return {
    Type: 'Map',
    Label: m.label,
    ItemsPath: m.itemsPath,
    MaxConcurrencyPath: `${m.runPath}.maxConcurrency`,
    ItemSelector: {
      'segment.$': '$$.Map.Item.Value',
      ...m.item,
      'totalSegments.$': `${m.runPath}.totalSegments`,
      'runId.$': `${m.runPath}.runId`,
      'maxIterations.$': `${m.runPath}.maxIterationsPerRound`,
      loop: { iteration: 0 },
    },
    ItemProcessor: {
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
      StartAt: m.startAt,
      States: m.states,
    },
    ResultPath: m.resultPath,
    Catch: CATCH_ALL_TO_RELEASE,
    Next: m.next,
  };
}

/** The Task that continues a long run as a new execution of the same state machine. */
export const CONTINUE_AS_NEW = 'ContinueAsNew';

/**
 * The end of a parent round: `NextRound` counts it (carrying the run, and `carry`: what the next round
 * needs); at the run's `maxRoundsPerExecution` (read from `runPath`) the run continues as a new execution
 * (`ContinueAsNew`, with the run's `continueWith` fields as its input, then `ContinuedAsNew`); else
 * the next round starts at `loopStart`.
 */
export function nextRound(r: {
  readonly carry: { readonly [key: string]: string };
  readonly runPath: string;
  readonly loopStart: string;
  readonly continueWith: readonly string[];
}): Record<string, AslState> {
  return {
    NextRound: {
      Type: 'Pass',
      Parameters: {
        'run.$': '$.run',
        ...r.carry,
        counter: { 'round.$': 'States.MathAdd($.counter.round, 1)' },
      },
      Next: 'RoundChoice',
    },
    RoundChoice: {
      Type: 'Choice',
      Choices: [
        {
          Variable: '$.counter.round',
          NumericGreaterThanEqualsPath: `${r.runPath}.maxRoundsPerExecution`,
          Next: CONTINUE_AS_NEW,
        },
      ],
      Default: r.loopStart,
    },
    [CONTINUE_AS_NEW]: {
      Type: 'Task',
      Resource: START_EXECUTION,
      Parameters: {
        'StateMachineArn.$': '$$.StateMachine.Id',
        Input: {
          ...Object.fromEntries(r.continueWith.map((f) => [`${f}.$`, `${r.runPath}.${f}`])),
          'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
        },
      },
      ResultSelector: { 'executionArn.$': '$.ExecutionArn' },
      ResultPath: '$.continuedAs',
      Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 5, BackoffRate: 2 }],
      Catch: CATCH_ALL_TO_RELEASE,
      Next: 'ContinuedAsNew',
      Comment:
        'History bound reached: the same run continues in a new execution (the lock is re-taken by runId)',
    },
    ContinuedAsNew: { Type: 'Succeed' },
  };
}
