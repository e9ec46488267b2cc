import fc from 'fast-check';
import {
  type AuditRecord,
  type ControlChange,
  ForceNeedsReasonError,
  GuardrailUnmetError,
  InvalidControlRequestError,
  type MigrationState,
  PHASE_ORDER,
  Phase,
  isAllowedMove,
  parsePhase,
  planAdvance,
  planAlarmRollback,
  planApproval,
  planRollback,
  planRollout,
  planSettings,
} from '../../../core/control';
import { DEFAULT_GUARDRAILS } from '../../../core/model';
import { NOW, metFacts, withState } from '../../helpers/control-facts';

const ctx = { actor: 'alice@laptop', now: NOW };

describe('Function: planAdvance', () => {
  it('moves one phase forward when every guardrail holds, audited with the guardrails', () => {
    const change = planAdvance(metFacts(Phase.DUAL_READ), DEFAULT_GUARDRAILS, {}, ctx);
    expect(change.state).toMatchObject({ phase: Phase.DUAL_READ, phaseSince: NOW, updatedBy: ctx.actor });
    expect(change.state).not.toHaveProperty('version');
    expect(change.audit).toMatchObject({
      action: 'advance',
      from: 'SHADOW',
      to: 'DUAL_READ',
      actor: ctx.actor,
    });
    expect(change.audit.detail?.guardrails).toBe(
      'verification-clean:met,shadow-mismatch-rate:met,dead-letters-empty:met',
    );
  });

  it('refuses with GuardrailUnmetError carrying every guardrail and the fix', () => {
    const facts = metFacts(Phase.DUAL_READ, { deadLetters: 3 });
    const err = (() => {
      try {
        planAdvance(facts, DEFAULT_GUARDRAILS, {}, ctx);
      } catch (e) {
        return e;
      }
      return undefined;
    })() as GuardrailUnmetError;
    expect(err).toBeInstanceOf(GuardrailUnmetError);
    expect(err.guardrails.map((g) => g.met)).toEqual([true, true, false]);
    expect(err.message).toMatch(
      /cannot advance from SHADOW to DUAL_READ: dead-letters-empty: 3 CDC record\(s\).*--force/,
    );
  });

  it('forces past an unmet guardrail only with a reason, audited as forced', () => {
    const facts = metFacts(Phase.DUAL_READ, { deadLetters: 3 });
    expect(() => planAdvance(facts, DEFAULT_GUARDRAILS, { force: true }, ctx)).toThrow(ForceNeedsReasonError);
    expect(() => planAdvance(facts, DEFAULT_GUARDRAILS, { force: true, reason: '  ' }, ctx)).toThrow(
      ForceNeedsReasonError,
    );
    const change = planAdvance(
      facts,
      DEFAULT_GUARDRAILS,
      { force: true, reason: 'records are test data' },
      ctx,
    );
    expect(change.audit).toMatchObject({ action: 'advance-forced', reason: 'records are test data' });
    expect(change.audit.detail).toMatchObject({
      forced: true,
      unmet: expect.stringMatching(/^dead-letters-empty: /),
    });
  });

  it('cannot force FINALIZED while CDC is enabled', () => {
    const facts = metFacts(Phase.FINALIZED, { cdcEnabled: true });
    expect(() => planAdvance(facts, DEFAULT_GUARDRAILS, { force: true, reason: 'hurry' }, ctx)).toThrow(
      /cdc-disabled: CDC is still enabled/,
    );
  });

  it.each([
    [Phase.SHADOW, Phase.NEW_PRIMARY, /one at a time; the next is DUAL_READ/],
    [Phase.SHADOW, Phase.BACKFILLING, /use `dualread rollback --to BACKFILLING`/],
    [Phase.FINALIZED, undefined, /FINALIZED: nothing to advance to/],
  ])('refuses to advance from %s to %s outside the graph', (from, to, message) => {
    const facts = withState(Phase.DUAL_READ, { phase: from });
    expect(() => planAdvance(facts, DEFAULT_GUARDRAILS, to ? { to } : {}, ctx)).toThrow(message);
  });

  it('clears approvals on a phase change (they are given for one ascent)', () => {
    const change = planAdvance(metFacts(Phase.NEW_PRIMARY), DEFAULT_GUARDRAILS, {}, ctx);
    expect(change.state.approvals).toBeUndefined();
  });
});

