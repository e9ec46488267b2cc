import fc from 'fast-check';
import {
  ChangeKind,
  type StreamChange,
  UnappliableChangeError,
  applyChange,
  coalesceDelivery,
  planWrite,
} from '../../../core/cdc';
import { metadataNames, type Item } from '../../../core/model';
import { usersMigration as m } from '../../../examples/users/migration';
import { changeFromLambdaRecord } from '../../../adapters/stream-records';
import { makeSyncHandler } from '../../../lambdas/sync/handler';
import { MemoryNewTable } from '../../helpers/memory-new-table';
import { change, lambdaRecord, streamEvent } from '../../helpers/stream-records';

const T0 = 1_764_547_200_000;
const names = metadataNames();
const user = (id: string, extra: Item = {}): Item => ({ userId: { S: id }, ...extra });

describe('Function: coalesceDelivery', () => {
  it('picks the largest sequence per new-table key, leaves poison records out, and offers only INSERT upserts to the fast path', () => {
    // Prepare
    const changes: StreamChange[] = [
      change(ChangeKind.INSERT, user('a'), '10', T0, user('a', { v: { N: '1' } })),
      change(ChangeKind.MODIFY, user('a'), '30', T0, user('a', { v: { N: '3' } })),
      change(ChangeKind.INSERT, user('b'), '20', T0, user('b')),
      change(ChangeKind.MODIFY, user('a'), '25', T0, user('a', { v: { N: '2' } })),
      change(ChangeKind.INSERT, user('c'), '40', T0, user('c', { profile: { S: 'poison' } })),
      change(ChangeKind.REMOVE, user('d'), '50', T0),
      change(ChangeKind.INSERT, user('e'), '60', T0, user('e')),
      change(ChangeKind.REMOVE, user('e'), '70', T0),
    ];
    const plans = changes.map((c) => {
      try {
        return planWrite(c, m);
      } catch (err) {
        if (err instanceof UnappliableChangeError) return undefined;
        throw err;
      }
    });

    // Act
    const out = coalesceDelivery(changes, plans);

    // Assess
    expect(plans[4]).toBeUndefined();
    expect(out.winnerOf).toEqual([1, 1, 2, 1, -1, 5, 7, 7]);
    expect(out.insertCandidates).toEqual([2]);
  });
});

/** A record of the generated deliveries. */
interface Gen {
  readonly key: string;
  readonly kind: ChangeKind;
  readonly seq: number;
}

const gen: fc.Arbitrary<Gen> = fc.record({
  key: fc.constantFrom('a', 'b', 'c', 'd'),
  kind: fc.constantFrom(ChangeKind.INSERT, ChangeKind.MODIFY, ChangeKind.REMOVE),
  seq: fc.integer({ min: 1, max: 400 }),
});

function recordOf(g: Gen, poison: boolean) {
  const image = user(g.key, { v: { N: String(g.seq) }, ...(poison ? { profile: { S: 'x' } } : {}) });
  return lambdaRecord({
    eventName: g.kind,
    keys: user(g.key),
    seq: String(g.seq),
    createdMs: T0 + g.seq,
    ...(g.kind === ChangeKind.REMOVE ? {} : { newImage: image }),
  });
}

describe('Function: makeSyncHandler with coalescing and batched put-if-absent', () => {
  it('leaves the new table exactly as applying every record one by one does, with one write per key at most (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(gen, { maxLength: 12 }),
        fc.array(fc.tuple(gen, fc.boolean()), { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        async (history, delivery, backfilled) => {
          // Prepare: the same starting table for both (backfill copies, then an earlier delivery)
          const reference = new MemoryNewTable(names);
          const batched = new MemoryNewTable(names, { batchedInserts: true });
          for (const t of [reference, batched]) {
            if (backfilled) for (const k of ['a', 'c']) t.backfill(m.mapKey(user(k)), m.mapItem(user(k)), T0);
            for (const g of history)
              await applyChange(changeFromLambdaRecord(recordOf(g, false)), { migration: m, writer: t });
          }
          reference.requests = 0;
          const records = delivery.map(([g, poison]) => recordOf(g, poison));
          const handler = makeSyncHandler({
            migration: m,
            writer: batched,
            control: { getState: async () => undefined, putUnversioned: async () => undefined },
            now: () => T0 + 60_000,
            onBatch: (s) => summaries.push(s),
          });
          const summaries: Array<{ writeRequests: number; failed: readonly string[] }> = [];
          const refFailed = new Set<string>();

          // Act: one by one (the per-record path), and the handler's coalesced delivery
          for (const r of records) {
            try {
              await applyChange(changeFromLambdaRecord(r), { migration: m, writer: reference });
            } catch (err) {
              if (!(err instanceof UnappliableChangeError)) throw err;
              refFailed.add(r.dynamodb?.SequenceNumber as string);
            }
          }
          await handler(streamEvent(records)).catch(() => undefined);

          // Assess
          expect(Object.fromEntries(batched.items)).toEqual(Object.fromEntries(reference.items));
          expect(new Set(summaries[0]?.failed)).toEqual(refFailed);
          // At most one conditional put per key plus one batched insert request (at most 4 keys here).
          expect(summaries[0]?.writeRequests).toBeLessThanOrEqual(
            new Set(delivery.map(([g]) => g.key)).size + 1,
          );
        },
      ),
    );
  });
});

describe('Function: makeSyncHandler when a winner write fails', () => {
  it('fails the superseded records with their winner, so the marker never counts them applied', async () => {
    // Prepare: the new table throttles every conditional put of key a
    const table = new MemoryNewTable(names);
    const writer = {
      write: async (plan: Parameters<MemoryNewTable['write']>[0]) => {
        if (JSON.stringify(plan.key).includes('USER#a')) throw new Error('ThrottlingException');
        return table.write(plan);
      },
    };
    const markers: Array<Record<string, unknown>> = [];
    const handler = makeSyncHandler({
      migration: m,
      writer,
      control: {
        getState: async () => undefined,
        putUnversioned: async (_sk, doc) => void markers.push(doc),
      },
      now: () => T0 + 60_000,
    });
    const records = [
      lambdaRecord({ eventName: ChangeKind.MODIFY, keys: user('a'), seq: '10', newImage: user('a') }),
      lambdaRecord({ eventName: ChangeKind.MODIFY, keys: user('b'), seq: '11', newImage: user('b') }),
      lambdaRecord({ eventName: ChangeKind.MODIFY, keys: user('a'), seq: '12', newImage: user('a') }),
    ];

    // Act
    const res = await handler(streamEvent(records));

    // Assess: both records of a failed (the superseded one with its winner), b applied
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['10', '12']);
    expect(markers[0]?.failed).toEqual(['10', '12'].map((x) => x.padStart(40, '0')));
    expect(table.get(m.mapKey(user('b')))).toBeDefined();
  });
});
