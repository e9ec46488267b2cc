import {
  BackfillStatus,
  type MigrationFacts,
  Phase,
  consecutiveCleanVerifications,
  guardrailsFor,
} from '../../../core/control';
import { DEFAULT_GUARDRAILS } from '../../../core/model';
import { HOUR, NOW, metFacts, withState } from '../../helpers/control-facts';

const unmet = (to: Phase, facts: MigrationFacts, settings = DEFAULT_GUARDRAILS) =>
  guardrailsFor(to, facts, settings).filter((g) => !g.met);

describe('Function: guardrailsFor', () => {
  it('refuses FINALIZED only while a key is pinned to legacy, not forcibly; no other phase looks at pins', () => {
    const pinned = { pins: { keys: ['a1'], partitions: ['p1'] } };
    const finalized = guardrailsFor(Phase.FINALIZED, withState(Phase.FINALIZED, pinned), DEFAULT_GUARDRAILS);
    expect(finalized.find((g) => g.id === 'no-pinned-keys')).toMatchObject({ met: false, forcible: false });
    expect(unmet(Phase.FINALIZED, withState(Phase.FINALIZED, {}))).toEqual([]);
    for (const to of [Phase.SHADOW, Phase.DUAL_READ, Phase.NEW_PRIMARY])
      expect(unmet(to, withState(to, pinned))).toEqual([]);
  });

  it.each([Phase.BACKFILLING, Phase.SHADOW, Phase.DUAL_READ, Phase.NEW_PRIMARY, Phase.FINALIZED])(
    'meets every guardrail of entering %s when the facts hold, each with a reason',
    (to) => {
      const all = guardrailsFor(to, metFacts(to), DEFAULT_GUARDRAILS);
      expect(all.length).toBeGreaterThan(0);
      expect(all.filter((g) => !g.met)).toEqual([]);
      for (const g of all) expect(g.reason.length).toBeGreaterThan(10);
    },
  );

  // Every transition × every fact it reads: breaking the fact leaves exactly that guardrail unmet.
  it.each<[string, Phase, MigrationFacts, string | string[], RegExp]>([
    [
      'CDC not consuming',
      Phase.BACKFILLING,
      withState(Phase.BACKFILLING, { cdcConsumingSince: undefined }),
      'cdc-consuming',
      /start the poller/,
    ],
    [
      'CDC check says not consuming',
      Phase.BACKFILLING,
      metFacts(Phase.BACKFILLING, {
        cdc: { consuming: false, reason: 'the poller heartbeat is 40 s old: start it' },
      }),
      'cdc-consuming',
      /heartbeat is 40 s old/,
    ],
    [
      'backfill not started',
      Phase.SHADOW,
      withState(
        Phase.SHADOW,
        { backfill: { status: BackfillStatus.NOT_STARTED } },
        { backfillComplete: false },
      ),
      'backfill-complete',
      /dualread backfill start/,
    ],
    [
      'backfill running',
      Phase.SHADOW,
      withState(
        Phase.SHADOW,
        { backfill: { status: BackfillStatus.RUNNING, copied: 7 } },
        { backfillComplete: false },
      ),
      'backfill-complete',
      /running \(7 copied\)/,
    ],
    [
      'backfill failed',
      Phase.SHADOW,
      withState(Phase.SHADOW, { backfill: { status: BackfillStatus.FAILED } }, { backfillComplete: false }),
      'backfill-complete',
      /backfill resume/,
    ],
    [
      'poison unresolved',
      Phase.SHADOW,
      withState(
        Phase.SHADOW,
        { backfill: { status: BackfillStatus.COMPLETE_WITH_POISON, unresolved: 3 } },
        { backfillComplete: false, poison: 3 },
      ),
      'backfill-complete',
      /3 backfill key\(s\) unresolved/,
    ],
    [
      'no verification',
      Phase.DUAL_READ,
      metFacts(Phase.DUAL_READ, { verifications: [] }),
      'verification-clean',
      /no verification has run/,
    ],
    [
      'verification before backfill completed',
      Phase.DUAL_READ,
      metFacts(Phase.DUAL_READ, {
        verifications: [{ runId: 'v0', status: 'COMPLETE', startedAt: NOW - 6 * HOUR, clean: true }],
      }),
      'verification-clean',
      /last clean verification started before backfill completed: run `dualread verify`/,
    ],
    [
      'verification found drift',
      Phase.DUAL_READ,
      metFacts(Phase.DUAL_READ, {
        verifications: [{ runId: 'v3', status: 'COMPLETE', startedAt: NOW - HOUR, clean: false }],
      }),
      'verification-clean',
      /found differences/,
    ],
    [
      'verification failed',
      Phase.DUAL_READ,
      metFacts(Phase.DUAL_READ, {
        verifications: [{ runId: 'v3', status: 'FAILED', startedAt: NOW - HOUR, clean: false }],
      }),
      'verification-clean',
      /failed/,
    ],
    [
      'too few comparisons',
      Phase.DUAL_READ,
      metFacts(Phase.DUAL_READ, {
        shadow: { since: NOW - HOUR, byClass: { match: 999, 'within-lag': 5000 } },
      }),
      'shadow-mismatch-rate',
      /999 shadow comparisons .* 1000 needed/,
    ],
    [
      'mismatch rate over 0.1 %',
      Phase.DUAL_READ,
      metFacts(Phase.DUAL_READ, {
        shadow: {
          since: NOW - HOUR,
          byClass: { match: 996, missing: 1, extra: 1, unmappable: 1, content: 1 },
        },
      }),
      'shadow-mismatch-rate',
      /0\.400 % mismatches \(4\/1000\)/,
    ],
    [
      'dead letters waiting',
      Phase.DUAL_READ,
      metFacts(Phase.DUAL_READ, { deadLetters: 2 }),
      'dead-letters-empty',
      /2 CDC record\(s\) dead-lettered/,
    ],
    [
      'dead-letter depth unknown',
      Phase.DUAL_READ,
      metFacts(Phase.DUAL_READ, { deadLetters: undefined }),
      'dead-letters-empty',
      /could not be read/,
    ],
    [
      'rollout under 100',
      Phase.NEW_PRIMARY,
      withState(Phase.NEW_PRIMARY, { rolloutPercent: 50 }),
      ['rollout-100', 'soak'],
      /rollout --percent 100/,
    ],
    [
      'soak too short',
      Phase.NEW_PRIMARY,
      withState(Phase.NEW_PRIMARY, { rolloutSince: NOW - 14 * 60_000 }),
      'soak',
      /14 min at 100 % rollout, 15 min needed/,
    ],
    [
      'frontier lag over budget',
      Phase.NEW_PRIMARY,
      metFacts(Phase.NEW_PRIMARY, {
        frontier: { migrationId: 'users', frontier: NOW - 10_000, computedAt: NOW, shards: [], version: 1 },
      }),
      'frontier-lag',
      /frontier lag 11\.0 s over 5\.0 s/,
    ],
    [
      'no frontier yet',
      Phase.NEW_PRIMARY,
      metFacts(Phase.NEW_PRIMARY, { frontier: undefined }),
      'frontier-lag',
      /no frontier published yet/,
    ],
    [
      'one clean verification of two',
      Phase.NEW_PRIMARY,
      metFacts(Phase.NEW_PRIMARY, {
        verifications: [
          { runId: 'v2', status: 'COMPLETE', startedAt: NOW - HOUR, clean: true },
          { runId: 'v1', status: 'COMPLETE', startedAt: NOW - 2 * HOUR, clean: false },
        ],
      }),
      'clean-verifications',
      /1 of 2 consecutive clean/,
    ],
    [
      'no approval',
      Phase.NEW_PRIMARY,
      withState(Phase.NEW_PRIMARY, { approvals: [] }),
      'approval',
      /dualread approve --phase NEW_PRIMARY/,
    ],
    [
      'approval for another phase',
      Phase.NEW_PRIMARY,
      withState(Phase.NEW_PRIMARY, {
        approvals: [{ phase: Phase.FINALIZED, actor: 'a', at: NOW, reason: 'r' }],
      }),
      'approval',
      /needs a named approval/,
    ],
    [
      'dead letters in NEW_PRIMARY',
      Phase.NEW_PRIMARY,
      metFacts(Phase.NEW_PRIMARY, { deadLetters: 1 }),
      'dead-letters-empty',
      /dlq list/,
    ],
    [
      'NEW_PRIMARY soak too short',
      Phase.FINALIZED,
      withState(Phase.FINALIZED, { phaseSince: NOW - 60_000 }),
      'soak',
      /1 min in NEW_PRIMARY/,
    ],
    [
      'CDC still enabled',
      Phase.FINALIZED,
      metFacts(Phase.FINALIZED, { cdcEnabled: true }),
      'cdc-disabled',
      /dualread cutover/,
    ],
    [
      'CDC state unknown',
      Phase.FINALIZED,
      metFacts(Phase.FINALIZED, { cdcEnabled: undefined }),
      'cdc-disabled',
      /unknown state/,
    ],
    [
      'keys pinned to legacy',
      Phase.FINALIZED,
      withState(Phase.FINALIZED, { pins: { keys: ['a1', 'b2', 'c3'], partitions: ['p1', 'p2'] } }),
      'no-pinned-keys',
      /3 key\(s\) pinned to legacy.*poison retry.*remove the item from legacy.*dlq waive/,
    ],
    [
      'no FINALIZED approval',
      Phase.FINALIZED,
      withState(Phase.FINALIZED, { approvals: [] }),
      'approval',
      /approve --phase FINALIZED/,
    ],
    [
      'dirty verification in NEW_PRIMARY',
      Phase.FINALIZED,
      metFacts(Phase.FINALIZED, {
        verifications: [{ runId: 'v9', status: 'COMPLETE', startedAt: NOW - 60_000, clean: false }],
      }),
      'clean-verifications',
      /verify --repair/,
    ],
  ])(
    'entering %s … (%s) leaves only that guardrail unmet (a rollout under 100 % also has no soak)',
    (_case, to, facts, id, reason) => {
      const out = unmet(to, facts);
      expect(out.map((g) => g.id)).toEqual([id].flat());
      expect(out[0]?.reason).toMatch(reason);
    },
  );

  it('excludes lag-explained comparisons from the rate and from the count', () => {
    const facts = metFacts(Phase.DUAL_READ, {
      shadow: { since: NOW - HOUR, byClass: { match: 1000, 'within-lag': 900 } },
    });
    const g = guardrailsFor(Phase.DUAL_READ, facts, DEFAULT_GUARDRAILS).find(
      (x) => x.id === 'shadow-mismatch-rate',
    );
    expect(g).toMatchObject({ met: true });
    expect(g?.reason).toMatch(/0\.000 % mismatches over 1000 comparisons .*900 lag-explained excluded/);
  });

  it('honours a team’s overrides from its definition', () => {
    const facts = metFacts(Phase.NEW_PRIMARY, { shadow: { since: 0, byClass: {} } });
    const strict = {
      ...DEFAULT_GUARDRAILS,
      soakMs: 3 * HOUR,
      cleanVerifications: 3,
      maxFrontierLagMs: 100,
      approvalFor: [],
    };
    expect(unmet(Phase.NEW_PRIMARY, facts, strict).map((g) => g.id)).toEqual([
      'soak',
      'frontier-lag',
      'clean-verifications',
    ]);
    const lax = { ...DEFAULT_GUARDRAILS, shadowMinComparisons: 0, shadowMaxMismatchRate: 0.5 };
    expect(
      unmet(
        Phase.DUAL_READ,
        metFacts(Phase.DUAL_READ, { shadow: { since: 0, byClass: { match: 1, content: 1 } } }),
        lax,
      ),
    ).toEqual([]);
  });

  it('lets every guardrail be forced except cdc-disabled and no-pinned-keys (new would answer keys it does not hold)', () => {
    const all = guardrailsFor(
      Phase.FINALIZED,
      metFacts(Phase.FINALIZED, { cdcEnabled: true }),
      DEFAULT_GUARDRAILS,
    );
    expect(all.filter((g) => !g.forcible).map((g) => g.id)).toEqual(['no-pinned-keys', 'cdc-disabled']);
  });
});

describe('Function: consecutiveCleanVerifications', () => {
  it('counts clean finished runs newest first, skipping a running one and stopping at the first dirty one', () => {
    const facts = metFacts(Phase.NEW_PRIMARY, {
      verifications: [
        { runId: 'a', status: 'COMPLETE', startedAt: NOW - 3 * HOUR, clean: true },
        { runId: 'r', status: 'RUNNING', startedAt: NOW - 60_000, clean: false },
        { runId: 'b', status: 'COMPLETE', startedAt: NOW - HOUR, clean: true },
        { runId: 'c', status: 'COMPLETE', startedAt: NOW - 4 * HOUR, clean: false },
        { runId: 'd', status: 'COMPLETE', startedAt: NOW - 4.5 * HOUR, clean: true },
      ],
    });
    expect(consecutiveCleanVerifications(facts)).toBe(2);
  });
});