describe('Function: planRollback', () => {
  it.each([
    [Phase.NEW_PRIMARY, Phase.SHADOW],
    [Phase.DUAL_READ, Phase.SHADOW],
    [Phase.SHADOW, Phase.BACKFILLING],
    [Phase.BACKFILLING, Phase.LEGACY_ONLY],
  ])('goes from %s to the last safe phase %s by default, resetting the rollout', (from, to) => {
    const state = { ...metFacts(Phase.FINALIZED).state, phase: from, rolloutPercent: 100 };
    const change = planRollback(state, { reason: 'errors' }, ctx);
    expect(change.state).toMatchObject({ phase: to, rolloutPercent: 0 });
    expect(change.audit).toMatchObject({ action: 'rollback', from, to, reason: 'errors' });
  });

  it('goes to any earlier phase, never forward or sideways', () => {
    const state = { ...metFacts(Phase.FINALIZED).state, phase: Phase.NEW_PRIMARY };
    expect(planRollback(state, { to: Phase.LEGACY_ONLY }, ctx).state.phase).toBe(Phase.LEGACY_ONLY);
    expect(() => planRollback(state, { to: Phase.NEW_PRIMARY }, ctx)).toThrow(InvalidControlRequestError);
    expect(() => planRollback(state, { to: Phase.FINALIZED }, ctx)).toThrow(/use `dualread advance`/);
  });

  it('leaves FINALIZED only with --force and a reason', () => {
    const state = { ...metFacts(Phase.FINALIZED).state, phase: Phase.FINALIZED };
    expect(() => planRollback(state, { reason: 'x' }, ctx)).toThrow(ForceNeedsReasonError);
    expect(planRollback(state, { force: true, reason: 'reverse CDC set up' }, ctx).state.phase).toBe(
      Phase.NEW_PRIMARY,
    );
  });
});

describe('Function: planRollout, planSettings, planApproval', () => {
  const dual = { ...metFacts(Phase.NEW_PRIMARY).state, rolloutPercent: 10 };
  it('sets the rollout in DUAL_READ and restarts the soak clock', () => {
    const change = planRollout(dual, 50, 'ramp', ctx);
    expect(change.state).toMatchObject({ rolloutPercent: 50, rolloutSince: NOW });
    expect(change.audit).toMatchObject({ action: 'rollout', from: '10', to: '50' });
  });
  it.each([101, -1, 2.5, Number.NaN])('refuses rollout %s', (p) => {
    expect(() => planRollout(dual, p, '', ctx)).toThrow(/integer from 0 to 100/);
  });
  it('refuses raising the rollout outside DUAL_READ, allows lowering', () => {
    expect(() => planRollout({ ...dual, phase: Phase.SHADOW }, 10 + 1, '', ctx)).toThrow(
      /advance to DUAL_READ first/,
    );
    expect(planRollout({ ...dual, phase: Phase.SHADOW }, 0, '', ctx).state.rolloutPercent).toBe(0);
  });
  it('validates and merges read overrides', () => {
    const c = planSettings(dual, { stalenessBudgetMs: 10_000 }, { controlCacheMs: 1000 }, 'slower CDC', ctx);
    const c2 = planSettings(
      { ...dual, ...c.state, version: 1 },
      { shadowSampleRate: 0.5 },
      { controlCacheMs: 1000 },
      '',
      ctx,
    );
    expect(c2.state.settings).toEqual({ stalenessBudgetMs: 10_000, shadowSampleRate: 0.5 });
    expect(c2.audit).toMatchObject({ action: 'settings', detail: { shadowSampleRate: 0.5 } });
    expect(() => planSettings(dual, { stalenessBudgetMs: 500 }, { controlCacheMs: 1000 }, '', ctx)).toThrow(
      /must exceed the control cache/,
    );
    expect(() => planSettings(dual, { shadowSampleRate: 2 }, { controlCacheMs: 1000 }, '', ctx)).toThrow(
      /from 0 to 1/,
    );
    expect(() =>
      planSettings(dual, { defaultConsistency: 'new' }, { controlCacheMs: 1000 }, '', ctx),
    ).toThrow(/proves no freshness/);
    expect(() => planSettings(dual, {}, { controlCacheMs: 1000 }, '', ctx)).toThrow(/no setting given/);
  });
  it('records a named approval for a later phase, needing a reason', () => {
    const c = planApproval(dual, Phase.FINALIZED, 'CAB-7', ctx);
    expect(c.state.approvals).toContainEqual({
      phase: Phase.FINALIZED,
      actor: ctx.actor,
      at: NOW,
      reason: 'CAB-7',
    });
    expect(() => planApproval(dual, Phase.SHADOW, 'x', ctx)).toThrow(/already in DUAL_READ/);
    expect(() => planApproval(dual, Phase.FINALIZED, ' ', ctx)).toThrow(/needs --reason/);
  });
  it('parses phase names in any case', () => {
    expect(parsePhase('dual-read')).toBe(Phase.DUAL_READ);
    expect(() => parsePhase('DONE')).toThrow(/unknown phase "DONE": use one of LEGACY_ONLY/);
  });
});

