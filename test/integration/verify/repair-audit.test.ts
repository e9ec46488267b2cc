/**
 * Verification repairs on DynamoDB Local: a repair and its audit record are written in one
 * transaction, so a refused or cancelled audit write leaves no repair, and a retry repairs with audit.
 */
import { ControlStore } from '../../../adapters/control-store';
import { ControlKey } from '../../../core/control';
import { BACKFILL_SEQ } from '../../../core/model';
import { RepairTransactionError } from '../../../core/verify';
import type { VerifyDeps } from '../../../lambdas/verify/contract';
import { makeVerifyRepairHandler } from '../../../lambdas/verify/repair';
import { localVerifyDeps } from '../../../local/verify';
import { testClient } from '../../helpers/dynamo';
import {
  getNew,
  junkNewItem,
  migratedTables,
  newKey,
  publishFrontierPastEveryWrite,
  runVerify,
} from '../../helpers/verify-fixture';

jest.setTimeout(90_000);

describe('Integration: a repair and its audit record are written together or not at all', () => {
  /** s-0..s-4 copied, junk in s-1's new item, confirmed as drift by a run without repair. */
  async function confirmedDrift(prefix: string, runId: string) {
    const s = await migratedTables(prefix, 5, { _dr_seq: { S: BACKFILL_SEQ }, _dr_src: { S: 'backfill' } });
    const m = s.migration;
    const client = testClient();
    await junkNewItem(client, m, 's-1');
    const deps = localVerifyDeps({ client, migration: m, controlTableName: s.controlTableName });
    await publishFrontierPastEveryWrite(deps.store, m.id);
    const report = await runVerify(deps, { repair: false, runId, totalSegments: 1 });
    expect(report.counts?.['content-differs']).toBe(1);
    client.destroy();
    return s;
  }

  const repairAudits = async (store: ControlStore, runId: string) =>
    (await store.listAudit()).filter((a) => a.action === 'verify-repair' && a.detail?.runId === runId);

  it('leaves no repair when its audit record cannot be written, and repairs it with its audit on the next try', async () => {
    // Prepare: a client that refuses every write of an AUDIT# item (as a missing permission would)
    const s = await confirmedDrift('vf-audit', 'audit-1');
    const m = s.migration;
    const refusing = testClient();
    const isAudit = (item: unknown) =>
      ((item as { sk?: { S?: string } } | undefined)?.sk?.S ?? '').startsWith('AUDIT#');
    refusing.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as {
          Item?: unknown;
          TransactItems?: Array<{ Put?: { Item?: unknown } }>;
        };
        if (isAudit(input.Item) || (input.TransactItems ?? []).some((t) => isAudit(t.Put?.Item)))
          throw Object.assign(
            new Error(`${context.commandName}: not authorized to write the audit (injected)`),
            {
              name: 'AccessDeniedException',
              $metadata: { httpStatusCode: 400 },
            },
          );
        return next(args);
      },
      { step: 'initialize', name: 'refuseAuditWrites' },
    );
    const failing = localVerifyDeps({ client: refusing, migration: m, controlTableName: s.controlTableName });
    const client = testClient();
    const working = localVerifyDeps({ client, migration: m, controlTableName: s.controlTableName });

    // Act
    const refused = makeVerifyRepairHandler(failing)({ runId: 'audit-1' });
    await expect(refused).rejects.toThrow(/not authorized to write the audit/);
    const afterRefusal = await getNew(m, newKey('s-1'));
    const auditsAfterRefusal = await repairAudits(working.store, 'audit-1');
    const retried = await makeVerifyRepairHandler(working)({ runId: 'audit-1' });
    const afterRetry = await getNew(m, newKey('s-1'));
    const auditsAfterRetry = await repairAudits(working.store, 'audit-1');
    refusing.destroy();
    client.destroy();

    // Assess: no repair without its audit; the retried step repairs and audits it
    expect(afterRefusal?.displayName).toEqual({ S: 'junk' });
    expect(afterRefusal?._dr_src).toEqual({ S: 'backfill' });
    expect(auditsAfterRefusal).toEqual([]);
    expect(retried).toMatchObject({ done: true, processed: 1 });
    expect(afterRetry?.displayName).toEqual({ S: 'Static 1' });
    expect(afterRetry?._dr_src).toEqual({ S: 'repair' });
    expect(auditsAfterRetry).toHaveLength(1);
  });

  it('writes nothing when DynamoDB cancels the transaction for the audit record, and says so by name', async () => {
    // Prepare: an audit record already holds the key the repair's record would get
    const s = await confirmedDrift('vf-auditkey', 'auditkey-1');
    const m = s.migration;
    const client = testClient();
    const at = Date.UTC(2030, 0, 1);
    const deps: VerifyDeps = {
      ...localVerifyDeps({ client, migration: m, controlTableName: s.controlTableName, now: () => at }),
      newAuditId: () => 'taken',
    };
    const sk = ControlKey.audit(new Date(at).toISOString(), 'taken');
    await deps.store.putUnversioned(sk, {
      migrationId: m.id,
      at,
      actor: 'someone',
      action: 'earlier',
      reason: 'was here first',
    });

    // Act
    const refused = makeVerifyRepairHandler(deps)({ runId: 'auditkey-1' });

    // Assess: the repair's condition held, the audit's did not: neither is written, and it is no lost-to-cdc
    await expect(refused).rejects.toThrow(RepairTransactionError);
    await expect(refused).rejects.toThrow(/reasons: repair None, audit ConditionalCheckFailed/);
    expect((await getNew(m, newKey('s-1')))?.displayName).toEqual({ S: 'junk' });
    expect(await deps.store.get(sk)).toMatchObject({ action: 'earlier', actor: 'someone' });
    const suspects = await deps.store.list<{ repair?: string }>('VERIFY_SUSPECT#auditkey-1#');
    expect(suspects.map((x) => x.repair)).toEqual([undefined]);
    client.destroy();
  });
});
