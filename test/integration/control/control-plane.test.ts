import { ControlPlane, ControlConflictError, GuardrailUnmetError } from '../../../adapters/control-plane';
import { ControlStore } from '../../../adapters/control-store';
import { ControlTableFacts, type FactsPorts } from '../../../adapters/migration-facts';
import { ShadowCounters } from '../../../adapters/shadow-counters';
import { CONTROL_TABLE_KEY, createTable } from '../../../adapters/tables';
import {
  BackfillStatus,
  ControlKey,
  InvalidAlarmEventError,
  type MigrationState,
  Phase,
  initialState,
} from '../../../core/control';
import { makeControlHandler } from '../../../lambdas/control/handler';
import { defineMigration } from '../../../core/model';
import { testClient, uniqueName } from '../../helpers/dynamo';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const consumingPorts: FactsPorts = {
  cdcStatus: { check: () => Promise.resolve({ consuming: true, reason: 'consuming' }) },
};
const staleCdcPorts: FactsPorts = {
  cdcStatus: {
    check: () => Promise.resolve({ consuming: false, reason: 'poller heartbeat stale: start it' }),
  },
};

describe('Class: ControlPlane (DynamoDB Local)', () => {
  const client = testClient();
  const table = uniqueName('control');
  let n = 0;

  beforeAll(() => createTable(client, table, CONTROL_TABLE_KEY));
  afterAll(() => client.destroy());

  /** A fresh migration id (its own partition) with STATE in `phase`. */
  async function setup(phase?: Phase, patch: Partial<MigrationState> = {}, consuming = true) {
    n += 1;
    const id = `m${n}`;
    const migration = defineMigration({
      id,
      legacyTable: { tableName: 'legacy', key: { partitionKey: { name: 'id', type: 'S' } } },
      newTable: { tableName: 'new', key: { partitionKey: { name: 'id', type: 'S' } } },
    });
    const store = new ControlStore(client, table, id);
    if (phase)
      await store.changeState(
        undefined,
        { ...initialState(id, 0, NOW), phase, ...patch },
        { migrationId: id, at: NOW - 1, actor: 'setup', action: 'setup', reason: 'test' },
        'setup',
      );
    const plane = (actor: string) =>
      new ControlPlane({
        store,
        migration,
        actor,
        now: () => NOW,
        ports: consuming ? consumingPorts : staleCdcPorts,
      });
    return { id, store, plane };
  }

  it('refuses an advance with the guardrail’s reason, then advances once the fact holds, audited', async () => {
    const refused = await setup(undefined, {}, false);
    const err = await refused
      .plane('alice@host')
      .advance()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuardrailUnmetError);
    expect((err as GuardrailUnmetError).guardrails).toEqual([
      { id: 'cdc-consuming', met: false, reason: 'poller heartbeat stale: start it', forcible: true },
    ]);
    expect(await refused.store.getState()).toBeUndefined();

    const { store, plane } = await setup();
    const out = await plane('alice@host').advance({ to: Phase.BACKFILLING });
    expect(out.state).toMatchObject({
      phase: Phase.BACKFILLING,
      version: 1,
      phaseSince: NOW,
      updatedBy: 'alice@host',
    });
    expect(await store.getState()).toEqual(out.state);
    expect(await plane('x').audit()).toEqual([
      expect.objectContaining({
        actor: 'alice@host',
        action: 'advance',
        from: 'LEGACY_ONLY',
        to: 'BACKFILLING',
      }),
    ]);
  });

  it('lets exactly one of two concurrent advances win; the other gets ControlConflictError', async () => {
    const { store, plane } = await setup(Phase.LEGACY_ONLY);
    // Both read their facts before either writes (a barrier), so the race is the one under test every
    // time: under load the second could otherwise read the winner's STATE and plan the next phase.
    const reader = plane('reader');
    let arrived = 0;
    let release: () => void = () => undefined;
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    const racer = (actor: string) =>
      new ControlPlane({
        store,
        migration: reader.migration,
        actor,
        now: () => NOW,
        facts: {
          read: async () => {
            const facts = await new ControlTableFacts(
              store,
              reader.migration,
              () => NOW,
              consumingPorts,
            ).read();
            arrived += 1;
            if (arrived === 2) release();
            await bothRead;
            return facts;
          },
        },
      });
    const results = await Promise.allSettled([racer('a@h').advance(), racer('b@h').advance()]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(ControlConflictError);
    expect(await plane('x').audit()).toHaveLength(2); // setup + the winner
  });

  it('reads the read path’s SHADOW# counters and the VERIFY# reports as the SHADOW guardrail’s facts', async () => {
    const { id, store, plane } = await setup(Phase.SHADOW, {
      backfill: { status: BackfillStatus.COMPLETE, completedAt: NOW - 3_600_000, unresolved: 0 },
    });
    const counters = new ShadowCounters(client, table, id);
    for (let i = 0; i < 1200; i += 1)
      counters.record(i % 400 === 0 ? 'content' : 'match', NOW - (i % 3) * 60_000);
    for (let i = 0; i < 50; i += 1) counters.record('within-lag', NOW);
    await counters.drain();
    expect(counters.dropped).toBe(0);
    await store.putUnversioned(ControlKey.verify('r1'), {
      runId: 'r1',
      status: 'COMPLETE',
      startedAt: NOW - 600_000,
      clean: true,
    });
    await store.putUnversioned(ControlKey.FRONTIER, {
      migrationId: id,
      frontier: NOW,
      computedAt: NOW,
      shards: [],
      version: 1,
    });

    const status = await plane('a@h').status();
    expect(status.facts.shadow.byClass).toEqual({ match: 1197, content: 3, 'within-lag': 50 });
    expect(status.shadow).toEqual({ compared: 1200, mismatches: 3, withinLag: 50 });
    expect(status.next?.to).toBe(Phase.DUAL_READ);
    expect(status.next?.guardrails.map((g) => [g.id, g.met])).toEqual([
      ['verification-clean', true],
      ['shadow-mismatch-rate', false],
      ['legacy-indexes-covered', true],
      ['dead-letters-empty', true],
    ]);
    expect(status.next?.guardrails[1]?.reason).toMatch(/0\.250 % mismatches \(3\/1200\)/);
  });

  it('rolls back on an alarm with the alarm as actor, once, however often the alarm repeats', async () => {
    const { plane, store } = await setup(Phase.DUAL_READ, { rolloutPercent: 25 });
    const alarm = { alarmName: 'users-read-5xx', state: 'ALARM', at: NOW - 5000, reason: 'errors' };
    const outcomes = await Promise.all([
      plane('x').onAlarm(alarm),
      plane('x').onAlarm(alarm),
      plane('x').onAlarm(alarm),
    ]);
    expect(outcomes.filter((o) => o.rolledBack)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.rolledBack).map((o) => o.skipped)).toEqual([
      expect.stringMatching(/SHADOW is not rolled back/),
      expect.stringMatching(/SHADOW is not rolled back/),
    ]);
    expect(await store.getState()).toMatchObject({ phase: Phase.SHADOW, rolloutPercent: 0 });
    const audit = await plane('x').audit({ since: NOW });
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'alarm:users-read-5xx',
        action: 'auto-rollback',
        from: 'DUAL_READ',
        to: 'SHADOW',
      }),
    ]);
  });

  it('audits rollout, settings and approvals, and lists audit records since a time', async () => {
    const { plane } = await setup(Phase.DUAL_READ);
    await plane('a@h').setRollout(10, 'first cohort');
    await plane('a@h').setSettings({ stalenessBudgetMs: 8000 }, 'slow CDC');
    const approved = await plane('b@h').approve(Phase.NEW_PRIMARY, 'CAB-1');
    expect(approved.state).toMatchObject({
      rolloutPercent: 10,
      settings: { stalenessBudgetMs: 8000 },
      version: 4,
    });
    expect(approved.state.approvals).toEqual([
      { phase: Phase.NEW_PRIMARY, actor: 'b@h', at: NOW, reason: 'CAB-1' },
    ]);
    expect((await plane('x').audit({ since: NOW })).map((r) => r.action).sort()).toEqual([
      'approve',
      'rollout',
      'settings',
    ]);
    expect((await plane('x').audit()).map((r) => r.action)).toContain('setup');
  });
});

