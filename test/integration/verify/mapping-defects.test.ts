/**
 * Verification on DynamoDB Local with a faulty inverse mapping (`unmapItem` throws, or gives an item
 * back under another key): the defects are reported by class and metric, and never repaired.
 */
import { BACKFILL_SEQ, type Migration } from '../../../core/model';
import type { VerifyReport } from '../../../core/verify';
import { usersMigration } from '../../../examples/users/migration';
import { testClient } from '../../helpers/dynamo';
import {
  type Setup,
  batchPut,
  copyToBoth,
  depsWithMetrics,
  getNew,
  legacyIds,
  newKey,
  publishFrontierPastEveryWrite,
  runVerify,
  setupTables,
  staticItem,
  staticItems,
} from '../../helpers/verify-fixture';

jest.setTimeout(90_000);

describe('Integration: mapping defects are reported, never repaired', () => {
  /**
   * A faulty inverse (what a user's mapping may look like): `unmapItem` throws on items with `vip`, and
   * gives items with `moved` back under another key. Their new items are valid copies of legacy items.
   */
  function faultyInverse(s: Setup): Migration {
    return {
      ...s.migration,
      unmapItem: (item) => {
        if (item.vip !== undefined) throw new TypeError('this unmapItem cannot handle vip');
        const back = usersMigration.unmapItem(item);
        const id = (back.userId as { S: string }).S;
        return item.moved !== undefined ? { ...back, userId: { S: `${id}-elsewhere` } } : back;
      },
    };
  }

  /** Legacy items s-0..s-9 and two the faulty inverse cannot give back, all copied exactly to new. */
  async function copied(prefix: string, m: (s: Setup) => Migration) {
    const s = await setupTables(prefix);
    const migration = m(s);
    const legacy = [
      ...staticItems(10),
      { ...staticItem(50), userId: { S: 'd-1' }, vip: { BOOL: true } },
      { ...staticItem(51), userId: { S: 'd-2' }, moved: { S: 'yes' } },
    ];
    await copyToBoth(migration, legacy, { _dr_seq: { S: BACKFILL_SEQ }, _dr_src: { S: 'backfill' } });
    return { s, migration };
  }

  const newIds = (report: VerifyReport, cls: string) =>
    (report.samples?.[cls] ?? []).map((k) => (k.PK as { S: string } | undefined)?.S).sort();

  it('never tombstones a valid item whose legacy origin unmapItem cannot compute, and names the defect', async () => {
    // Prepare: the two items above, and one genuine extra (so the extras pass runs); no CDC, and a
    // published frontier past every write, so the re-check can confirm.
    const { s, migration } = await copied('vf-origin', faultyInverse);
    await batchPut(migration.newTable.tableName, [
      { ...migration.mapItem(staticItem(900)), _dr_seq: { S: BACKFILL_SEQ }, _dr_src: { S: 'backfill' } },
    ]);
    const client = testClient();
    const { deps, metrics } = depsWithMetrics(s, migration, client);
    await publishFrontierPastEveryWrite(deps.store, migration.id);

    // Act
    const report = await runVerify(deps, { repair: true, runId: 'origin-1', totalSegments: 2 });
    const d1 = await getNew(migration, newKey('d-1'));
    const d2 = await getNew(migration, newKey('d-2'));
    const extra = await getNew(migration, newKey('s-900'));
    client.destroy();

    // Assess: the valid items are untouched; the genuine extra is tombstoned
    expect(d1?._dr_del).toBeUndefined();
    expect(d1?._dr_src).toEqual({ S: 'backfill' });
    expect(d2?._dr_del).toBeUndefined();
    expect(d2?._dr_src).toEqual({ S: 'backfill' });
    expect(extra?._dr_del).toEqual({ BOOL: true });
    expect(report).toMatchObject({
      clean: false,
      counts: { 'extra-in-new': 1, 'origin-unknown': 2, 'not-invertible': 2 },
      repairs: { repaired: 1, lostToCdc: 0 },
    });
    expect(legacyIds(report, 'extra-in-new')).toEqual(['s-900']);
    expect(newIds(report, 'origin-unknown')).toEqual(['USER#d-1', 'USER#d-2']);
    expect(legacyIds(report, 'not-invertible')).toEqual(['d-1', 'd-2']);
    expect(metrics).toMatchObject({
      VerifyOriginUnknown: 2,
      VerifyNotInvertible: 2,
      VerifyConfirmedDrift: 1,
    });
  });

  it('reports legacy items the mapping does not give back even when the checksums are equal', async () => {
    // Prepare: the stores are equal, so no lookup pass runs
    const { s, migration } = await copied('vf-invert', faultyInverse);
    const client = testClient();
    const { deps, metrics } = depsWithMetrics(s, migration, client);

    // Act
    const report = await runVerify(deps, { repair: true, runId: 'invert-1', totalSegments: 2 });
    client.destroy();

    // Assess
    expect(report).toMatchObject({
      checksumsEqual: true,
      lookupPass: { skipped: true },
      clean: false,
      counts: { match: 12, 'not-invertible': 2, 'origin-unknown': 0 },
      firstPass: { 'not-invertible': 2 },
      repairs: { repaired: 0 },
    });
    expect(legacyIds(report, 'not-invertible')).toEqual(['d-1', 'd-2']);
    expect(metrics).toMatchObject({ VerifyNotInvertible: 2, VerifyClean: 0 });
  });
});
