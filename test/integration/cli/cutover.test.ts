/**
 * `dualread cutover` end to end on DynamoDB Local, the binary as a child process against the real local
 * CDC (stream poller + sync handler, obeying the CDC switch) and the real frontier tracker: refused
 * before NEW_PRIMARY; a full cutover to FINALIZED (fence, quiet, F − skew > T, a verification after T,
 * the poller stopped, FINALIZED audited with T); a legacy write after the fence aborts to NEW_PRIMARY
 * naming the key.
 */
import { writeFileSync } from 'node:fs';
import { ControlStore } from '../../../adapters/control-store';
import { loadMigrations } from '../../../adapters/migration-loader';
import { CONTROL_TABLE_KEY, createMigrationTables, createTable } from '../../../adapters/tables';
import { ExitCode } from '../../../cli/exit-codes';
import {
  BackfillStatus,
  CUTOVER_KEY,
  ControlKey,
  type CutoverProgress,
  type MigrationState,
  Phase,
} from '../../../core/control';
import type { CdcConsumerDoc } from '../../../core/cdc';
import { DYNAMODB_LOCAL_TRACKER_SETTINGS } from '../../../core/frontier';
import type { Migration } from '../../../core/model';
import { buildFrontierTracker } from '../../../lambdas/frontier/deps';
import { type LocalCdc, startLocalCdc } from '../../../local/local-cdc';
import { cliTarget, ordersDefinitions } from '../../helpers/cli';
import { putItem, testClient, testEndpoint, uniqueName } from '../../helpers/dynamo';
import { waitUntil } from '../../helpers/wait';