describe('Lambda: control (DynamoDB Local)', () => {
  const client = testClient();
  const table = uniqueName('control-fn');
  beforeAll(() => createTable(client, table, CONTROL_TABLE_KEY));
  afterAll(() => client.destroy());

  it('rolls the migration back on an EventBridge alarm event, audited with the alarm as actor, once', async () => {
    const migration = defineMigration({
      id: 'orders',
      legacyTable: { tableName: 'legacy', key: { partitionKey: { name: 'id', type: 'S' } } },
      newTable: { tableName: 'new', key: { partitionKey: { name: 'id', type: 'S' } } },
    });
    const store = new ControlStore(client, table, 'orders');
    await store.changeState(
      undefined,
      { ...initialState('orders', 0, NOW), phase: Phase.NEW_PRIMARY, rolloutPercent: 100 },
      { migrationId: 'orders', at: NOW - 1, actor: 'setup', action: 'setup', reason: 'test' },
      'setup',
    );
    const logged: string[] = [];
    const handler = makeControlHandler({
      plane: new ControlPlane({ store, migration, actor: 'control-lambda', now: () => NOW }),
      log: (m) => logged.push(m),
    });
    const event = {
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      time: '2026-12-04T11:59:00Z',
      resources: ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:orders-late-records'],
      detail: {
        alarmName: 'orders-late-records',
        state: {
          value: 'ALARM',
          reason: 'Threshold Crossed: 1 datapoint [1.0] >= 1',
          timestamp: '2026-12-04T11:59:00.000+0000',
        },
        previousState: { value: 'OK' },
      },
    };

    expect(await handler(event)).toEqual({ alarm: 'orders-late-records', rolledBack: true, phase: 'SHADOW' });
    expect(await handler(event)).toMatchObject({
      rolledBack: false,
      skipped: expect.stringMatching(/SHADOW/),
    });
    expect(logged).toEqual(['alarm rolled the migration back', 'alarm changed nothing']);
    const audit = await store.listAudit();
    expect(audit.filter((r) => r.action === 'auto-rollback')).toEqual([
      expect.objectContaining({
        actor: 'alarm:orders-late-records',
        from: 'NEW_PRIMARY',
        to: 'SHADOW',
        reason: 'alarm orders-late-records: Threshold Crossed: 1 datapoint [1.0] >= 1',
      }),
    ]);
    await expect(handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' })).rejects.toThrow(
      InvalidAlarmEventError,
    );
  });
});
