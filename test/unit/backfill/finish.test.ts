import {
  type BackfillTotals,
  BackfillStatus,
  backfillWithTotals,
  completedBackfill,
  completionAudit,
  failureText,
} from '../../../core';

const t: BackfillTotals = {
  scanned: 10,
  copied: 6,
  skippedExists: 2,
  poison: 1,
  keptForeign: 1,
  segmentsDone: 2,
  segments: 2,
};

describe('Function: backfillWithTotals', () => {
  it("records the run's totals and status, keeping the rest", () => {
    expect(
      backfillWithTotals({ status: BackfillStatus.RUNNING, startedAt: 1 }, BackfillStatus.FAILED, 'r', t),
    ).toEqual({
      status: BackfillStatus.FAILED,
      startedAt: 1,
      runId: 'r',
      copied: 6,
      skipped: 2,
      poison: 1,
      keptForeign: 1,
    });
  });
});

describe('Function: completedBackfill', () => {
  it.each([
    [0, BackfillStatus.COMPLETE],
    [2, BackfillStatus.COMPLETE_WITH_POISON],
  ])('is complete with %d unresolved keys as %s', (unresolved, status) => {
    expect(completedBackfill({ status: BackfillStatus.RUNNING }, 'r', t, unresolved, 50)).toMatchObject({
      status,
      completedAt: 50,
      unresolved,
      copied: 6,
    });
  });
});

describe('Function: completionAudit', () => {
  it('names the counts, and what to do with unresolved keys', () => {
    expect(completionAudit(t, 0)).toEqual({
      action: 'backfill-complete',
      reason:
        'all 2 segments scanned: 6 copied, 2 already present, 1 poison, 1 kept foreign; 0 keys unresolved',
    });
    expect(completionAudit(t, 1)).toMatchObject({
      action: 'backfill-complete-with-poison',
      reason: expect.stringMatching(/1 keys unresolved \(retry them after a fix, or waive them/),
    });
  });
});

describe('Function: failureText', () => {
  it("states the Map's error and the start of its cause", () => {
    expect(failureText({ Error: 'States.TaskFailed', Cause: 'x'.repeat(600) })).toBe(
      `States.TaskFailed: ${'x'.repeat(500)}`,
    );
    expect(failureText(undefined)).toBe('unknown error: ');
  });
});
