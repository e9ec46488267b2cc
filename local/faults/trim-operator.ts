/**
 * The rehearsal's side of `stream-trim` (trim.ts): inject the pause and the trim, wait for the tracker
 * to open the stream gap, show that no phase advances while it is open, and run the documented recovery
 * (`dualread recover stream-gap`: verifications with repair, each started after the gap opened, until
 * one is clean; then the gap is closed, versioned and audited). Then what the checker needs: the trimmed
 * records count as delivered to the sync handler at the gap's closing, not earlier (they never reached
 * it: the recovery's repair is what applied them), and a check that fails the run when the gap did not
 * open, was passed by an advance, or was never closed.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { ControlStore } from '../../adapters/control-store';
import { closeStreamGap } from '../../adapters/stream-gap';
import type { StreamGap } from '../../core/control';
import { gapOpen } from '../../core/frontier';
import type { Item } from '../../core/model';
import type { VerifyReport } from '../../core/verify';
import type { CheckResult } from '../rehearsal/checker';
import type { SampledRecord, StreamTrim, TrimEvent } from './trim';

/** What happened to the gap, for the fault table and the check. */
export interface StreamGapOutcome {
  readonly trim: TrimEvent;
  /** The gap as the tracker opened it (undefined: never detected). */
  readonly opened?: StreamGap;
  /** An advance tried while the gap was open: refused (true) or let through (false). */
  readonly advanceRefused?: boolean;
  /** Recovery verifications, in order. */
  readonly recoveryRuns: ReadonlyArray<{
    readonly runId: string;
    readonly clean: boolean;
    readonly repaired: number;
  }>;
  /** When the gap closed and the run that closed it (undefined: never closed). */
  readonly closedAt?: number;
  readonly closedByRun?: string;
  /** Why the recovery stopped short, if it did. */
  readonly failure?: string;
}

/** What the rehearsal lends the recovery. */
export interface TrimHooks {
  readonly sampler: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly client: DynamoDBClient;
  readonly store: ControlStore;
  readonly actor: string;
  readonly clockSkewMs: number;
  /** One verification, with or without repair; its report. */
  readonly verify: (runId: string, repair: boolean) => Promise<VerifyReport>;
  /** Tries the next phase advance through the control plane: whether it moved, and if the gap held it. */
  readonly tryAdvance: () => Promise<{ readonly moved: boolean; readonly heldByGap: boolean }>;
  readonly log: (line: string) => void;
  /** How long to wait for the tracker to open the gap. @default 120000 */
  readonly detectWithinMs?: number;
  /** Recovery verifications before giving up. @default 6 */
  readonly maxRuns?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Pause, trim, detection, the refused advance, the recovery. Never throws for a failed recovery. */
export async function injectAndRecover(trim: StreamTrim, h: TrimHooks): Promise<StreamGapOutcome> {
  h.log(`stream-trim: consumer paused ${trim.pauseMs} ms past a ${trim.retentionMs} ms retention`);
  const event = await trim.inject(h.sampler, h.streamArn);
  h.log(
    `stream-trim: trimmed through ${JSON.stringify(event.horizons)} (${event.recordsAtOrBefore} records at or before); consumer resumed`,
  );
  const deadline = Date.now() + (h.detectWithinMs ?? 120_000);
  let opened: StreamGap | undefined;
  while (!opened && Date.now() < deadline) {
    const gap = (await h.store.getFrontier())?.gap;
    if (gapOpen(gap)) opened = gap;
    else await sleep(250);
  }
  const runs: Array<{ runId: string; clean: boolean; repaired: number }> = [];
  if (!opened) return { trim: event, recoveryRuns: runs, failure: 'the tracker never opened a stream gap' };
  h.log(
    `stream-trim: stream gap opened at ${new Date(opened.openedAt).toISOString()} on ${opened.shards.join(', ')}`,
  );
  const tried = await h.tryAdvance();
  const advanceRefused = !tried.moved && tried.heldByGap;
  // A recovery run must start after the gap opened, by more than the clock-skew margin.
  const wait = opened.openedAt + h.clockSkewMs + 1 - Date.now();
  if (wait > 0) await sleep(wait);
  for (let i = 1; i <= (h.maxRuns ?? 6); i++) {
    const report = await h.verify(`stream-gap-${i}`, true);
    runs.push({ runId: report.runId, clean: report.clean === true, repaired: report.repairs?.repaired ?? 0 });
    if (report.status !== 'COMPLETE' || report.clean !== true) continue;
    try {
      const closed = await closeStreamGap({
        client: h.client,
        store: h.store,
        run: { runId: report.runId, startedAt: report.startedAt, status: report.status, clean: true },
        actor: h.actor,
        now: Date.now,
        clockSkewMs: h.clockSkewMs,
      });
      h.log(`stream-trim: gap closed by clean verification ${report.runId}; F moves again`);
      return {
        trim: event,
        opened,
        advanceRefused,
        recoveryRuns: runs,
        ...(closed.gap?.closedAt === undefined ? {} : { closedAt: closed.gap.closedAt }),
        closedByRun: report.runId,
      };
    } catch (err) {
      return { trim: event, opened, advanceRefused, recoveryRuns: runs, failure: (err as Error).message };
    }
  }
  return {
    trim: event,
    opened,
    advanceRefused,
    recoveryRuns: runs,
    failure: `no clean verification in ${runs.length} recovery runs`,
  };
}

/**
 * The trimmed records the sync handler never received, with the time the checker takes them as
 * delivered: the gap's closing (the recovery applied them), or never (`undefined`) when it did not close.
 */
export function trimmedUndelivered(
  trimmed: readonly SampledRecord[],
  delivered: ReadonlySet<string>,
  closedAt: number | undefined,
): Array<{ readonly seq: string; readonly keys: Item; readonly at: number | undefined }> {
  return trimmed
    .filter((r) => !delivered.has(BigInt(r.seq).toString()))
    .map((r) => ({ seq: r.seq, keys: r.keys, at: closedAt }));
}

/** The `stream-gap-recovered` check: detected, no advance through it, closed by a clean run. */
export function streamGapCheck(outcome: StreamGapOutcome | undefined, undelivered: number): CheckResult {
  const problems: string[] = [];
  if (!outcome) problems.push('stream-trim was picked but never injected (the walk did not reach SHADOW)');
  else {
    if (!outcome.opened)
      problems.push(`${undelivered} records trimmed unread, and the tracker never opened a stream gap`);
    if (outcome.advanceRefused === false)
      problems.push(
        'a phase advance tried while the stream gap was open was not held by the stream-gap guardrail',
      );
    if (outcome.opened && outcome.closedAt === undefined)
      problems.push(`the stream gap was never closed: ${outcome.failure ?? 'no recovery ran'}`);
  }
  return {
    name: 'stream-gap-recovered',
    description:
      'records trimmed before the consumer read them opened a stream gap, no phase advanced through it, and a clean verification started after it closed it',
    passed: problems.length === 0,
    checked: 1,
    failures: problems.length ? 1 : 0,
    examples: problems,
  };
}
