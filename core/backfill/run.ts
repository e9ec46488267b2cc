/**
 * A backfill run's settings: what an operator gives when starting an execution (`BackfillStartInput`),
 * what the preflight resolves from it (`BackfillRun`, which the state machine carries as `$.run`), the
 * bounds that keep every execution's history under Step Functions' limit, and how a start or resume
 * is recorded in STATE.
 */
import {
  BackfillStatus,
  ForeignItems,
  type MigrationState,
  type RunSettings,
  type RunStartInput,
} from '../control';
import { BackfillInputError } from './errors';

/** The execution input an operator gives (every field optional). */
export interface BackfillStartInput extends RunStartInput {
  readonly reason?: string;
  /**
   * How to treat items of the new table dualread did not write (core/backfill/foreign.ts). Kept in
   * STATE for the run and its resumes. @default the run's earlier choice, else `refuse`
   */
  readonly foreignItems?: ForeignItems;
  /** Set by `ContinueAsNew` (and by Step Functions' console for child executions): a continuation, not a new start. */
  readonly AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID?: string;
}

/** The run's settings, resolved by `preflight`; the state machine carries them as `$.run`. */
export interface BackfillRun extends RunSettings {
  /** Segments still to copy, in order. */
  readonly segments: number[];
}

/**
 * Upper bounds that keep every execution far below Step Functions' 25,000-event history limit
 * (docs/backfill.md): a segment-loop iteration writes at most 18 events, a parent round 15.
 */
export const MAX_ITERATIONS_PER_ROUND = 1_200;
export const MAX_ROUNDS_PER_EXECUTION = 1_500;
/** The pending-segment list travels in the state (256 KiB payload limit): at most 10,000 segments. */
export const MAX_SEGMENTS = 10_000;

/** What a run takes when the input leaves a setting out. */
export interface RunDefaults {
  /** `migration.backfill.segments` */
  readonly totalSegments: number;
  readonly maxIterationsPerRound: number;
  readonly maxRoundsPerExecution: number;
}

function positiveInt(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new BackfillInputError(`${name} must be an integer from 1 to ${max}, not ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The run's settings from the operator's input (the run id defaults to the execution's name).
 *
 * @throws BackfillInputError for a run id or a bound out of range
 */
export function resolveRun(
  input: BackfillStartInput,
  executionName: string,
  defaults: RunDefaults,
): Omit<BackfillRun, 'segments'> {
  const runId = input.runId ?? executionName;
  if (typeof runId !== 'string' || !/^[A-Za-z0-9_.:-]{1,80}$/.test(runId)) {
    throw new BackfillInputError(
      `runId must be 1-80 letters, digits or _.:- characters, not ${JSON.stringify(runId)}`,
    );
  }
  const totalSegments = positiveInt(
    'totalSegments',
    input.totalSegments,
    defaults.totalSegments,
    MAX_SEGMENTS,
  );
  const maxConcurrency = positiveInt('maxConcurrency', input.maxConcurrency, totalSegments, 10_000);
  const maxIterationsPerRound = positiveInt(
    'maxIterationsPerRound',
    input.maxIterationsPerRound,
    defaults.maxIterationsPerRound,
    MAX_ITERATIONS_PER_ROUND,
  );
  const maxRoundsPerExecution = positiveInt(
    'maxRoundsPerExecution',
    input.maxRoundsPerExecution,
    defaults.maxRoundsPerExecution,
    MAX_ROUNDS_PER_EXECUTION,
  );
  const actor = input.actor ?? `backfill:${runId}`;
  return { runId, totalSegments, maxConcurrency, maxIterationsPerRound, maxRoundsPerExecution, actor };
}

/** Whether the execution continues a run as a new execution (`ContinueAsNew`), not a new start. */
export function isContinuation(input: BackfillStartInput): boolean {
  return input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID !== undefined;
}

/**
 * Whether the preflight searches the new table for items dualread did not write: only a fresh start
 * under `refuse`. A resume does not scan the half-copied table again (a write that meets one refuses
 * it as poison).
 */
export function needsForeignCheck(
  foreignItems: ForeignItems,
  checkpoints: number,
  continuation: boolean,
): boolean {
  return foreignItems === ForeignItems.REFUSE && checkpoints === 0 && !continuation;
}

/**
 * STATE's backfill once a run starts or resumes (after a crash or a failure): RUNNING under this run
 * and its foreign-item policy. Undefined for the continuation of the running run as a new execution,
 * which changes nothing.
 */
export function startedBackfill(
  current: MigrationState['backfill'],
  run: { readonly runId: string; readonly foreignItems: ForeignItems; readonly continuation: boolean },
  now: number,
): MigrationState['backfill'] | undefined {
  if (run.continuation && current.status === BackfillStatus.RUNNING && current.runId === run.runId)
    return undefined;
  return {
    ...current,
    status: BackfillStatus.RUNNING,
    startedAt: current.startedAt ?? now,
    runId: run.runId,
    foreignItems: run.foreignItems,
  };
}
