/**
 * `MigrationFacts` in which every guardrail of entering `to` is met (so a test breaks one fact at a
 * time), and the default guardrail settings.
 */
import {
  BackfillStatus,
  type MigrationFacts,
  type MigrationState,
  Phase,
  PHASE_ORDER,
  initialState,
} from '../../core/control';
import { DEFAULT_GUARDRAILS } from '../../core/model';

export const NOW = Date.parse('2026-12-04T12:00:00Z');
export const HOUR = 3_600_000;

/** The phase before `to` (LEGACY_ONLY for LEGACY_ONLY). */
export function phaseBefore(to: Phase): Phase {
  return PHASE_ORDER[Math.max(0, PHASE_ORDER.indexOf(to) - 1)] ?? Phase.LEGACY_ONLY;
}

/** Facts in the phase before `to`, with every guardrail of entering `to` met. */
export function metFacts(to: Phase, patch: Partial<MigrationFacts> = {}): MigrationFacts {
  const from = phaseBefore(to);
  const base = initialState('users', 0, NOW - 10 * HOUR);
  const state: MigrationState = {
    ...base,
    phase: from,
    phaseSince: NOW - 2 * HOUR,
    rolloutPercent: from === Phase.DUAL_READ || from === Phase.NEW_PRIMARY ? 100 : 0,
    rolloutSince: NOW - 2 * HOUR,
    cdcConsumingSince: NOW - 9 * HOUR,
    backfill: { status: BackfillStatus.COMPLETE, completedAt: NOW - 5 * HOUR, copied: 10, unresolved: 0 },
    approvals: DEFAULT_GUARDRAILS.approvalFor.includes(to)
      ? [{ phase: to, actor: 'alice@host', at: NOW - 60_000, reason: 'change ticket 42' }]
      : [],
    version: 7,
  };
  return {
    now: NOW,
    state,
    frontier: { migrationId: 'users', frontier: NOW - 500, computedAt: NOW, shards: [], version: 3 },
    backfillComplete: true,
    verifications: [
      { runId: 'v2', status: 'COMPLETE', startedAt: NOW - 2 * HOUR, completedAt: NOW - HOUR, clean: true },
      {
        runId: 'v1',
        status: 'COMPLETE',
        startedAt: NOW - 4 * HOUR,
        completedAt: NOW - 3 * HOUR,
        clean: true,
      },
    ],
    shadow: { since: NOW - HOUR, byClass: { match: 5000, content: 2, 'within-lag': 40 } },
    deadLetters: 0,
    poison: 0,
    cdcEnabled: to === Phase.FINALIZED ? false : true,
    stalenessBudgetMs: 5000,
    clockSkewMs: 1000,
    ...patch,
  };
}

/** `metFacts(to)` with its STATE patched. */
export function withState(
  to: Phase,
  patch: Partial<MigrationState>,
  facts: Partial<MigrationFacts> = {},
): MigrationFacts {
  const f = metFacts(to, facts);
  return { ...f, state: { ...f.state, ...patch } };
}
