/**
 * The registry of unresolved keys on DynamoDB Local (adapters/poison-registry.ts): a key registered
 * while a recount is between its listing and its STATE write is never lost (the count can be too high
 * for a moment, never too low), a waived stream record registers its key once, and before any
 * backfill the registration is guarded by STATE's absence.
 */
import { AlreadyWaivedError, waiveRecord } from '../../../adapters/frontier-store';
import { ControlStore } from '../../../adapters/control-store';
import { PoisonRegistry, type StoredPoison } from '../../../adapters/poison-registry';
import { CONTROL_TABLE_KEY, createTable } from '../../../adapters/tables';
import { BackfillStatus, PoisonOrigin, initialState } from '../../../core';
import { testClient, uniqueName } from '../../helpers/dynamo';

describe('Integration: the poison registry on DynamoDB Local', () => {
  const client = testClient();
  afterAll(() => client.destroy());

  async function controlTable(tag: string): Promise<string> {
    const name = uniqueName(tag);
    await createTable(client, name, CONTROL_TABLE_KEY);
    return name;
  }

  async function completeState(store: ControlStore): Promise<void> {
    const { version: _v, ...s } = initialState(store.migrationId, 0, Date.now());
    await store.changeState(
      undefined,
      { ...s, backfill: { status: BackfillStatus.COMPLETE, unresolved: 0, poison: 0 } },
      { migrationId: store.migrationId, at: Date.now(), actor: 'test', action: 'set', reason: 'test' },
      'init',
    );
  }

  it('never counts too low when a key is registered between a recount listing the registry and writing STATE', async () => {
    // Prepare: a finished backfill; a recount that lets a registration in after it listed the registry
    const table = await controlTable('reg-race');
    const registry = new PoisonRegistry(client, table, 'users');
    await completeState(registry.store);
    const other = new PoisonRegistry(client, table, 'users');
    let injected = false;
    const racing = Object.assign(Object.create(registry) as PoisonRegistry, {
      unresolved: async (): Promise<StoredPoison[]> => {
        const listed = await registry.unresolved();
        if (!injected) {
          injected = true; // the registration lands after the listing, before the STATE write
          await other.register(
            {
              legacyKey: { userId: { S: 'late' } },
              reason: 'registered during the recount',
              origin: PoisonOrigin.CDC_WAIVER,
              sequenceNumber: '1'.padStart(40, '0'),
              actor: 'test',
              at: Date.now(),
            },
            [],
          );
        }
        return listed;
      },
    });

    // Act
    const state = await racing.recount({ actor: 'test', action: 'recount', reason: 'test' }, Date.now, true);

    // Assess: the recount's first write failed on STATE's version; the second counted the key
    expect(injected).toBe(true);
    expect(state?.backfill).toMatchObject({ status: BackfillStatus.COMPLETE_WITH_POISON, unresolved: 1 });
    expect((await registry.store.getState())?.backfill).toMatchObject({ unresolved: 1 });
  });

  it('registers the key of a waived record once, bumping STATE, and refuses a second waiver of the record', async () => {
    // Prepare
    const table = await controlTable('reg-waive');
    const store = new ControlStore(client, table, 'users');
    await completeState(store);
    const waiver = { actor: 'ann', reason: 'superseded', at: Date.now() };
    const key = { userId: { S: 'k' } };

    // Act
    await waiveRecord(client, table, 'users', '42', waiver, key);
    const again = waiveRecord(client, table, 'users', '42', waiver, key);
    await expect(again).rejects.toBeInstanceOf(AlreadyWaivedError);
    await waiveRecord(client, table, 'users', '43', { ...waiver, reason: 'also' }, key);

    // Assess
    const registered = await new PoisonRegistry(client, table, 'users').list();
    expect(registered).toEqual([
      expect.objectContaining({
        key: { userId: { S: 'k' } },
        origin: 'cdc-waiver',
        status: 'unresolved',
        sequenceNumber: '43'.padStart(40, '0'),
      }),
    ]);
    expect((await store.getState())?.backfill).toMatchObject({
      status: BackfillStatus.COMPLETE_WITH_POISON,
      unresolved: 1,
    });
    expect((await store.listAudit()).map((a) => a.action)).toEqual(['set', 'waive-record', 'waive-record']);
  });

  it('registers before any backfill without creating STATE, and the finish then counts the key', async () => {
    // Prepare
    const table = await controlTable('reg-nostate');
    const store = new ControlStore(client, table, 'users');

    // Act
    await waiveRecord(
      client,
      table,
      'users',
      '7',
      { actor: 'ann', reason: 'early', at: Date.now() },
      {
        userId: { S: 'early' },
      },
    );

    // Assess
    expect(await store.getState()).toBeUndefined();
    expect(await new PoisonRegistry(client, table, 'users').unresolved()).toHaveLength(1);
  });
});
