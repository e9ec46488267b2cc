/**
 * The sync handler does not depend on the control table to apply records (issue 9, item 4): the real
 * handler, ControlStore and NewTableWriter over one DynamoDB client whose control-table calls are made
 * to fail with aws-sdk-client-mock (DynamoDB Local cannot be made to fail one table on demand).
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { toSdkItem } from '../../../adapters/dynamodb';
import {
  BackfillStatus,
  ControlKey,
  controlPk,
  initialState,
  encodeControlItem,
} from '../../../core/control';
import { ChangeKind } from '../../../core/cdc';
import type { Item } from '../../../core/model';
import { usersMigration as m } from '../../../examples/users/migration';
import { buildSyncDeps } from '../../../lambdas/sync/deps';
import { makeSyncHandler } from '../../../lambdas/sync/handler';
import { lambdaRecord, streamEvent } from '../../helpers/stream-records';

const CONTROL = 'control-table';
const NEW = 'users-new';
const T0 = 1_764_547_200_000;
const controlDown = () =>
  Object.assign(new Error('control table unavailable'), {
    name: 'InternalServerError',
    $metadata: { httpStatusCode: 500 },
  });

function setUp() {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
  });
  const mock = mockClient(client);
  let t = T0;
  const failures: Array<[string, string]> = [];
  const handler = makeSyncHandler({
    ...buildSyncDeps({ client, migration: m, controlTableName: CONTROL, newTableName: NEW, env: {} }),
    now: () => t,
    onRecordFailure: (seq, reason) => failures.push([seq, reason]),
    sleep: async () => undefined,
  });
  const newPuts = (): Item[] =>
    mock
      .commandCalls(PutItemCommand)
      .filter((c) => c.args[0].input.TableName === NEW)
      .map((c) => c.args[0].input.Item as unknown as Item);
  return { mock, handler, failures, newPuts, advance: (ms: number) => (t += ms) };
}

const user = (id: string, extra: Item = {}): Item => ({ userId: { S: id }, ...extra });
const batch = (from: number) =>
  streamEvent([
    lambdaRecord({ keys: user(`a${from}`), seq: String(from), createdMs: T0, newImage: user(`a${from}`) }),
    lambdaRecord({
      keys: user(`b${from}`),
      seq: String(from + 1),
      createdMs: T0,
      eventName: ChangeKind.REMOVE,
    }),
  ]);

describe('Function: makeSyncHandler (control table failing)', () => {
  it('applies every good record when the STATE read fails and no state was ever known: tombstones get no TTL', async () => {
    // Prepare
    const s = setUp();
    s.mock.on(GetItemCommand).rejects(controlDown());
    s.mock.on(PutItemCommand).resolves({});

    // Act
    const res = await s.handler(batch(100));

    // Assess
    expect(res).toEqual({ batchItemFailures: [] });
    expect(s.failures).toEqual([]);
    const puts = s.newPuts();
    expect(puts.map((i) => (i.PK as { S: string }).S)).toEqual(['USER#a100', 'USER#b100']);
    expect(puts[1]?._dr_del).toEqual({ BOOL: true });
    expect(puts[1]?._dr_ttl).toBeUndefined();
  });

  it('keeps using the last known state for the tombstone TTL when a later STATE read fails', async () => {
    // Prepare: STATE says backfill complete; then the control table fails after the state cache expired.
    const s = setUp();
    const state = {
      ...initialState(m.id, 0, T0),
      backfill: { status: BackfillStatus.COMPLETE, completedAt: T0 },
    };
    s.mock
      .on(GetItemCommand)
      .resolvesOnce({
        Item: toSdkItem({
          ...encodeControlItem(state as never),
          pk: { S: controlPk(m.id) },
          sk: { S: ControlKey.STATE },
        }),
      })
      .rejects(controlDown());
    s.mock.on(PutItemCommand).resolves({});
    await s.handler(batch(100));
    s.advance(60_000);

    // Act
    const res = await s.handler(batch(200));

    // Assess
    expect(res).toEqual({ batchItemFailures: [] });
    expect(s.mock.commandCalls(GetItemCommand)).toHaveLength(2);
    const tombstone = s.newPuts().find((i) => (i.PK as { S: string }).S === 'USER#b200');
    expect(tombstone?._dr_ttl).toEqual({ N: String(Math.ceil((T0 + 60_000 + 7 * 24 * 3600_000) / 1000)) });
  });

  it('reports the batch applied when the progress marker cannot be written (the tracker falls back to item evidence)', async () => {
    // Prepare
    const s = setUp();
    s.mock.on(GetItemCommand).resolves({});
    s.mock.on(PutItemCommand).resolves({});
    s.mock.on(PutItemCommand, { TableName: CONTROL }).rejects(controlDown());

    // Act
    const res = await s.handler(batch(300));

    // Assess: applied, not failed (a failure would redeliver and finally dead-letter good records).
    expect(res).toEqual({ batchItemFailures: [] });
    expect(s.newPuts()).toHaveLength(2);
    const markerAttempts = s.mock
      .commandCalls(PutItemCommand)
      .filter((c) => c.args[0].input.TableName === CONTROL);
    expect(markerAttempts.length).toBeGreaterThan(1);
  });
});
