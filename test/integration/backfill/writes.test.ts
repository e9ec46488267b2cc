/**
 * What every backfill write mode (partiql, put, transact) does with the awkward cases, on DynamoDB
 * Local through the real page worker: a mapping that moves an item to another key (issue 9 item 16),
 * and items in the new table that dualread did not write (no `_dr_seq`: "foreign" items, item 9),
 * which the preflight refuses unless the operator chose how to treat them, and which every write mode
 * then treats the same way.
 */
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { WriteMode } from '../../../adapters/backfill-io';
import { ControlStore } from '../../../adapters/control-store';
import { fromSdkItem } from '../../../adapters/dynamodb';
import {
  type AttributeValue,
  BACKFILL_SEQ,
  type Item,
  type Migration,
  canonicalItem,
  defineMigration,
  initialState,
  metadataNames,
  padSequence,
  stripMetadata,
} from '../../../core';
import { usersMigration } from '../../../examples/users/migration';
import { makePageHandler } from '../../../lambdas/backfill/page';
import { makePreflightHandler } from '../../../lambdas/backfill/preflight';
import { localBackfillDeps } from '../../../local/backfill';
import { createBackfillTables } from '../../helpers/backfill-tables';
import { getItem, putItem, testClient } from '../../helpers/dynamo';

const names = metadataNames();
const MODES = [WriteMode.PARTIQL, WriteMode.PUT, WriteMode.TRANSACT] as const;

/**
 * A key-moving mapping, as careless as the example's: legacy `id` becomes `PK = ITEM#<id>`, and
 * every other legacy attribute is copied over AFTER the key, so a legacy attribute named `PK`
 * replaces the key the mapping computed.
 */
function keyMovingMigration(legacy: string, target: string): Migration {
  const pk = (item: Item) => ({ S: `ITEM#${(item.id as { S: string }).S}` });
  return defineMigration({
    id: 'moves',
    legacyTable: { tableName: legacy, key: { partitionKey: { name: 'id', type: 'S' } } },
    newTable: { tableName: target, key: { partitionKey: { name: 'PK', type: 'S' } } },
    mapKey: (k) => ({ PK: pk(k) }),
    mapItem: (item) => {
      const { id: _id, ...rest } = item;
      return { PK: pk(item), ...rest } as Record<string, AttributeValue>;
    },
    unmapItem: (item) => {
      const { PK, ...rest } = item;
      return { id: { S: (PK as { S: string }).S.slice('ITEM#'.length) }, ...rest };
    },
    samples: [{ id: { S: 'sample' }, n: { N: '1' } }],
  });
}

async function scanAll(client: DynamoDBClient, table: string): Promise<Item[]> {
  const out = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return (out.Items ?? []).map(fromSdkItem);
}

