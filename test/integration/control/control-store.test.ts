import { ControlConflictError, ControlStore } from '../../../adapters/control-store';
import { CONTROL_TABLE_KEY, createTable } from '../../../adapters/tables';
import { ControlKey, Phase, initialState } from '../../../core/control';
import { testClient, uniqueName } from '../../helpers/dynamo';

describe('Class: ControlStore', () => {
  const client = testClient();
  const table = uniqueName('control');
  let store: ControlStore;

  beforeAll(async () => {
    await createTable(client, table, CONTROL_TABLE_KEY);
    store = new ControlStore(client, table, 'users');
  });
  afterAll(() => client.destroy());

  it('changes STATE and writes its audit record in one transaction', async () => {
    // Prepare
    const first = await store.changeState(
      undefined,
      initialState('users', 0, 1_000),
      { migrationId: 'users', at: 1_000, actor: 'alice', action: 'init', reason: 'start' },
      'a1',
    );

    // Act
    const second = await store.changeState(
      first,
      { ...first, phase: Phase.BACKFILLING, updatedAt: 2_000, updatedBy: 'bob' },
      {
        migrationId: 'users',
        at: 2_000,
        actor: 'bob',
        action: 'advance',
        reason: 'cdc consuming',
        from: 'LEGACY_ONLY',
        to: 'BACKFILLING',
      },
      'a2',
    );

    // Assess
    expect(second.version).toBe(2);
    expect(await store.getState()).toEqual(second);
    const audit = await store.listAudit();
    expect(audit.map((a) => [a.actor, a.action, a.from ?? null, a.to ?? null])).toEqual([
      ['alice', 'init', null, null],
      ['bob', 'advance', 'LEGACY_ONLY', 'BACKFILLING'],
    ]);
  });

  it('refuses a change based on a stale version and writes no audit record for it', async () => {
    const state = (await store.getState())!;
    await store.changeState(
      state,
      { ...state, rolloutPercent: 10 },
      { migrationId: 'users', at: 3_000, actor: 'c', action: 'x', reason: 'r' },
      'a3',
    );
    const before = (await store.listAudit()).length;

    await expect(
      store.changeState(
        state,
        { ...state, rolloutPercent: 50 },
        { migrationId: 'users', at: 4_000, actor: 'd', action: 'y', reason: 'r' },
        'a4',
      ),
    ).rejects.toThrow(ControlConflictError);

    expect((await store.getState())!.rolloutPercent).toBe(10);
    expect((await store.listAudit()).length).toBe(before);
  });

  it('locks plain documents by version', async () => {
    const doc = await store.put(ControlKey.segment(0), { done: false, copied: 5 }, 0);
    await expect(store.put(ControlKey.segment(0), { done: true, copied: 6 }, 0)).rejects.toThrow(
      ControlConflictError,
    );
    const next = await store.put(ControlKey.segment(0), { done: true, copied: 6 }, doc.version);
    expect(await store.get(ControlKey.segment(0))).toEqual(next);
    expect(next.version).toBe(2);
  });

  it('lists by prefix, optionally after a sort key', async () => {
    for (const n of [1, 2, 3]) await store.putUnversioned(ControlKey.segment(n), { n });
    const all = await store.list<{ n?: number }>('SEGMENT#');
    expect(all.map((s) => s.sk)).toEqual([0, 1, 2, 3].map(ControlKey.segment));
    const after = await store.list<{ n: number }>('SEGMENT#', { after: ControlKey.segment(1) });
    expect(after.map((s) => s.n)).toEqual([2, 3]);
  });
});
