/**
 * The put-if-absent fast path of the sync handler on DynamoDB Local: `NewTableWriter.insertIfAbsent`
 * writes exactly the plans whose key is absent, leaves every key an item holds (a backfill copy, a
 * tombstone, a CDC write) to the conditional put, keeps values exact, and a delivery through the real
 * handler ends as the apply rule says.
 */
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fromSdkItem, toSdkItem } from '../../../adapters/dynamodb';
import { NewTableWriter } from '../../../adapters/new-table-writer';
import { ChangeKind, planWrite } from '../../../core/cdc';
import { BACKFILL_SEQ, type Item, metadataNames, sequenceOf } from '../../../core/model';
import { makeSyncHandler } from '../../../lambdas/sync/handler';
import { testClient } from '../../helpers/dynamo';
import { change, lambdaRecord, streamEvent } from '../../helpers/stream-records';
import { createUsersTables } from '../../helpers/users-tables';

jest.setTimeout(60_000);

const T0 = 1_764_547_200_000;
const names = metadataNames();
const user = (id: string, extra: Item = {}): Item => ({ userId: { S: id }, ...extra });
const exact: Item = {
  big: { N: '12345678901234567890123456789012345678' },
  bin: { B: new Uint8Array([0, 1, 2, 255]) },
  tags: { SS: ['x', 'y'] },
  nothing: { NULL: true },
  nested: { M: { deep: { L: [{ N: '-0.000000000000000000000000000000000001' }] } } },
};

describe('Integration: batched put-if-absent of INSERT records', () => {
  let client: DynamoDBClient;
  beforeAll(() => {
    client = testClient();
  });
  afterAll(() => client.destroy());

  it('inserts only absent keys, 25 per request, with exact values; held keys answer false', async () => {
    // Prepare: 30 INSERT plans; k-0 has a backfill copy, k-1 a tombstone, k-2 a CDC item
    const t = await createUsersTables(client, 'cdc-batch-ins');
    const m = t.migration;
    const writer = new NewTableWriter(client, m.newTable.tableName);
    const plan = (id: string, seq: number, kind: ChangeKind = ChangeKind.INSERT) =>
      planWrite(
        change(kind, user(id), String(seq), T0, kind === ChangeKind.REMOVE ? undefined : user(id, exact)),
        m,
      );
    await writer.write({
      ...plan('k-0', 1),
      item: { ...plan('k-0', 1).item, [names.seq]: { S: BACKFILL_SEQ }, [names.src]: { S: 'backfill' } },
    });
    await writer.write(plan('k-1', 5, ChangeKind.REMOVE));
    await writer.write(plan('k-2', 9));
    const plans = Array.from({ length: 30 }, (_, i) => plan(`k-${i}`, 100 + i));
    writer.requests = 0;

    // Act
    const done = await writer.insertIfAbsent(plans);

    // Assess
    expect(done.slice(0, 3)).toEqual([false, false, false]);
    expect(done.slice(3).every(Boolean)).toBe(true);
    expect(writer.requests).toBe(2);
    const got = await client.send(
      new GetItemCommand({
        TableName: m.newTable.tableName,
        Key: toSdkItem(m.mapKey(user('k-7'))),
        ConsistentRead: true,
      }),
    );
    const stored = fromSdkItem(got.Item ?? {});
    expect(stored).toEqual(plans[7]?.item);
    const k2 = await client.send(
      new GetItemCommand({
        TableName: m.newTable.tableName,
        Key: toSdkItem(m.mapKey(user('k-2'))),
        ConsistentRead: true,
      }),
    );
    expect(sequenceOf(fromSdkItem(k2.Item ?? {}), names)).toBe(plan('k-2', 9).seq);
  });

  it('applies a mixed delivery through the real handler as the apply rule says, in fewer requests than records', async () => {
    // Prepare: a tombstone for "gone" (an INSERT record of it with a smaller sequence must lose)
    const t = await createUsersTables(client, 'cdc-batch-handler');
    const m = t.migration;
    const writer = new NewTableWriter(client, m.newTable.tableName);
    await writer.write(planWrite(change(ChangeKind.REMOVE, user('gone'), '500', T0), m));
    const summaries: Array<{ writeRequests: number; superseded: number; applied: number }> = [];
    const handler = makeSyncHandler({
      migration: m,
      writer,
      control: { getState: async () => undefined, putUnversioned: async () => undefined },
      now: () => T0 + 1_000,
      onBatch: (s) => summaries.push(s),
    });
    const records = [
      ...Array.from({ length: 40 }, (_, i) =>
        lambdaRecord({
          eventName: ChangeKind.INSERT,
          keys: user(`n-${i}`),
          seq: String(1000 + i),
          newImage: user(`n-${i}`, exact),
        }),
      ),
      lambdaRecord({
        eventName: ChangeKind.MODIFY,
        keys: user('n-3'),
        seq: '2000',
        newImage: user('n-3', { v: { N: '2' } }),
      }),
      lambdaRecord({ eventName: ChangeKind.REMOVE, keys: user('n-4'), seq: '2001' }),
      lambdaRecord({ eventName: ChangeKind.INSERT, keys: user('gone'), seq: '400', newImage: user('gone') }),
    ];

    // Act
    const res = await handler(streamEvent(records));

    // Assess
    expect(res.batchItemFailures).toEqual([]);
    const read = async (id: string) =>
      fromSdkItem(
        (
          await client.send(
            new GetItemCommand({
              TableName: m.newTable.tableName,
              Key: toSdkItem(m.mapKey(user(id))),
              ConsistentRead: true,
            }),
          )
        ).Item ?? {},
      );
    expect(await read('n-0')).toMatchObject(m.mapItem(user('n-0', exact)));
    expect((await read('n-3')).v).toEqual({ N: '2' });
    expect((await read('n-4'))[names.del]).toEqual({ BOOL: true });
    expect(sequenceOf(await read('gone'), names)).toBe('500'.padStart(40, '0'));
    expect(summaries[0]).toMatchObject({ superseded: 2, applied: 40 });
    expect(summaries[0]?.writeRequests).toBeLessThan(records.length / 4);
  });
});
