/**
 * Checks of a run's start input that the backfill and verification share (`runId`, the segment and
 * round bounds). Each caller passes its own input error class, whose name the execution fails with.
 */

/** What an operator may give when starting a backfill or a verification (every field optional). */
export interface RunStartInput {
  /** Run id (the lock owner); re-use it to resume a run. @default the execution name */
  readonly runId?: string;
  /** Parallel Scan segments (per side, for verification). @default migration.backfill.segments */
  readonly totalSegments?: number;
  /** Segments worked on at the same time. @default totalSegments */
  readonly maxConcurrency?: number;
  /** Loop iterations of a segment per Map round (bounds each child execution's history). */
  readonly maxIterationsPerRound?: number;
  /** Map rounds per execution before it continues as a new execution (bounds the parent's history). */
  readonly maxRoundsPerExecution?: number;
  /** Who started it (audit). @default `backfill:<runId>` or `verify:<runId>` */
  readonly actor?: string;
}

/** The resolved `RunStartInput`: what the state machine carries as `$.run` (with each run's own fields). */
export type RunSettings = Required<RunStartInput>;

/** The error class a caller names invalid input with (e.g. `BackfillInputError`, `VerifyInputError`). */
export type InputErrorClass = new (message: string) => Error;

/**
 * The run id, checked: 1-80 letters, digits or `_.:-` (it is part of control-table sort keys and of
 * execution names).
 *
 * @throws `InputError` otherwise
 */
export function checkRunId(runId: unknown, InputError: InputErrorClass): string {
  if (typeof runId !== 'string' || !/^[A-Za-z0-9_.:-]{1,80}$/.test(runId))
    throw new InputError(
      `runId must be 1-80 letters, digits or _.:- characters, not ${JSON.stringify(runId)}`,
    );
  return runId;
}

/**
 * An optional integer setting from 1 to `max`: `fallback` when absent (undefined or null).
 *
 * @throws `InputError` when present and not such an integer
 */
export function positiveIntInput(
  name: string,
  value: unknown,
  fallback: number,
  max: number,
  InputError: InputErrorClass,
): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max)
    throw new InputError(`${name} must be an integer from 1 to ${max}, not ${JSON.stringify(value)}`);
  return value;
}

/** The segment a step of a run works on (the payload of the backfill's and verification's segment steps). */
export interface SegmentRef {
  readonly runId: string;
  readonly segment: number;
  readonly totalSegments: number;
}

/**
 * True when a step's payload (as Step Functions passed it: any JSON) names a run and a segment:
 * `runId` a string, `segment` and `totalSegments` integers with `0 <= segment < totalSegments`.
 */
export function isSegmentRef(p: SegmentRef | null | undefined): boolean {
  if (!p) return false;
  return (
    typeof p.runId === 'string' &&
    Number.isInteger(p.segment) &&
    Number.isInteger(p.totalSegments) &&
    p.segment >= 0 &&
    p.segment < p.totalSegments
  );
}
