/**
 * The rehearsal's invariant checker judges recorded history: a clean run passes every check, and each
 * planted violation (a stale read, a lost write, a resurrected item, a frontier ahead of an unapplied
 * write, a 5xx) fails the check it breaks, naming the key and the history excerpt.
 */
import { Phase } from '../../../core/control';
import { type Item, metadataNames } from '../../../core/model';
import { usersMigration as m } from '../../../examples/users/migration';
import { LegacyHistory, WriteOp } from '../../../local/history';
import {
  type CheckInput,
  type ReadRecord,
  ReadMode,
  checkInvariants,
} from '../../../local/rehearsal/checker';

const names = metadataNames();
const key = (id: string): Item => ({ userId: { S: id } });
const user = (id: string, v: string): Item => ({ userId: { S: id }, v: { S: v } });
const inNew = (item: Item, seq: string): Item => ({ ...m.mapItem(item), [names.seq]: { S: seq } });

/**
 * u-1: seeded (t=0..10, before the stream), updated to v2 at t=1000..1010 (record delivered at 1020);
 * u-2: seeded, deleted at t=2000..2010 (record delivered at 2030). A frontier of 1500 published at 1100,
 * 2500 at 2100. Reads: a bounded read of u-1 served by new at 3000 (v2), a strong read of u-2 (absent).
 */
function cleanRun(): CheckInput & { history: LegacyHistory } {
  const history = new LegacyHistory(m.legacyTable.key);
  history.record({ op: WriteOp.PUT, key: key('u-1'), after: user('u-1', 'v1'), startedAt: 0, ackedAt: 10 });
  history.record({ op: WriteOp.PUT, key: key('u-2'), after: user('u-2', 'v1'), startedAt: 0, ackedAt: 10 });
  history.record({
    op: WriteOp.UPDATE,
    key: key('u-1'),
    after: user('u-1', 'v2'),
    startedAt: 1000,
    ackedAt: 1010,
  });
  history.record({ op: WriteOp.DELETE, key: key('u-2'), after: undefined, startedAt: 2000, ackedAt: 2010 });
  const reads: ReadRecord[] = [
    {
      key: key('u-1'),
      mode: ReadMode.BOUNDED,
      phase: Phase.DUAL_READ,
      startedAt: 3000,
      endedAt: 3005,
      status: 200,
      servedBy: 'new',
      stalenessBoundMs: 1500,
      observed: user('u-1', 'v2'),
    },
    {
      key: key('u-2'),
      mode: ReadMode.STRONG,
      phase: Phase.DUAL_READ,
      startedAt: 3000,
      endedAt: 3005,
      status: 404,
      servedBy: 'legacy',
      stalenessBoundMs: 0,
    },
  ];
  return {
    migration: m,
    history,
    reads,
    streamEnabledAt: 500,
    deliveries: new Map([
      [history.keyId(key('u-1')), [1020]],
      [history.keyId(key('u-2')), [2030]],
    ]),
    frontiers: [
      { at: 1100, frontier: 1500 },
      { at: 2100, frontier: 2500 },
    ],
    legacyItems: [user('u-1', 'v2')],
    newItems: [
      inNew(user('u-1', 'v2'), '2'),
      { ...m.mapKey(key('u-2')), [names.seq]: { S: '3' }, [names.del]: { BOOL: true } },
    ],
  };
}

const failed = (input: CheckInput) => checkInvariants(input).filter((c) => !c.passed);

describe('Unit: rehearsal invariant checker', () => {
  it('passes every check on a clean recorded run', () => {
    const results = checkInvariants(cleanRun());
    expect(results.filter((c) => !c.passed)).toEqual([]);
    expect(results.map((c) => c.name)).toEqual([
      'convergence',
      'no-lost-or-resurrected',
      'every-read-answered',
      'bounded-within-budget',
      'strong-equals-legacy',
      'shadow-serves-legacy',
      'read-after-honored',
      'frontier-never-ahead',
    ]);
  });

  it('fails bounded-within-budget on a stale read served by new, naming the key and its history', () => {
    const run = cleanRun();
    const stale: ReadRecord = {
      ...(run.reads[0] as ReadRecord),
      startedAt: 9000,
      endedAt: 9005,
      observed: user('u-1', 'v1'),
    };
    const bad = failed({ ...run, reads: [stale] });
    expect(bad.map((c) => c.name)).toEqual(['bounded-within-budget']);
    expect(bad[0]?.examples[0]).toContain('key {"userId":{"S":"u-1"}}');
    expect(bad[0]?.examples[0]).toContain('#2 update sent 1000 acked 1010');
  });

  it('fails a read-after read that missed the write it was told to follow', () => {
    const run = cleanRun();
    const missed: ReadRecord = {
      key: key('u-1'),
      mode: ReadMode.READ_AFTER,
      phase: Phase.DUAL_READ,
      startedAt: 1012,
      endedAt: 1015,
      status: 200,
      servedBy: 'new',
      stalenessBoundMs: 100,
      readAfter: 1010,
      observed: user('u-1', 'v1'),
    };
    expect(failed({ ...run, reads: [missed] }).map((c) => c.name)).toEqual(['read-after-honored']);
  });

  it('fails strong-equals-legacy and every-read-answered on a wrong strong read and a 5xx', () => {
    const run = cleanRun();
    const wrong: ReadRecord = { ...(run.reads[1] as ReadRecord), status: 200, observed: user('u-2', 'v1') };
    const error: ReadRecord = { ...(run.reads[1] as ReadRecord), status: 503 };
    expect(failed({ ...run, reads: [wrong, error] }).map((c) => c.name)).toEqual([
      'every-read-answered',
      'strong-equals-legacy',
    ]);
  });

  it('fails no-lost-or-resurrected and convergence on a lost write', () => {
    const run = cleanRun();
    // New never got u-1's update: it still holds v1.
    const lost = failed({ ...run, newItems: [inNew(user('u-1', 'v1'), '1'), ...run.newItems.slice(1)] });
    expect(lost.map((c) => c.name)).toEqual(['convergence', 'no-lost-or-resurrected']);
    expect(lost[1]?.examples[0]).toContain('last acknowledged state');
  });

  it('names a resurrected item: deleted in legacy, live in new', () => {
    const run = cleanRun();
    const back = failed({ ...run, newItems: [run.newItems[0] as Item, inNew(user('u-2', 'v1'), '1')] });
    expect(back.map((c) => c.name)).toEqual(['convergence', 'no-lost-or-resurrected']);
    expect(back[1]?.examples[0]).toContain('RESURRECTED');
  });

  it('fails frontier-never-ahead when F covered a write whose record reached the sync handler later', () => {
    const run = cleanRun();
    const late = new Map(run.deliveries);
    late.set(run.history.keyId(key('u-2')), [2200]); // F = 2500 was published at 2100
    const bad = failed({ ...run, deliveries: late });
    expect(bad.map((c) => c.name)).toEqual(['frontier-never-ahead']);
    expect(bad[0]?.examples[0]).toContain('reached it only at 2200');
  });
});
