/**
 * Verification on DynamoDB Local, a clean run: the deployed state machine definition run locally with
 * the real handlers over a migrated table reports it clean, with equal checksums on both sides.
 */
import { ControlKey } from '../../../core/control';
import { BACKFILL_SEQ } from '../../../core/model';
import { batchPut, depsWithMetrics, migratedTables, newKey, runVerify } from '../../helpers/verify-fixture';
import { testClient } from '../../helpers/dynamo';

jest.setTimeout(90_000);

describe('Integration: verification state machine with the real handlers', () => {
  it('reports a clean migrated table as clean with equal checksums on both sides', async () => {
    // Prepare: 300 legacy items, and the new table holding mapItem of each plus metadata
    const s = await migratedTables('vf-clean', 300, {
      _dr_seq: { S: BACKFILL_SEQ },
      _dr_src: { S: 'backfill' },
      _dr_ts: { N: '1' },
    });
    // a tombstone of a deleted legacy item is not an extra
    await batchPut(s.migration.newTable.tableName, [
      { ...newKey('gone'), _dr_seq: { S: '9'.padStart(40, '0') }, _dr_del: { BOOL: true } },
    ]);
    const client = testClient();
    const { deps, metrics } = depsWithMetrics(s, s.migration, client);

    // Act
    const report = await runVerify(deps, { repair: false, runId: 'clean-1' });
    client.destroy();

    // Assess
    expect(report).toMatchObject({
      status: 'COMPLETE',
      clean: true,
      checksumsEqual: true,
      unconfirmedLag: 0,
      legacy: { scanned: 300 },
      fresh: { scanned: 301, tombstones: 1 },
      counts: { match: 300, 'missing-in-new': 0, 'content-differs': 0, 'extra-in-new': 0 },
    });
    expect(report.legacy?.checksum).toEqual(report.fresh?.checksum);
    expect(report.lookupPass).toEqual({ scanned: 0, skipped: true });
    expect(report.extrasPass).toEqual({ scanned: 0, skipped: true });
    expect(metrics).toMatchObject({
      VerifyMatch: 300,
      VerifyConfirmedDrift: 0,
      VerifyUnconfirmedLag: 0,
      VerifyClean: 1,
    });
    expect(report.durationMs).toBeGreaterThanOrEqual(0);
    const lock = await deps.store.get<{ released: boolean }>(ControlKey.VERIFY_LOCK);
    expect(lock?.released).toBe(true);
  });
});
