/**
 * A backfill or verification run whose worker the fault layer kills (`kill-backfill`, `kill-verify`):
 * when the run fails because its worker died mid-page, the operator's answer (docs/runbook.md, "Resume")
 * is to start the run again with the same run id. This module does that, and judges the resume from
 * the checkpoints: the positions read after the dead worker's in-flight calls ended, against the first
 * Scan of each segment the restarted run sent. A run that resumed where it stopped scans no segment that
 * was done, and starts every other segment at its checkpoint's `lastEvaluatedKey` (not from zero).
 */
import type { DynamoEndpoint } from '../../adapters/dynamodb';
import type { Json } from '../../stepfunctions/asl';
import type { LocalChain } from '../state-machine-runner';
import { type KillableProcess, stableJson } from './processes';

/** A segment's checkpoint, as the resume is judged by it. */
export interface SegmentPosition {
  /** `segment 3`, `legacy segment 3`: which checkpoint. */
  readonly label: string;
  /** The table the segment scans, when one checkpoint is one table's segment (backfill). */
  readonly table?: string;
  readonly segment: number;
  readonly done: boolean;
  readonly pages: number;
  readonly scanned: number;
  /** Where the next page starts (stable JSON of the checkpoint's `lastEvaluatedKey`); null at the start. */
  readonly next: string | null;
}

/** A run restarted after its worker was killed, and whether it resumed where it stopped. */
export interface KillResume {
  readonly process: string;
  /** The incarnation that was killed (1 = the first worker). */
  readonly killed: number;
  readonly atKill: readonly SegmentPosition[];
  /** The first Scan of each segment by the restarted run (stable JSON start key; null = from the start). */
  readonly atResume: ReadonlyArray<{ table: string; segment: number; startKey: string | null }>;
  readonly resumedWhereStopped: boolean;
  /** What did not resume where it stopped (empty when `resumedWhereStopped`). */
  readonly problems: readonly string[];
}

/** A segment checkpoint's fields the position needs (backfill and verification checkpoints have them). */
export interface CheckpointLike {
  readonly segment: number;
  readonly done: boolean;
  readonly pages: number;
  readonly scanned: number;
  readonly lastEvaluatedKey?: unknown;
}

/** The position of a checkpoint of a segment of `table`. */
export function positionOf(label: string, table: string | undefined, c: CheckpointLike): SegmentPosition {
  return {
    label: `${label}${c.segment}`,
    ...(table ? { table } : {}),
    segment: c.segment,
    done: c.done,
    pages: c.pages,
    scanned: c.scanned,
    next: c.lastEvaluatedKey === undefined ? null : stableJson(c.lastEvaluatedKey),
  };
}

/** Options of `restartingRun`. */
export interface RestartingRunOptions {
  /** The killable worker (`kill-backfill` / `kill-verify`); without it the run is started once. */
  readonly process: KillableProcess | undefined;
  readonly base: DynamoEndpoint;
  /** Starts the run (same run id every time) with its workers on `endpoint`. */
  start(endpoint: DynamoEndpoint, attempt: number): LocalChain;
  /** The run's segment checkpoints, read with the harness's own client. */
  positions(): Promise<SegmentPosition[]>;
  onResume?(r: KillResume): void;
  log?(line: string): void;
  /**
   * A run that failed without a kill, for a cause that passes on its own (the backfill's preflight
   * refusing while CDC retries a batch the killed sync left): waits until it has passed and answers
   * true, and the run is started again on the same incarnation, as an operator would once CDC is
   * healthy; false (or absent): the failure is the run's. At most `MAX_WAITED_REFUSALS` per incarnation.
   */
  waitOut?(error: unknown): Promise<boolean>;
}

/** Refusals `waitOut` may wait out per incarnation before one counts as the run's failure. */
export const MAX_WAITED_REFUSALS = 3;

/**
 * Runs to the end, restarting the run each time its worker was killed; the result is the last run's.
 * A failure that is not a kill is the run's failure, as without faults.
 */
export function restartingRun(o: RestartingRunOptions): Pick<LocalChain, 'result' | 'settled'> {
  let chain: LocalChain | undefined;
  /** Resumes to judge once the last run ended (the restarted runs' first Scans are then known). */
  const resumes: Array<() => KillResume> = [];
  const result = (async (): Promise<Json> => {
    for (let attempt = 1; ; attempt++) {
      const life = o.process?.incarnation(o.base);
      let outcome: { value: Json } | { error: unknown };
      for (let refusals = 0; ; refusals++) {
        chain = o.start(life?.endpoint ?? o.base, attempt);
        outcome = await chain.result.then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
        const passing =
          'error' in outcome &&
          !life?.dead &&
          refusals < MAX_WAITED_REFUSALS &&
          o.waitOut !== undefined &&
          (await o.waitOut(outcome.error));
        if (!passing) break;
        await chain.settled();
      }
      if (!life?.dead || !o.process) {
        for (const judge of resumes) o.onResume?.(judge());
        if ('error' in outcome) throw outcome.error;
        return outcome.value;
      }
      // The worker died mid-page: the execution is over; its calls in flight end; then restart.
      chain.abort();
      await chain.settled();
      const atKill = await o.positions();
      const process = o.process;
      const killed = life.number;
      o.log?.(
        `${process.name} worker killed (incarnation ${killed}); restarting the run from its checkpoints: ` +
          atKill.map((p) => `${p.segment}:${p.done ? 'done' : `${p.scanned} scanned`}`).join(', '),
      );
      process.restarted();
      resumes.push(() => judgeResume(process, killed, atKill));
    }
  })();
  return { result, settled: async () => chain?.settled() };
}

/** Did the incarnation after `killed` go on with each segment where the checkpoints at the kill said? */
export function judgeResume(
  process: KillableProcess,
  killed: number,
  atKill: readonly SegmentPosition[],
): KillResume {
  const restart = process.scans.filter((s) => s.incarnation === killed + 1);
  const first = new Map<string, { table: string; segment: number; startKey: string | null }>();
  for (const s of restart) {
    const id = `${s.table}#${s.segment}`;
    if (!first.has(id)) first.set(id, { table: s.table, segment: s.segment, startKey: s.startKey });
  }
  const problems: string[] = [];
  for (const p of atKill) {
    const mine = restart.filter((s) => s.segment === p.segment && (!p.table || s.table === p.table));
    // A segment done at the kill is not scanned again (judged where a segment is one table's: backfill).
    if (p.done && p.table && mine.length)
      problems.push(`${p.label} was done at the kill but the restarted run scanned it again`);
    // A segment part-way at the kill goes on from its checkpoint's key, not from the start.
    if (!p.done && p.next !== null && !mine.some((s) => s.startKey === p.next))
      problems.push(
        `${p.label} had a checkpoint at ${p.next} but the restarted run started it at ` +
          `${mine.map((s) => s.startKey ?? 'the start').join(', ') || 'no scan'}`,
      );
  }
  if (!atKill.some((p) => p.scanned > 0))
    problems.push(
      'nothing was checkpointed before the kill: the resume cannot be told from a restart at zero',
    );
  return {
    process: process.name,
    killed,
    atKill,
    atResume: [...first.values()],
    resumedWhereStopped: problems.length === 0,
    problems,
  };
}
