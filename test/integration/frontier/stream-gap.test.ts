/**
 * Closing a stream gap on DynamoDB Local (adapters/stream-gap.ts): a versioned FRONTIER write with its
 * AUDIT record in one transaction, retried over a tracker that keeps publishing, refused (nothing
 * written) for a run that cannot close it.
 */
import { ControlStore } from '../../../adapters/control-store';
import { closeStreamGap } from '../../../adapters/stream-gap';
import { CONTROL_TABLE_KEY, createTable } from '../../../adapters/tables';
import { type FrontierState } from '../../../core/control';
import { StreamGapRecoveryError, gapOpen, openGap } from '../../../core/frontier';
import { testClient, uniqueName } from '../../helpers/dynamo';

const OPENED = Date.parse('2026-12-05T10:00:00Z');
const run = { runId: 'verify-1', startedAt: OPENED + 5000, status: 'COMPLETE', clean: true };

describe('Function: closeStreamGap (DynamoDB Local)', () => {
  const client = testClient();
  let store: ControlStore;

  beforeEach(async () => {
    const table = uniqueName('gap-control');
    await createTable(client, table, CONTROL_TABLE_KEY);
    store = new ControlStore(client, table, 'users');
    const doc: Omit<FrontierState, 'version'> = {
      migrationId: 'users',
      frontier: OPENED - 60_000,
      computedAt: OPENED,
      shards: [],
      gap: openGap(undefined, ['shardId-00001'], OPENED, OPENED - 60_000, OPENED - 1000),
    };
    await store.put('FRONTIER', doc, 0);
  });

  afterAll(() => client.destroy());

  it('closes the gap with an audit record, over a FRONTIER the tracker rewrote meanwhile', async () => {
    // Prepare: the tracker publishes once between the recovery's read and its write.
    let published = false;
    const racing = {
      ...store,
      migrationId: store.migrationId,
      versionedPut: store.versionedPut.bind(store),
      auditPut: store.auditPut.bind(store),
      getFrontier: async () => {
        const f = await store.getFrontier();
        if (!published && f) {
          published = true;
          await store.put('FRONTIER', { ...f, computedAt: f.computedAt + 1 }, f.version);
        }
        return f;
      },
    } as unknown as ControlStore;

    // Act
    const closed = await closeStreamGap({
      client,
      store: racing,
      run,
      actor: 'ops',
      now: () => OPENED + 60_000,
      sleep: async () => undefined,
    });

    // Assess
    const stored = await store.getFrontier();
    expect(stored?.version).toBe(3);
    expect(gapOpen(stored?.gap)).toBe(false);
    expect(stored?.gap).toMatchObject({
      closedBy: 'ops',
      closedByRun: 'verify-1',
      closedAt: OPENED + 60_000,
    });
    expect(closed.version).toBe(3);
    const audit = await store.listAudit();
    expect(audit.map((a) => [a.action, a.actor, a.detail?.runId])).toEqual([
      ['close-stream-gap', 'ops', 'verify-1'],
    ]);
  });

  it('refuses a run started before the gap opened (clock-skew margin included) and writes nothing', async () => {
    // Act
    const attempt = closeStreamGap({
      client,
      store,
      run,
      actor: 'ops',
      now: () => OPENED + 60_000,
      clockSkewMs: 5000,
    });

    // Assess
    await expect(attempt).rejects.toThrow(StreamGapRecoveryError);
    expect(gapOpen((await store.getFrontier())?.gap)).toBe(true);
    expect(await store.listAudit()).toEqual([]);
  });
});
