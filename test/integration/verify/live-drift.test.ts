/**
 * Verification on DynamoDB Local under a live workload: the real CDC pipeline (local event source +
 * sync handler, gated so CDC lags deterministically) and the real frontier tracker run while drift of
 * every class is injected; the run reports exactly that drift, repairs it, and the next run is clean.
 */
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { toSdkItem } from '../../../adapters/dynamodb';
import type { AuditRecord } from '../../../core/control';
import { BACKFILL_SEQ, canonicalItem } from '../../../core/model';
import { localVerifyDeps } from '../../../local/verify';
import {
  getNew,
  junkNewItem,
  legacyIds,
  liveSetup,
  newKey,
  releaseCdcAtFirstRecheck,
  runVerify,
  sleep,
  staticItem,
  updateLegacy,
  user,
  waitForNew,
} from '../../helpers/verify-fixture';
import { legacyWorkload } from '../../helpers/users-tables';

jest.setTimeout(90_000);

describe('Integration: verification state machine with the real handlers', () => {
  it('reports exactly the injected drift under a live CDC workload, repairs it, and the next run is clean', async () => {
    // Prepare: CDC and the frontier tracker running; 60 static keys copied by CDC
    const { s, cdc, tracker, client, m } = await liveSetup('vf-live', 60);
    await client.send(
      new DeleteItemCommand({ TableName: m.legacyTable.tableName, Key: toSdkItem(user('s-6')) }),
    );
    await waitForNew(m, newKey('s-6'), (i) => i?._dr_del !== undefined);

    const workload = legacyWorkload(client, m, {
      keyCount: 200,
      seed: 11,
      concurrency: 4,
    });
    const live = workload.run({ durationMs: 6_000, ratePerSecond: 150 });
    await sleep(500);

    // Inject drift on static keys (the workload writes only k-* keys) while the workload runs.
    const newTable = m.newTable.tableName;
    for (const id of ['s-1', 's-2', 's-3']) await junkNewItem(client, m, id);
    for (const id of ['s-4', 's-5'])
      await client.send(new DeleteItemCommand({ TableName: newTable, Key: toSdkItem(newKey(id)) }));
    await client.send(
      new PutItemCommand({
        TableName: newTable,
        Item: toSdkItem({ ...m.mapItem(staticItem(900)), _dr_seq: { S: BACKFILL_SEQ } }),
      }),
    );
    const tomb = await getNew(m, newKey('s-6'));
    await client.send(
      new PutItemCommand({
        TableName: newTable,
        Item: toSdkItem({
          ...m.mapItem(staticItem(6)),
          _dr_seq: tomb?._dr_seq as never,
          _dr_src: { S: 'cdc' },
        }),
      }),
    );
    await client.send(
      new PutItemCommand({
        TableName: newTable,
        Item: toSdkItem({ ...newKey('s-7'), _dr_seq: { S: '1'.padStart(40, '0') }, _dr_del: { BOOL: true } }),
      }),
    );
    const deps = localVerifyDeps({ client, migration: m, controlTableName: s.controlTableName });
    // Deterministic lag: CDC is held while s-20..s-24 change in legacy, and released only when the
    // re-check starts, so the first pass certainly sees them differ; the re-check must clear them.
    cdc.hold();
    for (let i = 20; i < 25; i++)
      await updateLegacy(client, m, `s-${i}`, 'fullName', 'changed while CDC lags');
    const lambdas = releaseCdcAtFirstRecheck(deps, cdc);

    // Act: a run with repair while the workload is still writing, then a second run after it stopped
    const first = await runVerify(deps, { repair: true, runId: 'live-1' }, lambdas);
    const ran = await live;
    await waitForNew(m, newKey('s-1'), () => true);
    await sleep(1500);
    const second = await runVerify(deps, { repair: false, runId: 'live-2' });
    const audits = (await deps.store.listAudit()).filter(
      (a: AuditRecord) => a.action === 'verify-repair' && a.detail?.runId === 'live-1',
    );
    await tracker.stop();
    await cdc.close();

    // Assess: exactly the injected keys, by class; lag on k-* keys never reported as drift
    expect(ran.failed).toBe(0);
    expect(first.firstPass?.match).toBeGreaterThan(50);
    expect(first.firstPass?.['content-differs']).toBeGreaterThanOrEqual(3 + 5);
    expect(first.lagResolved).toBeGreaterThanOrEqual(5);
    expect(first.lookupPass?.skipped).toBeUndefined();
    expect(first.extrasPass?.skipped).toBeUndefined();
    expect(legacyIds(first, 'content-differs')).toEqual(['s-1', 's-2', 's-3']);
    expect(legacyIds(first, 'missing-in-new')).toEqual(['s-4', 's-5']);
    expect(legacyIds(first, 'extra-in-new')).toEqual(['s-6', 's-900']);
    expect(legacyIds(first, 'tombstoned-in-new')).toEqual(['s-7']);
    expect(first).toMatchObject({
      clean: false,
      unconfirmedLag: 0,
      counts: { 'content-differs': 3, 'missing-in-new': 2, 'extra-in-new': 2, 'tombstoned-in-new': 1 },
      repairs: { repaired: 8, lostToCdc: 0 },
    });
    expect(audits).toHaveLength(8);
    expect(audits[0]?.detail).toEqual(
      expect.objectContaining({
        beforeHash: expect.any(String),
        afterHash: expect.any(String),
        class: expect.any(String),
      }),
    );
    expect(second).toMatchObject({
      clean: true,
      unconfirmedLag: 0,
      checksumsEqual: true,
      repairs: { repaired: 0 },
    });
    const fixed = await getNew(m, newKey('s-1'));
    const { _dr_seq: _s, _dr_src: _r, _dr_ts: _t, ...fixedPlain } = fixed ?? {};
    expect(canonicalItem(fixedPlain)).toBe(canonicalItem(m.mapItem(staticItem(1))));
    expect(fixed?._dr_src).toEqual({ S: 'repair' });
    expect((await getNew(m, newKey('s-6')))?._dr_del).toEqual({ BOOL: true });
    client.destroy();
  });
});
