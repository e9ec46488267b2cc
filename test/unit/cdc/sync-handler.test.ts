import type { ControlValue, MigrationState } from '../../../core/control';
import { metadataNames, padSequence, type Item } from '../../../core/model';
import { ChangeKind } from '../../../core/cdc';
import { usersMigration as m } from '../../../examples/users/migration';
import { type SyncBatchSummary, type SyncControlPort, makeSyncHandler } from '../../../lambdas/sync/handler';
import { MemoryNewTable } from '../../helpers/memory-new-table';
import { lambdaRecord, streamEvent } from '../../helpers/stream-records';

const T0 = 1_764_547_200_000;
const names = metadataNames();

class MemoryControl implements SyncControlPort {
  readonly docs = new Map<string, Record<string, ControlValue | undefined>>();
  state: MigrationState | undefined;
  async getState() {
    return this.state;
  }
  async putUnversioned(sk: string, doc: Record<string, ControlValue | undefined>) {
    this.docs.set(sk, doc);
  }
}

function setUp() {
  const table = new MemoryNewTable(names);
  const control = new MemoryControl();
  const batches: SyncBatchSummary[] = [];
  const failures: Array<[string, string]> = [];
  const handler = makeSyncHandler({
    migration: m,
    writer: table,
    control,
    now: () => T0 + 60_000,
    onBatch: (s) => batches.push(s),
    onRecordFailure: (seq, reason) => failures.push([seq, reason]),
  });
  return { table, control, batches, failures, handler };
}

const user = (id: string, extra: Item = {}): Item => ({ userId: { S: id }, ...extra });

describe('Function: makeSyncHandler', () => {
  it('applies the good records, reports only the poison one, and writes the progress marker per the contract', async () => {
    // Prepare
    const { table, control, batches, failures, handler } = setUp();
    const event = streamEvent([
      lambdaRecord({ keys: user('a'), seq: '100', createdMs: T0, newImage: user('a', { v: { N: '1' } }) }),
      lambdaRecord({
        keys: user('p'),
        seq: '101',
        createdMs: T0,
        newImage: user('p', { profile: { S: 'x' } }),
      }),
      lambdaRecord({ keys: user('b'), seq: '102', createdMs: T0, eventName: ChangeKind.REMOVE }),
    ]);

    // Act
    const res = await handler(event);

    // Assess
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: '101' }] });
    expect(table.get({ PK: { S: 'USER#a' }, SK: { S: 'PROFILE' } })?.v).toEqual({ N: '1' });
    expect(table.get({ PK: { S: 'USER#b' }, SK: { S: 'PROFILE' } })?._dr_del).toEqual({ BOOL: true });
    expect(control.docs.get(`APPLIED#${padSequence('100')}`)).toEqual({
      first: padSequence('100'),
      last: padSequence('102'),
      count: 3,
      failed: [padSequence('101')],
      at: T0 + 60_000,
      expiresAt: Math.floor((T0 + 60_000) / 1000) + 2 * 24 * 3600,
    });
    expect(failures).toEqual([['101', expect.stringMatching(/mapItem failed/)]]);
    expect(batches[0]).toMatchObject({ applied: 2, tombstones: 1, failed: ['101'], maxRecordAgeMs: 60_000 });
  });

  it('fails the invocation when every record fails, after writing a marker naming them all', async () => {
    const { control, handler } = setUp();
    const event = streamEvent([
      lambdaRecord({ keys: user('p'), seq: '7', newImage: user('p', { profile: { S: 'x' } }) }),
    ]);
    await expect(handler(event)).rejects.toThrow(/All records failed/);
    expect(control.docs.get(`APPLIED#${padSequence('7')}`)).toMatchObject({
      failed: [padSequence('7')],
      count: 1,
    });
  });

  it('counts duplicates as skipped and a sequence regression of one key as an order violation', async () => {
    // Prepare
    const { batches, handler } = setUp();
    const first = lambdaRecord({
      keys: user('a'),
      seq: '200',
      createdMs: T0,
      newImage: user('a', { v: { N: '1' } }),
    });
    await handler(streamEvent([first]));

    // Act: the same record again, then a delivery whose key goes backwards in sequence
    await handler(streamEvent([first]));
    await handler(
      streamEvent([
        lambdaRecord({ keys: user('c'), seq: '300', createdMs: T0, newImage: user('c') }),
        lambdaRecord({ keys: user('c'), seq: '250', createdMs: T0, newImage: user('c') }),
      ]),
    );

    // Assess
    expect(batches[1]).toMatchObject({ applied: 0, skippedDuplicate: 1, orderViolations: 0 });
    expect(batches[2]).toMatchObject({ orderViolations: 1 });
  });

  it('counts an order violation when a provably newer change loses to a larger stored sequence number', async () => {
    const { batches, handler } = setUp();
    await handler(
      streamEvent([lambdaRecord({ keys: user('d'), seq: '900', createdMs: T0, newImage: user('d') })]),
    );
    await handler(
      streamEvent([
        lambdaRecord({ keys: user('d'), seq: '800', createdMs: T0 + 10_000, newImage: user('d') }),
      ]),
    );
    expect(batches[1]).toMatchObject({ applied: 0, skippedStale: 1, orderViolations: 1 });
  });

  it('decodes base64 binary of Lambda events without loss and sets the tombstone TTL once backfill is complete', async () => {
    // Prepare
    const { table, control, handler } = setUp();
    control.state = {
      backfill: { status: 'COMPLETE', completedAt: T0 },
    } as unknown as MigrationState;
    const bytes = new Uint8Array([0, 255, 128, 7]);

    // Act
    await handler(
      streamEvent([
        lambdaRecord({
          keys: user('e'),
          seq: '1',
          newImage: user('e', { bin: { B: bytes }, n: { N: '1E-130' } }),
        }),
        lambdaRecord({ keys: user('f'), seq: '2', eventName: ChangeKind.REMOVE }),
      ]),
    );

    // Assess
    const e = table.get({ PK: { S: 'USER#e' }, SK: { S: 'PROFILE' } }) as Item;
    expect(e.bin).toEqual({ B: bytes });
    expect(e.n).toEqual({ N: '1E-130' });
    const f = table.get({ PK: { S: 'USER#f' }, SK: { S: 'PROFILE' } }) as Item;
    expect(f._dr_ttl).toEqual({ N: String(Math.ceil((T0 + 60_000 + 7 * 24 * 3600_000) / 1000)) });
  });
});
