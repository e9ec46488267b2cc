/**
 * Verification on DynamoDB Local, a repair racing CDC on the same key: with the real CDC pipeline and
 * frontier tracker running, a legacy update applied by CDC in the middle of a repair (before its write,
 * or between its reads of new and legacy) wins; the repair is counted lost-to-cdc.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Item, type Migration, canonicalItem, metadataNames } from '../../../core/model';
import type { VerifyDeps } from '../../../lambdas/verify/contract';
import { localVerifyDeps } from '../../../local/verify';
import { testClient } from '../../helpers/dynamo';
import { startUsersCdc } from '../../helpers/users-tables';
import {
  type Setup,
  batchPut,
  getLegacy,
  getNew,
  junkNewItem,
  newKey,
  runTracker,
  runVerify,
  setupTables,
  staticItem,
  updateLegacy,
  waitForNew,
  waitForNewSequence,
} from '../../helpers/verify-fixture';

jest.setTimeout(90_000);

const names = metadataNames('_dr_');

/** CDC and the tracker running; s-1 and s-2 copied by CDC, then junk written to s-1's new item. */
async function junkUnderCdc(prefix: string) {
  const s: Setup = await setupTables(prefix);
  const cdc = await startUsersCdc(s, { poller: { batchSize: 50, pollIntervalMs: 50 } });
  const tracker = runTracker(s);
  const client = testClient();
  const m = s.migration;
  await batchPut(m.legacyTable.tableName, [staticItem(1), staticItem(2)]);
  await waitForNew(m, newKey('s-1'), (i) => i !== undefined);
  await waitForNew(m, newKey('s-2'), (i) => i !== undefined);
  await junkNewItem(client, m, 's-1');
  return { s, cdc, tracker, client, m };
}

/** A legacy update of s-1 (`v = value`), waited for until CDC has applied it to `key`. */
async function cdcAppliesUpdate(client: DynamoDBClient, m: Migration, key: Item, value: string) {
  const before = await getNew(m, key);
  await updateLegacy(client, m, 's-1', 'v', value);
  await waitForNewSequence(m, key, before);
}

describe('Integration: verification state machine with the real handlers', () => {
  it('lets a CDC write win over a repair that races it on the same key', async () => {
    // Prepare: CDC and tracker running; s-1 copied, then junk written to its new item
    const { cdc, tracker, client, m, s } = await junkUnderCdc('vf-race');
    let raced = 0;
    const deps: VerifyDeps = {
      ...localVerifyDeps({ client, migration: m, controlTableName: s.controlTableName }),
      // Between the repair's reads and its write: a legacy update, applied by CDC before the write.
      beforeRepairWrite: async (key) => {
        raced++;
        await cdcAppliesUpdate(client, m, key, 'cdc-wins');
      },
    };

    // Act
    const report = await runVerify(deps, { repair: true, runId: 'race-1', totalSegments: 1 });
    await tracker.stop();
    await cdc.close();

    // Assess: the repair lost; the new item is mapItem of the updated legacy item, written by CDC
    const legacyNow = await getLegacy(client, m, 's-1');
    const stored = await getNew(m, newKey('s-1'));
    client.destroy();
    expect(raced).toBe(1);
    expect(report).toMatchObject({
      counts: { 'content-differs': 1 },
      repairs: { repaired: 0, lostToCdc: 1 },
    });
    expect(stored?._dr_src).toEqual({ S: 'cdc' });
    expect(stored?.v).toEqual({ S: 'cdc-wins' });
    const { _dr_seq, _dr_src, _dr_ts, ...plain } = stored ?? {};
    expect(canonicalItem(plain)).toBe(canonicalItem(m.mapItem(legacyNow)));
    expect(names.seq).toBe('_dr_seq');
  });

  it("stores no older content under a newer sequence when CDC writes between the repair's reads of new and legacy", async () => {
    // Prepare: CDC and tracker running; s-1 copied by CDC, then junk written to its new item
    const { cdc, tracker, client, m, s } = await junkUnderCdc('vf-reads');
    let raced = 0;
    let cdcSeq: unknown;
    const deps: VerifyDeps = {
      ...localVerifyDeps({ client, migration: m, controlTableName: s.controlTableName }),
      // 1. the repair has read new (junk, _dr_seq = found); 2. a legacy update is applied by CDC
      // (_dr_seq = s > found); 3. only then does the repair read legacy, which reflects the update.
      betweenRepairReads: async (key) => {
        raced++;
        await cdcAppliesUpdate(client, m, key, 'between-reads');
        cdcSeq = (await getNew(m, key))?._dr_seq;
      },
    };

    // Act
    const report = await runVerify(deps, { repair: true, runId: 'reads-1', totalSegments: 1 });
    await tracker.stop();
    await cdc.close();

    // Assess: the repair's condition on the _dr_seq it found failed (lost-to-cdc); the CDC write stands
    const legacyNow = await getLegacy(client, m, 's-1');
    const stored = await getNew(m, newKey('s-1'));
    const audits = (await deps.store.listAudit()).filter((a) => a.detail?.runId === 'reads-1');
    client.destroy();
    expect(raced).toBe(1);
    expect(report).toMatchObject({ repairs: { repaired: 0, lostToCdc: 1 } });
    expect(audits).toEqual([]);
    expect(stored?._dr_src).toEqual({ S: 'cdc' });
    expect(stored?._dr_seq).toEqual(cdcSeq);
    expect(stored?.v).toEqual({ S: 'between-reads' });
    const { _dr_seq, _dr_src, _dr_ts, ...plain } = stored ?? {};
    expect(canonicalItem(plain)).toBe(canonicalItem(m.mapItem(legacyNow)));
  });
});
