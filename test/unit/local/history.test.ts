import type { Item } from '../../../core/model';
import { LegacyHistory, WriteOp } from '../../../local/history';

const key: Item = { userId: { S: 'u' } };
const v = (n: number): Item => ({ ...key, v: { N: String(n) } });

/** Writes: v1 in [100, 110], v2 in [200, 230], delete in [300, 305]. */
function history(): LegacyHistory {
  const h = new LegacyHistory({ partitionKey: { name: 'userId', type: 'S' } });
  h.record({ op: WriteOp.PUT, key, after: v(1), startedAt: 100, ackedAt: 110 });
  h.record({ op: WriteOp.UPDATE, key, after: v(2), startedAt: 200, ackedAt: 230 });
  h.record({ op: WriteOp.DELETE, key, after: undefined, startedAt: 300, ackedAt: 305 });
  return h;
}

describe('Class: LegacyHistory', () => {
  it.each<[string, number, number, Array<Item | undefined>]>([
    ['before any write', 50, 50, [undefined]],
    ['during the first write', 105, 105, [undefined, v(1)]],
    ['between writes', 150, 150, [v(1)]],
    ['during the update', 210, 210, [v(1), v(2)]],
    ['after the delete', 400, 400, [undefined]],
    ['a window across the update', 150, 250, [v(1), v(2)]],
    ['a window across everything', 0, 1000, [undefined, v(1), v(2), undefined]],
  ])('gives the possible states %s', (_label, from, to, expected) => {
    expect(history().possibleStates(key, from, to)).toEqual(expected);
  });

  it('says a state is certain only when no write of the key was in flight', () => {
    expect(history().stateAt(key, 150)).toEqual({ certain: true, item: v(1) });
    expect(history().stateAt(key, 205)).toEqual({ certain: false });
  });

  it.each<[string, Item | undefined, number, number, number, boolean]>([
    ['the current state', v(2), 250, 260, 0, true],
    ['a state older than the budget allows', v(1), 250, 260, 5, false],
    ['an old state within the budget', v(1), 250, 260, 60, true],
    ['"not found" after the delete', undefined, 310, 312, 0, true],
    ['a state legacy never held', v(3), 250, 260, 1000, false],
  ])('judges a read returning %s', (_label, observed, start, end, budget, ok) => {
    expect(history().isAcceptableRead(key, observed, start, end, budget)).toBe(ok);
  });

  it('refuses overlapping writes to one key, since the model needs them serial', () => {
    const h = history();
    expect(() => h.record({ op: WriteOp.PUT, key, after: v(9), startedAt: 303, ackedAt: 320 })).toThrow(
      /overlap/,
    );
  });

  it('reports final states per key', () => {
    expect(history().finalStates()).toEqual([{ key, item: undefined, ackedAt: 305 }]);
  });
});
