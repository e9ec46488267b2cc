/**
 * What the checker makes of `stream-trim` (local/faults/trim-operator.ts): a trimmed record the sync
 * handler never received counts as delivered when the recovery closed the gap, not earlier, so an `F`
 * that covered its write before that fails frontier-never-ahead; and the stream-gap check fails a run
 * whose gap never opened, was passed by an advance, or never closed ("never reports success without
 * that recovery").
 */
import { openGap } from '../../../core/frontier';
import { type Item, padSequence } from '../../../core/model';
import { usersMigration as m } from '../../../examples/users/migration';
import type { StreamGapOutcome } from '../../../local/faults/trim-operator';
import { streamGapCheck, trimmedUndelivered } from '../../../local/faults/trim-operator';
import type { TrimEvent } from '../../../local/faults/trim';
import { LegacyHistory, WriteOp } from '../../../local/history';
import { type FrontierSample, checkFrontier } from '../../../local/rehearsal/checker';

const key = (id: string): Item => ({ userId: { S: id } });
const trimmed = [
  { shardId: 's1', seq: padSequence('101'), keys: key('u-1') }, // delivered before the pause
  { shardId: 's1', seq: padSequence('102'), keys: key('u-2') }, // trimmed unread
];

/** u-1 written at 100 (delivered at 120); u-2 written at 1000..1010, its record trimmed unread. */
function frontierCheck(closedAt: number | undefined, frontiers: FrontierSample[]) {
  const history = new LegacyHistory(m.legacyTable.key);
  history.record({
    op: WriteOp.PUT,
    key: key('u-1'),
    after: { ...key('u-1'), v: { S: '1' } },
    startedAt: 100,
    ackedAt: 110,
  });
  history.record({
    op: WriteOp.PUT,
    key: key('u-2'),
    after: { ...key('u-2'), v: { S: '1' } },
    startedAt: 1000,
    ackedAt: 1010,
  });
  const undelivered = trimmedUndelivered(trimmed, new Set(['101']), closedAt);
  const deliveries = new Map<string, number[]>([[history.keyId(key('u-1')), [120]]]);
  for (const t of undelivered) deliveries.set(history.keyId(t.keys), t.at === undefined ? [] : [t.at]);
  return {
    undelivered,
    result: checkFrontier({
      migration: m,
      history,
      reads: [],
      streamEnabledAt: 50,
      deliveries,
      frontiers,
      legacyItems: [],
      newItems: [],
    }),
  };
}

const event: TrimEvent = {
  pausedAt: 0,
  trimmedAt: 4000,
  resumedAt: 8000,
  retentionMs: 4000,
  pauseMs: 8000,
  horizons: { s1: padSequence('102') },
  recordsAtOrBefore: 2,
  trimmedAnswers: 2,
  expiredAnswers: 2,
  trimHorizonMoves: 0,
};
const opened = openGap(undefined, ['s1'], 8500, 900, 900);
const recovered: StreamGapOutcome = {
  trim: event,
  opened,
  advanceRefused: true,
  recoveryRuns: [
    { runId: 'stream-gap-1', clean: false, repaired: 1 },
    { runId: 'stream-gap-2', clean: true, repaired: 0 },
  ],
  closedAt: 20_000,
  closedByRun: 'stream-gap-2',
};

describe('Function: trimmedUndelivered', () => {
  it('keeps only the trimmed records the sync handler never received, delivered at the closing', () => {
    const { undelivered } = frontierCheck(20_000, []);
    expect(undelivered).toEqual([{ seq: padSequence('102'), keys: key('u-2'), at: 20_000 }]);
  });

  it('fails frontier-never-ahead when F covered a trimmed write before the gap closed', () => {
    const { result } = frontierCheck(20_000, [{ at: 15_000, frontier: 1500 }]);
    expect(result.passed).toBe(false);
    expect(result.examples[0]).toMatch(/reached it only at 20000/);
  });

  it('passes when F covered it only after the gap closed', () => {
    expect(frontierCheck(20_000, [{ at: 20_500, frontier: 1500 }]).result.passed).toBe(true);
  });

  it('fails when F covered it and the gap never closed (the record never reached the sync handler)', () => {
    const { result } = frontierCheck(undefined, [{ at: 30_000, frontier: 1500 }]);
    expect(result.passed).toBe(false);
    expect(result.examples[0]).toMatch(/never reached the sync handler/);
  });
});

describe('Function: streamGapCheck', () => {
  it('passes a run whose gap opened, held an advance, and closed on a clean run', () => {
    expect(streamGapCheck(recovered, 1)).toMatchObject({ name: 'stream-gap-recovered', passed: true });
  });

  it.each<[string, StreamGapOutcome | undefined, RegExp]>([
    ['never injected', undefined, /never injected/],
    ['the gap never opened', { trim: event, recoveryRuns: [] }, /never opened a stream gap/],
    [
      'an advance not held by the gap',
      { ...recovered, advanceRefused: false },
      /not held by the stream-gap guardrail/,
    ],
    [
      'the gap never closed',
      {
        ...recovered,
        closedAt: undefined,
        closedByRun: undefined,
        failure: 'no clean verification in 4 recovery runs',
      },
      /never closed: no clean verification in 4 recovery runs/,
    ],
  ])('fails the run when %s', (_, outcome, message) => {
    const c = streamGapCheck(outcome, 1);
    expect(c.passed).toBe(false);
    expect(c.examples.join('\n')).toMatch(message);
  });
});