describe('Function: planAlarmRollback', () => {
  const alarm = { alarmName: 'users-read-5xx', state: 'ALARM', at: NOW - 1000, reason: 'threshold crossed' };
  it.each([Phase.DUAL_READ, Phase.NEW_PRIMARY])(
    'rolls %s back to SHADOW with the alarm as actor',
    (phase) => {
      const state = { ...metFacts(Phase.FINALIZED).state, phase };
      const { change } = planAlarmRollback(state, alarm, DEFAULT_GUARDRAILS, { now: NOW });
      expect(change?.state.phase).toBe(Phase.SHADOW);
      expect(change?.audit).toMatchObject({
        actor: 'alarm:users-read-5xx',
        action: 'auto-rollback',
        to: 'SHADOW',
      });
    },
  );
  it.each<[string, Partial<MigrationState>, typeof alarm, boolean, RegExp]>([
    ['repeat alarm in SHADOW', { phase: Phase.SHADOW }, alarm, true, /SHADOW is not rolled back/],
    ['OK state', { phase: Phase.DUAL_READ }, { ...alarm, state: 'OK' }, true, /is OK, not ALARM/],
    ['off in the definition', { phase: Phase.DUAL_READ }, alarm, false, /automatic rollback is off/],
    ['off by override', { phase: Phase.DUAL_READ, settings: { autoRollback: false } }, alarm, true, /is off/],
  ])('does nothing on %s', (_c, patch, a, enabled, why) => {
    const state = { ...metFacts(Phase.FINALIZED).state, ...patch };
    const out = planAlarmRollback(state, a, { ...DEFAULT_GUARDRAILS, autoRollback: enabled }, { now: NOW });
    expect(out.change).toBeUndefined();
    expect(out.skipped).toMatch(why);
  });
});

describe('Property: any sequence of control actions', () => {
  type Action =
    | { kind: 'advance'; met: boolean; force: boolean; reason: string }
    | { kind: 'rollback'; to: number }
    | { kind: 'rollout'; percent: number }
    | { kind: 'approve'; phase: number }
    | { kind: 'alarm' };
  const action: fc.Arbitrary<Action> = fc.oneof(
    fc.record({
      kind: fc.constant('advance' as const),
      met: fc.boolean(),
      force: fc.boolean(),
      reason: fc.constantFrom('', 'ok'),
    }),
    fc.record({ kind: fc.constant('rollback' as const), to: fc.integer({ min: -1, max: 5 }) }),
    fc.record({ kind: fc.constant('rollout' as const), percent: fc.integer({ min: -5, max: 105 }) }),
    fc.record({ kind: fc.constant('approve' as const), phase: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ kind: fc.constant('alarm' as const) }),
  );

  it('keeps the phase inside the graph and audits every change exactly once', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 40 }), (actions) => {
        let state: MigrationState = { ...metFacts(Phase.BACKFILLING).state, approvals: [] };
        const audit: AuditRecord[] = [];
        for (const [i, a] of actions.entries()) {
          const at = { actor: `op${i}`, now: NOW + i };
          const next = PHASE_ORDER[PHASE_ORDER.indexOf(state.phase) + 1];
          let change: ControlChange | undefined;
          try {
            if (a.kind === 'advance') {
              const facts = next ? metFacts(next) : metFacts(Phase.FINALIZED);
              const f = a.met
                ? facts
                : { ...facts, deadLetters: 1, cdcEnabled: true, backfillComplete: false };
              change = planAdvance(
                { ...f, state },
                DEFAULT_GUARDRAILS,
                { force: a.force, reason: a.reason },
                at,
              );
            } else if (a.kind === 'rollback') {
              change = planRollback(state, a.to >= 0 ? { to: PHASE_ORDER[a.to] } : {}, at);
            } else if (a.kind === 'rollout') change = planRollout(state, a.percent, '', at);
            else if (a.kind === 'approve')
              change = planApproval(state, PHASE_ORDER[a.phase] as Phase, 'ok', at);
            else
              change = planAlarmRollback(
                state,
                { alarmName: 'a', state: 'ALARM', at: at.now },
                DEFAULT_GUARDRAILS,
                at,
              ).change;
          } catch (e) {
            expect(
              [GuardrailUnmetError, ForceNeedsReasonError, InvalidControlRequestError].some(
                (c) => e instanceof c,
              ),
            ).toBe(true);
          }
          if (!change) continue;
          expect(change.audit.actor).toBe(a.kind === 'alarm' ? 'alarm:a' : at.actor);
          if (change.state.phase !== state.phase) {
            expect(isAllowedMove(state.phase, change.state.phase)).toBe(true);
            expect(change.audit).toMatchObject({ from: state.phase, to: change.state.phase });
          }
          if (change.audit.action === 'advance-forced') expect(change.audit.reason).not.toBe('');
          if (PHASE_ORDER.indexOf(change.state.phase) < PHASE_ORDER.indexOf(Phase.DUAL_READ))
            expect(change.state.rolloutPercent).toBe(0);
          audit.push(change.audit);
          state = { ...change.state, version: state.version + 1 };
        }
        // Complete: replaying the phase-changing audit records from the start yields the final phase.
        const replayed = audit.reduce<string>((p, r) => (r.to && r.from === p ? r.to : p), Phase.LEGACY_ONLY);
        expect(replayed).toBe(state.phase);
        expect(state.version - metFacts(Phase.BACKFILLING).state.version).toBe(audit.length);
      }),
    );
  });
});
