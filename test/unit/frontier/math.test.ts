import {
  type FrontierConfig,
  type ShardInput,
  ShardStatus,
  computeFrontier,
  creationLowerBound,
  creationUpperBound,
  frontierLagSeconds,
  nextPublished,
  safeFrontier,
  shardCaughtUp,
} from '../../../core/frontier';

const config: FrontierConfig = { propagationMarginMs: 1000, creationGranularityMs: 1000 };
const open = (over: Partial<ShardInput> = {}): ShardInput => ({
  shardId: 's1',
  closed: false,
  readToEnd: false,
  caughtUpByProbe: 0,
  ...over,
});

describe('Function: creationLowerBound', () => {
  it.each([
    [12_345, 1000, 12_000, 13_000],
    [12_000, 1000, 12_000, 13_000],
    [125_999, 60_000, 120_000, 180_000],
  ])('floors %d to granularity %d', (approx, g, lower, upper) => {
    // Act / Assess
    expect(creationLowerBound(approx, g)).toBe(lower);
    expect(creationUpperBound(approx, g)).toBe(upper);
  });
});

describe('Function: shardCaughtUp', () => {
  it.each<[string, ShardInput, number]>([
    ['all-applied probe: the probe time (already minus margin)', open({ caughtUpByProbe: 9_000 }), 9_000],
    ['open shard never probed: nothing proven', open(), 0],
    ['empty closed shard read to its end: complete', open({ closed: true, readToEnd: true }), Infinity],
    ['closed but not read to its end: only the probe', open({ closed: true, caughtUpByProbe: 5_000 }), 5_000],
    [
      'first unapplied record: its floored creation time minus the margin',
      open({ firstUnappliedApproxMs: 12_345, caughtUpByProbe: 3_000 }),
      11_000,
    ],
    [
      'first unapplied record behind a later probe: the record caps it, whatever the probe said',
      open({ firstUnappliedApproxMs: 12_345, caughtUpByProbe: 30_000 }),
      11_000,
    ],
    [
      'applied prefix without a probe: its last record bound',
      open({ lastAppliedApproxMs: 12_345, caughtUpByProbe: 3_000 }),
      11_000,
    ],
    [
      'applied prefix and a later probe: the probe',
      open({ lastAppliedApproxMs: 12_345, caughtUpByProbe: 14_000 }),
      14_000,
    ],
    [
      'closed, read to its end, children not listed yet: still bounded like an open shard',
      open({ closed: true, readToEnd: true, awaitingChildren: true, lastAppliedApproxMs: 9_100 }),
      8_000,
    ],
    [
      'DLQd record on a closed, read shard: still held by it',
      open({ closed: true, readToEnd: true, firstUnappliedApproxMs: 7_500 }),
      6_000,
    ],
  ])('%s', (_name, shard, expected) => {
    // Act / Assess
    expect(shardCaughtUp(shard, config)).toBe(expected);
  });
});

describe('Function: computeFrontier', () => {
  it.each<[string, ShardInput[], number, number, string[]]>([
    ['no shards: the listing bound', [], 20_000, 19_000, []],
    ['one probed shard', [open({ caughtUpByProbe: 15_000 })], 20_000, 15_000, ['active']],
    [
      'split, parent still draining: the parent holds F, the child waits',
      [
        open({ shardId: 'p', closed: true, readToEnd: true, firstUnappliedApproxMs: 10_400 }),
        open({ shardId: 'c1', parentShardId: 'p', caughtUpByProbe: 18_000 }),
        open({ shardId: 'c2', parentShardId: 'p', firstUnappliedApproxMs: 16_000 }),
      ],
      20_000,
      9_000,
      ['active', 'waiting', 'waiting'],
    ],
    [
      'split, parent complete: the children constrain, the parent does not',
      [
        open({ shardId: 'p', closed: true, readToEnd: true }),
        open({ shardId: 'c1', parentShardId: 'p', caughtUpByProbe: 18_000 }),
        open({ shardId: 'c2', parentShardId: 'p', caughtUpByProbe: 17_000 }),
      ],
      20_000,
      17_000,
      ['complete', 'active', 'active'],
    ],
    [
      'new child just listed, not read yet: nothing proven for it',
      [open({ shardId: 'p', closed: true, readToEnd: true }), open({ shardId: 'c', parentShardId: 'p' })],
      20_000,
      0,
      ['complete', 'active'],
    ],
    [
      'parent closed and applied but no child listed yet: the parent still holds F',
      [open({ shardId: 'p', closed: true, readToEnd: true, awaitingChildren: true, caughtUpByProbe: 7_000 })],
      20_000,
      7_000,
      ['active'],
    ],
    [
      'parent unknown (trimmed): the child is a root',
      [open({ shardId: 'c', parentShardId: 'gone', caughtUpByProbe: 12_000 })],
      20_000,
      12_000,
      ['active'],
    ],
    [
      'probe newer than the listing: capped by the listing',
      [open({ caughtUpByProbe: 25_000 })],
      20_000,
      19_000,
      ['active'],
    ],
  ])('%s', (_name, shards, listedAt, expected, statuses) => {
    // Act
    const result = computeFrontier({ shards, listedAt }, config);

    // Assess
    expect(result.frontier).toBe(expected);
    expect(result.shards.map((s) => s.status)).toEqual(statuses);
  });

  it('marks a shard complete only when closed, read to the end and applied', () => {
    // Act
    const result = computeFrontier(
      { shards: [open({ closed: true, readToEnd: false, caughtUpByProbe: 1 })], listedAt: 10_000 },
      config,
    );

    // Assess
    expect(result.shards[0]?.status).toBe(ShardStatus.ACTIVE);
  });
});

describe('Function: nextPublished', () => {
  it.each<[string, number | undefined, number, boolean, number]>([
    ['first value, nothing proven: nothing published', undefined, 0, false, 0],
    ['first value', undefined, 5_000, true, 5_000],
    ['moves forward', 5_000, 6_000, true, 6_000],
    ['equal: no write', 5_000, 5_000, false, 5_000],
    ['computed lower (tracker restarted, new shard): keeps the published value', 5_000, 0, false, 5_000],
  ])('%s', (_name, previous, computed, publish, frontier) => {
    // Act / Assess
    expect(nextPublished(previous, computed)).toEqual({ publish, frontier });
  });
});

describe('Function: safeFrontier', () => {
  it.each([
    [10_000, 1000, 9_000],
    [0, 1000, 0],
    [500, 1000, 0],
  ])('F %d minus skew %d is %d', (f, skew, expected) => {
    // Act / Assess
    expect(safeFrontier(f, skew)).toBe(expected);
  });
});

describe('Function: frontierLagSeconds', () => {
  it('is now minus F in seconds, never negative', () => {
    // Act / Assess
    expect(frontierLagSeconds(7_000, 10_000)).toBe(3);
    expect(frontierLagSeconds(12_000, 10_000)).toBe(0);
  });
});