describe('Integration: backfill write modes on DynamoDB Local', () => {
  const client = testClient();
  afterAll(() => client.destroy());

  it.each(MODES)(
    'refuses an item whose mapping moves it to another key as poison with the reason, in %s mode',
    async (mode) => {
      // Prepare: `owner` is in new already (CDC wrote it); `thief` carries a legacy PK naming the
      // owner's key; `stray` carries a PK naming a key no legacy item has; `plain` is ordinary.
      const { migration, legacy, target, control } = await createBackfillTables(client, 'bfk', {
        migration: keyMovingMigration,
      });
      const owner: Item = { id: { S: 'owner' }, v: { S: 'the owner' } };
      const thief: Item = { id: { S: 'thief' }, PK: { S: 'ITEM#owner' }, v: { S: 'not the owner' } };
      const stray: Item = { id: { S: 'stray' }, PK: { S: 'NOWHERE' }, v: { S: 'an orphan' } };
      const plain: Item = { id: { S: 'plain' }, v: { S: 'plain' } };
      for (const item of [owner, thief, stray, plain]) await putItem(client, legacy, item);
      const ownerInNew: Item = {
        ...migration.mapItem(owner),
        [names.seq]: { S: padSequence('777') },
        [names.src]: { S: 'cdc' },
      };
      await putItem(client, target, ownerInNew);
      const page = makePageHandler(
        localBackfillDeps({ client, migration, controlTableName: control, writeMode: mode }),
      );

      // Act
      const result = await page({ runId: `moves-${mode}`, segment: 0, totalSegments: 1 });

      // Assess: neither moved item is written or counted as "already there"; both are poison
      expect(result).toMatchObject({ done: true, scanned: 4, copied: 1, skippedExists: 1, poison: 2 });
      expect(await getItem(client, target, { PK: { S: 'NOWHERE' } })).toBeUndefined();
      expect(canonicalItem((await getItem(client, target, { PK: { S: 'ITEM#owner' } })) ?? {})).toBe(
        canonicalItem(ownerInNew),
      );
      const stored = await scanAll(client, target);
      expect(stored.map((i) => (i.PK as { S: string }).S).sort()).toEqual(['ITEM#owner', 'ITEM#plain']);
      expect(
        canonicalItem(stripMetadata(stored.find((i) => i.v?.['S' as never] === 'plain') ?? {}, names)),
      ).toBe(canonicalItem(migration.mapItem(plain)));
      const poison = await new ControlStore(client, control, migration.id).list<{
        key: unknown;
        reason: string;
      }>('BACKFILL_POISON#');
      const byKey = new Map(poison.map((p) => [JSON.stringify(p.key), p.reason]));
      expect(byKey.get(JSON.stringify({ id: { S: 'thief' } }))).toMatch(
        /mapItem put the item under key .*ITEM#owner.* but mapKey gives .*ITEM#thief/,
      );
      expect(byKey.get(JSON.stringify({ id: { S: 'stray' } }))).toMatch(/NOWHERE.*ITEM#stray/);
    },
  );

  /** Tables of the users migration: legacy items, and new-table items put there beforehand. */
  async function foreignSetUp(tag: string, legacyItems: Item[], present: Item[]) {
    const { migration, legacy, target, control } = await createBackfillTables(client, tag);
    for (const item of legacyItems) await putItem(client, legacy, item);
    for (const item of present) await putItem(client, target, item);
    return { migration, control, store: new ControlStore(client, control, usersMigration.id) };
  }

  const consuming = { check: async () => ({ consuming: true, reason: 'CDC consuming (test)' }) };
  const userKey = (id: string): Item => ({ PK: { S: `USER#${id}` }, SK: { S: 'PROFILE' } });
  const foreignItem = (id: string): Item => ({ ...userKey(id), note: { S: 'not written by dualread' } });

  it('refuses to start on a new table holding items dualread did not write, naming a few keys and the option', async () => {
    // Prepare: 7 foreign items among dualread items
    const present: Item[] = [
      ...Array.from({ length: 7 }, (_, i) => foreignItem(`f${i}`)),
      { ...userKey('cdc'), [names.seq]: { S: padSequence('5') } },
    ];
    const env = await foreignSetUp('bff-pre', [], present);
    const deps = {
      ...localBackfillDeps({ client, migration: env.migration, controlTableName: env.control }),
    };
    const preflight = makePreflightHandler({ ...deps, cdcStatus: consuming });
    const payload = (input: object) => ({ input, executionId: 'x', executionName: 'foreign' });

    // Act
    const refused = preflight(payload({ runId: 'foreign', totalSegments: 1 }));

    // Assess
    await expect(refused).rejects.toMatchObject({
      name: 'ForeignItemsError',
      message: expect.stringMatching(/holds items dualread did not write.*USER#f0.*foreignItems/s),
    });
    const message = ((await refused.catch((e: unknown) => e)) as Error).message;
    expect(message.match(/USER#f\d/g)?.length).toBe(5); // a few keys, not all of them
    expect(message).toMatch(/'overwrite'.*'keep'/s);
    expect((await env.store.getState())?.backfill.status).toBeUndefined(); // nothing was started

    // Act: the operator says how to treat them
    const run = await preflight(payload({ runId: 'foreign', totalSegments: 1, foreignItems: 'keep' }));

    // Assess: started, and the choice is in STATE (audited with the start)
    expect(run.segments).toEqual([0]);
    expect((await env.store.getState())?.backfill).toMatchObject({ status: 'RUNNING', foreignItems: 'keep' });
    const [audit] = await env.store.listAudit();
    expect(audit?.detail).toMatchObject({ foreignItems: 'keep' });
  });

  it('rejects an unknown foreignItems option with a named error', async () => {
    // Prepare
    const env = await foreignSetUp('bff-bad', [], []);
    const deps = localBackfillDeps({ client, migration: env.migration, controlTableName: env.control });

    // Act
    const out = makePreflightHandler({ ...deps, cdcStatus: consuming })({
      input: { runId: 'bad', foreignItems: 'replace' as never },
      executionId: 'x',
      executionName: 'bad',
    });

    // Assess
    await expect(out).rejects.toMatchObject({
      name: 'BackfillInputError',
      message: expect.stringMatching(/foreignItems must be 'refuse', 'overwrite' or 'keep', not "replace"/),
    });
  });

  const POLICIES = ['refuse', 'overwrite', 'keep'] as const;
  const FOREIGN_CASES = MODES.flatMap((mode) => POLICIES.map((policy) => [policy, mode] as const));

  it.each(FOREIGN_CASES)(
    'treats a foreign item met by a write the same way in every mode: %s, in %s mode',
    async (policy, mode) => {
      // Prepare: legacy f (a foreign item holds its key in new), c (CDC wrote it first), n (new)
      const legacyItems: Item[] = ['f', 'c', 'n'].map((id) => ({
        userId: { S: id },
        fullName: { S: `legacy ${id}` },
      }));
      const cdcItem: Item = {
        ...userKey('c'),
        displayName: { S: 'by CDC' },
        [names.seq]: { S: padSequence('9') },
      };
      const env = await foreignSetUp(`bff-${mode}-${policy}`, legacyItems, [foreignItem('f'), cdcItem]);
      // The policy a run was started with is in STATE (the preflight puts it there).
      const { version: _v, ...state } = initialState(env.migration.id, 0, Date.now());
      await env.store.changeState(
        undefined,
        { ...state, backfill: { status: 'RUNNING', runId: 'w', foreignItems: policy } as never },
        { migrationId: env.migration.id, at: Date.now(), actor: 'test', action: 'set', reason: 'test' },
        'a1',
      );
      const page = makePageHandler(
        localBackfillDeps({
          client,
          migration: env.migration,
          controlTableName: env.control,
          writeMode: mode,
        }),
      );

      // Act
      const result = await page({ runId: 'w', segment: 0, totalSegments: 1 });

      // Assess
      const f = await getItem(client, env.migration.newTable.tableName, userKey('f'));
      const c = await getItem(client, env.migration.newTable.tableName, userKey('c'));
      expect(canonicalItem(c ?? {})).toBe(canonicalItem(cdcItem)); // a dualread item is never overwritten
      const poison = await env.store.list<{ key: unknown; reason: string }>('BACKFILL_POISON#');
      if (policy === 'overwrite') {
        expect(result).toMatchObject({ scanned: 3, copied: 2, skippedExists: 1, keptForeign: 0, poison: 0 });
        expect(f?.[names.seq]).toEqual({ S: BACKFILL_SEQ });
        expect(canonicalItem(stripMetadata(f ?? {}, names))).toBe(
          canonicalItem(env.migration.mapItem(legacyItems[0] as Item)),
        );
        expect(poison).toEqual([]);
      } else {
        expect(canonicalItem(f ?? {})).toBe(canonicalItem(foreignItem('f')));
        if (policy === 'keep') {
          expect(result).toMatchObject({
            scanned: 3,
            copied: 1,
            skippedExists: 1,
            keptForeign: 1,
            poison: 0,
          });
          expect(poison).toEqual([]);
        } else {
          expect(result).toMatchObject({
            scanned: 3,
            copied: 1,
            skippedExists: 1,
            keptForeign: 0,
            poison: 1,
          });
          expect(poison).toEqual([
            expect.objectContaining({
              key: { userId: { S: 'f' } },
              reason: expect.stringMatching(/did not write.*no _dr_seq.*foreignItems is 'refuse'/),
            }),
          ]);
        }
      }
    },
  );
});
