/**
 * `dualread` end to end against DynamoDB Local: the real binary as a child process for the moves that
 * matter (refused with the reason, advanced once the facts hold, rollback audited, two concurrent
 * advances → one conflict), and every command's `--json` through `runCli` in process (same program,
 * without a process start per command).
 */
import { writeFileSync } from 'node:fs';
import { ControlStore } from '../../../adapters/control-store';
import { CONTROL_TABLE_KEY, createTable } from '../../../adapters/tables';
import { ExitCode } from '../../../cli/exit-codes';
import { BackfillStatus, Phase } from '../../../core/control';
import { cliTarget, ordersDefinitions, pollerHeartbeat } from '../../helpers/cli';
import { enableStream, testClient, uniqueName } from '../../helpers/dynamo';

describe('CLI: dualread (DynamoDB Local)', () => {
  const client = testClient();
  const control = uniqueName('cli-control');
  const legacy = uniqueName('cli-legacy');
  const store = new ControlStore(client, control, 'orders');
  let streamArn = '';
  /** `dualread` as a child process (`dualread`) and in process (`inProcess`): exit code, stdout, stderr. */
  const { definitions, dualread, inProcess } = cliTarget('cli', control);

  const pollerRunning = () => pollerHeartbeat(store, streamArn);

  beforeAll(async () => {
    writeFileSync(definitions, ordersDefinitions(legacy, 'orders-new'));
    await createTable(client, control, CONTROL_TABLE_KEY);
    await createTable(client, legacy, { partitionKey: { name: 'id', type: 'S' } });
    streamArn = await enableStream(client, legacy);
  });
  afterAll(() => client.destroy());

  it('refuses an advance with exit 2 and the reason, advances once the fact holds, and audits a rollback', async () => {
    const refused = await dualread('advance');
    expect(refused.code).toBe(ExitCode.GUARDRAIL_UNMET);
    expect(refused.stderr).toMatch(
      /GuardrailUnmetError: migration "orders" cannot advance from LEGACY_ONLY to BACKFILLING/,
    );
    expect(refused.stderr).toMatch(
      /✗ cdc-consuming +no CDC#CONSUMER control item: the local stream poller is not running/,
    );

    await pollerRunning();
    const advanced = await dualread('--json', 'advance', '--to', 'backfilling');
    expect(advanced.code).toBe(ExitCode.OK);
    expect(JSON.parse(advanced.stdout)).toMatchObject({
      from: 'LEGACY_ONLY',
      to: 'BACKFILLING',
      forced: false,
    });

    const rolled = await dualread('rollback', '--reason', 'rehearsal');
    expect(rolled.code).toBe(ExitCode.OK);
    expect(rolled.stdout).toMatch(/rolled back orders: BACKFILLING → LEGACY_ONLY by \S+@\S+/);
    const audit = JSON.parse((await inProcess('--json', 'audit')).stdout) as {
      records: Array<Record<string, unknown>>;
    };
    expect(audit.records.map((r) => [r.action, r.from, r.to])).toEqual([
      ['advance', 'LEGACY_ONLY', 'BACKFILLING'],
      ['rollback', 'BACKFILLING', 'LEGACY_ONLY'],
    ]);
    expect(audit.records[1]).toMatchObject({
      reason: 'rehearsal',
      actor: expect.stringMatching(/^\S+@\S+$/),
    });
  });

  it('prints parseable --json from the binary for the run and dead-letter commands', async () => {
    const backfill = await dualread('--json', 'backfill', 'status');
    expect(backfill.code).toBe(ExitCode.OK);
    expect(JSON.parse(backfill.stdout)).toMatchObject({
      migrationId: 'orders',
      progress: { totalSegments: 0 },
    });
    const dlq = await dualread('--json', 'dlq', 'list');
    expect(dlq.code).toBe(ExitCode.OK);
    expect(JSON.parse(dlq.stdout)).toMatchObject({ deadLetters: null, unresolvedKeys: { count: 0 } });
  });

  it('lets one of two concurrent advances win; the other exits 3 (conflict)', async () => {
    await pollerRunning();
    const codes = (await Promise.all([dualread('advance'), dualread('advance')])).map((r) => r.code).sort();
    // Both read LEGACY_ONLY and the guardrail met; one transaction wins. (Had one read after the
    // other's write, it would try SHADOW and be refused with 2 — so a 0 alone proves nothing.)
    expect(codes[0]).toBe(ExitCode.OK);
    expect([ExitCode.CONFLICT, ExitCode.GUARDRAIL_UNMET]).toContain(codes[1]);
    expect((await store.getState())?.phase).toBe(Phase.BACKFILLING);
  });

  it('prints parseable --json for every command, errors included, with the documented exit codes', async () => {
    const state = await store.getState();
    if (!state) throw new Error('state expected');
    await store.changeState(
      state,
      {
        ...state,
        backfill: { status: BackfillStatus.COMPLETE, completedAt: Date.now() - 60_000, unresolved: 0 },
      },
      {
        migrationId: 'orders',
        at: Date.now(),
        actor: 'test',
        action: 'backfill-complete',
        reason: 'fixture',
      },
      'fixture',
    );
    const cases: Array<[string[], number]> = [
      [['status'], ExitCode.OK],
      [['backfill', 'status'], ExitCode.OK],
      [['backfill', 'rate', '100', '--reason', 'e2e'], ExitCode.OK],
      [['backfill', 'rate', 'fast'], ExitCode.USAGE],
      [['verify', '--run-id', 'e2e'], ExitCode.RUN_FAILED], // the new table does not exist
      [['dlq', 'list'], ExitCode.OK],
      [['dlq', 'replay'], ExitCode.USAGE], // local mode: --body-file
      [['dlq', 'waive', '--key', '{"id":{"S":"x"}}'], ExitCode.USAGE], // no --reason
      [['dlq', 'pin', 'all'], ExitCode.USAGE], // no --reason
      [['dlq', 'pin', 'all', '--reason', 'cli test'], ExitCode.USAGE], // local mode: --body-file
      [['backfill', 'poison', 'list'], ExitCode.OK],
      [['backfill', 'poison', 'pin', 'all'], ExitCode.USAGE], // no --reason
      [['backfill', 'poison', 'pin', 'all', '--reason', 'cli test'], ExitCode.OK], // nothing unresolved
      [['advance', '--to', 'SHADOW'], ExitCode.OK],
      [['advance'], ExitCode.GUARDRAIL_UNMET],
      [['advance', '--force'], ExitCode.USAGE],
      [['advance', '--force', '--reason', 'cli test'], ExitCode.OK],
      [['rollout', '--percent', '30', '--reason', 'first cohort'], ExitCode.OK],
      [['rollout', '--percent', '300'], ExitCode.USAGE],
      [['settings', '--staleness-budget-ms', '8000', '--auto-rollback', 'off'], ExitCode.OK],
      [['approve', '--reason', 'CAB-9'], ExitCode.OK],
      [['audit', '--since', '1h'], ExitCode.OK],
      [['rollback', '--to', 'NEW_PRIMARY'], ExitCode.USAGE],
      [['rollback'], ExitCode.OK],
      [['--migration', 'nope', 'status'], ExitCode.NOT_FOUND],
      [['no-such-command'], ExitCode.USAGE],
    ];
    for (const [args, code] of cases) {
      const r = await inProcess('--json', ...args);
      expect({ args, code: r.code }).toEqual({ args, code });
      const doc = JSON.parse(r.stdout) as Record<string, unknown>;
      if (code !== ExitCode.OK)
        expect(doc.error).toMatchObject({ exitCode: code, message: expect.any(String) });
    }
    const status = JSON.parse((await inProcess('--json', 'status')).stdout) as {
      state: Record<string, unknown>;
      next: { to: string };
    };
    expect(status.state).toMatchObject({
      phase: 'SHADOW',
      rolloutPercent: 0,
      settings: { stalenessBudgetMs: 8000, autoRollback: false },
    });
    expect(status.next.to).toBe('DUAL_READ');
    const actions = (
      JSON.parse((await inProcess('--json', 'audit')).stdout) as { records: Array<{ action: string }> }
    ).records.map((r) => r.action);
    expect(actions.slice(-6)).toEqual([
      'advance',
      'advance-forced',
      'rollout',
      'settings',
      'approve',
      'rollback',
    ]);
  });
});