describe('CLI: dualread cutover (DynamoDB Local)', () => {
  const client = testClient();

  /** One migration's tables, local CDC and tracker, and the binary bound to them. */
  async function world(name: string) {
    const control = uniqueName(`${name}-control`);
    const { definitions, dualread } = cliTarget('cutover', control);
    writeFileSync(definitions, ordersDefinitions(uniqueName(`${name}-legacy`), uniqueName(`${name}-new`)));
    const [migration] = (await loadMigrations(definitions)) as [Migration];
    await createTable(client, control, CONTROL_TABLE_KEY);
    const { streamArn } = await createMigrationTables(client, migration);
    const store = new ControlStore(client, control, 'orders');
    const cdc: LocalCdc = await startLocalCdc({
      endpoint: testEndpoint(),
      migration,
      streamArn: streamArn as string,
      controlTableName: control,
      poller: { heartbeatMs: 500, switchCheckMs: 200 },
    });
    const { tracker } = buildFrontierTracker({
      endpoint: testEndpoint(),
      migration,
      controlTableName: control,
      streamArn: streamArn as string,
      env: {},
      config: { ...DYNAMODB_LOCAL_TRACKER_SETTINGS, itemEvidenceAfterMs: 500 },
    });
    let tracking = true;
    const loop = (async () => {
      while (tracking) {
        await tracker.step().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    /** STATE as a soaked NEW_PRIMARY (or `phase`), with a clean verification after the backfill. */
    const seedState = async (phase: Phase): Promise<void> => {
      const now = Date.now();
      const state: Omit<MigrationState, 'version'> = {
        migrationId: 'orders',
        phase,
        rolloutPercent: 100,
        rolloutSince: now - 60_000,
        phaseSince: now - 60_000,
        backfill: { status: BackfillStatus.COMPLETE, completedAt: now - 50_000, copied: 0 },
        controls: { paused: false, rateLimitPerSecond: 0 },
        approvals: [{ phase: Phase.FINALIZED, actor: 'alice@host', at: now, reason: 'ticket 42' }],
        updatedAt: now,
        updatedBy: 'test',
      };
      await store.changeState(
        undefined,
        state,
        {
          migrationId: 'orders',
          at: now,
          actor: 'test',
          action: 'seed',
          reason: 'test',
        },
        'seed',
      );
      await store.putUnversioned(ControlKey.verify('v0'), {
        runId: 'v0',
        status: 'COMPLETE',
        clean: true,
        startedAt: now - 40_000,
        completedAt: now - 30_000,
      });
    };
    const close = async (): Promise<void> => {
      tracking = false;
      await loop;
      await cdc.close();
    };
    return { migration, store, cdc, dualread, seedState, close };
  }

  /** Runs `test` in a fresh world named `name`, and closes the world after it, whatever the outcome. */
  async function inWorld(name: string, test: (w: Awaited<ReturnType<typeof world>>) => Promise<void>) {
    const w = await world(name);
    try {
      await test(w);
    } finally {
      await w.close();
    }
  }

  afterAll(() => client.destroy());

  it('refuses a cutover before NEW_PRIMARY with exit 2 and says why', () =>
    inWorld('refused', async (w) => {
      await w.seedState(Phase.DUAL_READ);
      const r = await w.dualread('cutover', '--fence-now');
      expect(r.code).toBe(ExitCode.GUARDRAIL_UNMET);
      expect(r.stdout).toMatch(/refused: the migration is in DUAL_READ: a cutover starts from NEW_PRIMARY/);
      expect(await w.store.get(CUTOVER_KEY)).toBeUndefined();
    }));

  it('walks a full cutover to FINALIZED: fence, quiet, F − skew > T, verification, CDC stopped, audited with T', () =>
    inWorld('full', async (w) => {
      await w.seedState(Phase.NEW_PRIMARY);
      for (let i = 0; i < 5; i++)
        await putItem(client, w.migration.legacyTable.tableName, { id: { S: `k${i}` }, n: { N: String(i) } });
      await w.cdc.poller.drain();

      const r = await w.dualread('cutover', '--fence-now', '--quiet-window', '1s', '--timeout', '3m');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(ExitCode.OK);
      expect(r.stdout).toMatch(/FENCED fence recorded: T = /);
      expect(r.stdout).toMatch(/QUIET legacy quiet since the fence/);
      expect(r.stdout).toMatch(/VERIFYING verification cutover-\d+-\w+ started after the fence/);
      expect(r.stdout).toMatch(/CDC_DISABLED .*CDC disabled/);
      expect(r.stdout).toMatch(/FINALIZED: cutover: legacy writes fenced at/);

      const state = await w.store.getState();
      expect(state?.phase).toBe(Phase.FINALIZED);
      const progress = (await w.store.get<CutoverProgress>(CUTOVER_KEY)) as CutoverProgress;
      expect(progress.step).toBe('FINALIZED');
      const consumer = await w.store.get<CdcConsumerDoc>(ControlKey.CDC_CONSUMER);
      expect(consumer?.state).toBe('Disabled');
      const audit = await w.store.listAudit();
      const actions = audit.map((a) => a.action);
      expect(actions).toEqual(expect.arrayContaining(['cutover-fence', 'cutover-cdc-disabled', 'advance']));
      const final = audit.find((a) => a.to === Phase.FINALIZED);
      expect(final?.reason).toContain(`T=${progress.fenceAt}`);
      // The verification the cutover ran started after T and was clean.
      const report = await w.store.get<{ startedAt: number; clean: boolean }>(
        ControlKey.verify(progress.verificationRunId as string),
      );
      expect(report?.clean).toBe(true);
      expect(report?.startedAt).toBeGreaterThan(progress.fenceAt);
    }));

  it('aborts back to NEW_PRIMARY naming the key when legacy is written after the fence', () =>
    inWorld('abort', async (w) => {
      await w.seedState(Phase.NEW_PRIMARY);
      const cutover = w.dualread('cutover', '--fence-now', '--quiet-window', '5m', '--timeout', '3m');
      await waitUntil('the fence', async () => (await w.store.get(CUTOVER_KEY)) !== undefined);
      await putItem(client, w.migration.legacyTable.tableName, { id: { S: 'late-writer' }, v: { N: '1' } });
      const r = await cutover;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(ExitCode.CUTOVER_ABORTED);
      expect(r.stdout).toMatch(/aborted: 1 legacy write\(s\) after the fence/);
      expect(r.stdout).toContain('{"id":{"S":"late-writer"}}');
      expect((await w.store.getState())?.phase).toBe(Phase.NEW_PRIMARY);
      const progress = (await w.store.get<CutoverProgress>(CUTOVER_KEY)) as CutoverProgress;
      expect(progress).toMatchObject({ step: 'ABORTED', keysAfterFence: ['{"id":{"S":"late-writer"}}'] });
      expect((await w.store.listAudit()).map((a) => a.action)).toContain('cutover-abort');
      // `status` shows where the cutover stands, with the keys written after the fence.
      const status = await w.dualread('status', '--json');
      expect(JSON.parse(status.stdout).cutover).toMatchObject({
        step: 'ABORTED',
        keysAfterFence: ['{"id":{"S":"late-writer"}}'],
      });
      expect((await w.dualread('status')).stdout).toMatch(/cutover: ABORTED, fence T .*late-writer/);
    }));
});
