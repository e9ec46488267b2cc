/**
 * The rehearsal's pinned-reads check (local/rehearsal/pinned-reads.ts): a read of a pinned key while
 * pinned passes only when legacy answered it; reads outside the window and of other keys are not judged.
 */
import { checkPinnedReads } from '../../../local/rehearsal/pinned-reads';

const pinned = { userId: { S: 'poison-0' } };
const other = { userId: { S: 'u-1' } };
const read = (key: typeof pinned, startedAt: number, servedBy: 'legacy' | 'new', status = 200) => ({
  key,
  startedAt,
  status,
  servedBy,
  reason: servedBy === 'legacy' ? 'PINNED_TO_LEGACY' : 'FRESH_BACKFILL_COMPLETE',
  phase: 'NEW_PRIMARY' as const,
});

describe('Function: checkPinnedReads', () => {
  it('passes when every read of a pinned key while pinned came from legacy, judging only those', () => {
    const r = checkPinnedReads({
      keys: [pinned],
      window: { from: 100, to: 200 },
      reads: [read(pinned, 150, 'legacy'), read(pinned, 250, 'new'), read(other, 150, 'new')],
      probes: [{ key: pinned, kind: 'batch-get', phase: 'NEW_PRIMARY', status: 200, servedBy: 'legacy' }],
    });
    expect(r).toMatchObject({ name: 'pinned-reads-from-legacy', passed: true, checked: 2, failures: 0 });
  });

  it('fails on a read of a pinned key from new, or unanswered, naming the key, phase and reason', () => {
    const r = checkPinnedReads({
      keys: [pinned],
      window: { from: 100, to: 200 },
      reads: [read(pinned, 120, 'new'), read(pinned, 130, 'legacy', 503)],
      probes: [
        {
          key: pinned,
          kind: 'query',
          phase: 'DUAL_READ',
          status: 200,
          servedBy: 'new',
          reason: 'FRESH_BACKFILL_COMPLETE',
        },
      ],
    });
    expect(r).toMatchObject({ passed: false, checked: 3, failures: 3 });
    expect(r.examples[0]).toMatch(
      /get of pinned key \{"userId":\{"S":"poison-0"\}\} in NEW_PRIMARY: 200 from new \(FRESH_BACKFILL_COMPLETE\)/,
    );
    expect(r.examples[2]).toMatch(/query of pinned key .* in DUAL_READ/);
  });
});
