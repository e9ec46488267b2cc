/**
 * The phase machine (docs/design.md §5), pure: given the current STATE (and, for a forward move, the
 * facts and guardrail settings), each operator action yields the next STATE and its AUDIT record, or a
 * named error. The adapter (adapters/control-plane.ts) writes both in one versioned transaction.
 *
 * - Forward moves go one phase at a time, only when every guardrail holds, or with `force` and a
 *   reason (audited as forced, with the unmet guardrails named). `cdc-disabled` cannot be forced.
 * - Rollback to any earlier phase is always allowed and immediate; the default target is the last
 *   safe phase (`safeRollbackTarget`). Leaving FINALIZED needs `force`: CDC is off by then, so legacy
 *   no longer receives what applications write.
 * - Rolling back below DUAL_READ resets the rollout to 0 %, so a later advance never serves new to a
 *   cohort nobody chose again. Every phase change clears approvals (they are given for one ascent).
 *
 * Size (just over 400 lines): every operator action on the phase, beside the others, so the moves
 * allowed and refused read as one table.
 */
import {
  type ConsistencyMode,
  DEFAULT_GUARDRAILS,
  type GuardrailSettings,
  type ReadSettings,
} from '../model';
import { ForceNeedsReasonError, GuardrailUnmetError, InvalidControlRequestError } from './errors';
import type { MigrationFacts } from './facts';
import { type Guardrail, guardrailsFor } from './guardrails';
import { type AuditRecord, type ControlOverrides, type MigrationState, PHASE_ORDER, Phase } from './state';

/** A change the control plane writes: the next STATE (version set by the store) and its audit record. */
export interface ControlChange {
  readonly state: Omit<MigrationState, 'version'>;
  readonly audit: AuditRecord;
  /** The guardrails evaluated for a forward move (all met, or forced). */
  readonly guardrails?: readonly Guardrail[];
}

/** Who makes a change and when. */
export interface ChangeContext {
  readonly actor: string;
  readonly now: number;
}

const rank = (p: Phase): number => PHASE_ORDER.indexOf(p);

/** Parses a phase name (any case); throws `InvalidControlRequestError` naming the phases. */
export function parsePhase(name: string): Phase {
  const p = name.toUpperCase().replace(/-/g, '_');
  if ((PHASE_ORDER as readonly string[]).includes(p)) return p as Phase;
  throw new InvalidControlRequestError(`unknown phase "${name}": use one of ${PHASE_ORDER.join(', ')}`);
}

/** The phase after `p`, or undefined for FINALIZED. */
export function nextPhase(p: Phase): Phase | undefined {
  return PHASE_ORDER[rank(p) + 1];
}

/** Where a rollback goes by default: DUAL_READ and NEW_PRIMARY → SHADOW, otherwise one phase back. */
export function safeRollbackTarget(p: Phase): Phase | undefined {
  if (p === Phase.DUAL_READ || p === Phase.NEW_PRIMARY) return Phase.SHADOW;
  if (p === Phase.FINALIZED) return Phase.NEW_PRIMARY;
  return PHASE_ORDER[rank(p) - 1];
}

/** Moves allowed by the graph: one step forward, or any step back. */
export function isAllowedMove(from: Phase, to: Phase): boolean {
  return rank(to) === rank(from) + 1 || rank(to) < rank(from);
}

function withPhase(state: MigrationState, to: Phase, ctx: ChangeContext): Omit<MigrationState, 'version'> {
  const { version: _v, approvals: _a, ...rest } = state;
  const resetRollout = rank(to) < rank(Phase.DUAL_READ) && state.rolloutPercent !== 0;
  return {
    ...rest,
    phase: to,
    phaseSince: ctx.now,
    ...(resetRollout ? { rolloutPercent: 0, rolloutSince: ctx.now } : {}),
    updatedAt: ctx.now,
    updatedBy: ctx.actor,
  };
}

/** A change of STATE by `patch`, stamped with who and when, with its audit record. */
export function audited(
  state: MigrationState,
  patch: Partial<Omit<MigrationState, 'version'>>,
  ctx: ChangeContext,
  audit: Omit<AuditRecord, 'migrationId' | 'at' | 'actor'>,
): ControlChange {
  const { version: _v, ...rest } = state;
  return {
    state: { ...rest, ...patch, updatedAt: ctx.now, updatedBy: ctx.actor },
    audit: { migrationId: state.migrationId, at: ctx.now, actor: ctx.actor, ...audit },
  };
}

/** Options of `planAdvance`. */
export interface AdvanceOptions {
  /** The phase expected next (a check: advancing goes one phase at a time). */
  readonly to?: Phase;
  readonly force?: boolean;
  readonly reason?: string;
}

/** The guardrails of the next forward move from the facts' phase (empty in FINALIZED). */
export function evaluateAdvance(
  facts: MigrationFacts,
  settings: GuardrailSettings = DEFAULT_GUARDRAILS,
): { to?: Phase; guardrails: Guardrail[] } {
  const to = nextPhase(facts.state.phase);
  return to ? { to, guardrails: guardrailsFor(to, facts, settings) } : { guardrails: [] };
}

/**
 * The next forward move.
 *
 * @throws InvalidControlRequestError when `to` is not the next phase, or the migration is FINALIZED
 * @throws ForceNeedsReasonError when `force` comes without a reason
 * @throws GuardrailUnmetError when a guardrail is unmet and not forced (or cannot be forced)
 */
export function planAdvance(
  facts: MigrationFacts,
  settings: GuardrailSettings,
  options: AdvanceOptions,
  ctx: ChangeContext,
): ControlChange {
  const from = facts.state.phase;
  const next = nextPhase(from);
  if (!next)
    throw new InvalidControlRequestError(
      `migration "${facts.state.migrationId}" is FINALIZED: nothing to advance to`,
    );
  if (options.to && options.to !== next) {
    throw new InvalidControlRequestError(
      rank(options.to) <= rank(from)
        ? `cannot advance to ${options.to}: the migration is in ${from}; use \`dualread rollback --to ${options.to}\` to go back`
        : `cannot advance from ${from} to ${options.to}: phases advance one at a time; the next is ${next}`,
    );
  }
  const reason = options.reason?.trim() ?? '';
  if (options.force && !reason) throw new ForceNeedsReasonError('advance');
  const guardrails = guardrailsFor(next, facts, settings);
  const unmet = guardrails.filter((x) => !x.met);
  if (unmet.length && (!options.force || unmet.some((x) => !x.forcible)))
    throw new GuardrailUnmetError(facts.state.migrationId, from, next, guardrails);
  const forced = unmet.length > 0;
  return {
    state: withPhase(facts.state, next, ctx),
    guardrails,
    audit: {
      migrationId: facts.state.migrationId,
      at: ctx.now,
      actor: ctx.actor,
      action: forced ? 'advance-forced' : 'advance',
      reason: reason || 'guardrails met',
      from,
      to: next,
      detail: {
        forced,
        guardrails: guardrails.map((x) => `${x.id}:${x.met ? 'met' : 'unmet'}`).join(','),
        ...(forced ? { unmet: unmet.map((x) => `${x.id}: ${x.reason}`).join(' | ') } : {}),
      },
    },
  };
}

/** Options of `planRollback`. */
export interface RollbackOptions {
  readonly to?: Phase;
  readonly reason?: string;
  /** Needed to leave FINALIZED. */
  readonly force?: boolean;
  /** Audit action: `rollback` (operator) or `auto-rollback` (an alarm). */
  readonly action?: string;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * A move back to an earlier phase: always allowed and immediate (no guardrail), except leaving
 * FINALIZED, which needs `force` and a reason.
 *
 * @throws InvalidControlRequestError when `to` is not earlier than the current phase
 * @throws ForceNeedsReasonError when leaving FINALIZED without `force` and a reason
 */
export function planRollback(
  state: MigrationState,
  options: RollbackOptions,
  ctx: ChangeContext,
): ControlChange {
  const from = state.phase;
  const to = options.to ?? safeRollbackTarget(from);
  if (!to)
    throw new InvalidControlRequestError(
      `migration "${state.migrationId}" is in LEGACY_ONLY: nothing to roll back to`,
    );
  if (rank(to) >= rank(from))
    throw new InvalidControlRequestError(
      `cannot roll back from ${from} to ${to}: a rollback goes to an earlier phase${rank(to) > rank(from) ? '; use `dualread advance`' : ''}`,
    );
  const reason = options.reason?.trim() ?? '';
  if (from === Phase.FINALIZED && (!options.force || !reason)) {
    throw new ForceNeedsReasonError(
      'leaving FINALIZED (CDC is disabled and applications write to new, so legacy no longer receives their writes: re-enable CDC from new to legacy first)',
    );
  }
  return {
    state: withPhase(state, to, ctx),
    audit: {
      migrationId: state.migrationId,
      at: ctx.now,
      actor: ctx.actor,
      action: options.action ?? 'rollback',
      reason: reason || 'rollback (no reason given)',
      from,
      to,
      ...(options.detail ? { detail: options.detail } : {}),
    },
  };
}

/**
 * A rollout change (share of routing keys served from new in DUAL_READ).
 *
 * @throws InvalidControlRequestError for a percent outside 0..100 (integer), or a raise outside DUAL_READ
 */
export function planRollout(
  state: MigrationState,
  percent: number,
  reason: string,
  ctx: ChangeContext,
): ControlChange {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100)
    throw new InvalidControlRequestError(`rollout percent must be an integer from 0 to 100, not ${percent}`);
  if (percent > state.rolloutPercent && state.phase !== Phase.DUAL_READ)
    throw new InvalidControlRequestError(
      `rollout only applies in DUAL_READ and the migration is in ${state.phase}: ${
        rank(state.phase) < rank(Phase.DUAL_READ)
          ? 'advance to DUAL_READ first'
          : 'NEW_PRIMARY and later serve every key from new'
      }`,
    );
  return audited(
    state,
    { rolloutPercent: percent, ...(percent !== state.rolloutPercent ? { rolloutSince: ctx.now } : {}) },
    ctx,
    {
      action: 'rollout',
      reason: reason.trim() || 'rollout change (no reason given)',
      from: String(state.rolloutPercent),
      to: String(percent),
    },
  );
}

/**
 * A per-surface rollout limit: the share of routing keys whose queries of `surface` may be served
 * from new in DUAL_READ is the lower of the migration's rollout and this limit (so `0` keeps a surface
 * on legacy while the rest rolls out). Settable in any phase (prepared before DUAL_READ); audited as
 * `rollout` with the surface in its detail.
 *
 * @throws InvalidControlRequestError for an undeclared surface or a percent outside 0..100 (integer)
 */
export function planSurfaceRollout(
  state: MigrationState,
  surface: string,
  percent: number,
  reason: string,
  ctx: ChangeContext,
  declared: readonly string[],
): ControlChange {
  if (!declared.includes(surface))
    throw new InvalidControlRequestError(
      `unknown query surface "${surface}"; this migration declares ${declared.map((n) => `"${n}"`).join(', ')}`,
    );
  if (!Number.isInteger(percent) || percent < 0 || percent > 100)
    throw new InvalidControlRequestError(`rollout percent must be an integer from 0 to 100, not ${percent}`);
  const before = state.settings?.surfaces?.[surface]?.rollout;
  return audited(
    state,
    {
      settings: {
        ...state.settings,
        surfaces: { ...state.settings?.surfaces, [surface]: { rollout: percent } },
      },
    },
    ctx,
    {
      action: 'rollout',
      reason: reason.trim() || `rollout limit of surface ${surface} (no reason given)`,
      from: before === undefined ? 'unlimited' : String(before),
      to: String(percent),
      detail: { surface },
    },
  );
}

const SETTABLE_MODES: readonly ConsistencyMode[] = ['legacy', 'shadow', 'bounded', 'strong'];

/**
 * An override of the read settings (or of auto-rollback). `read` is the definition's settings, to
 * check the budget against the control cache interval as `defineMigration` does.
 *
 * @throws InvalidControlRequestError naming the bad value and the allowed range
 */
export function planSettings(
  state: MigrationState,
  patch: ControlOverrides,
  read: Pick<ReadSettings, 'controlCacheMs'>,
  reason: string,
  ctx: ChangeContext,
): ControlChange {
  const bad = (m: string): never => {
    throw new InvalidControlRequestError(m);
  };
  const b = patch.stalenessBudgetMs;
  if (b !== undefined && (!Number.isInteger(b) || b < 0 || b > 86_400_000))
    bad(`staleness budget must be whole milliseconds from 0 to 86400000, not ${b}`);
  if (b !== undefined && b > 0 && b <= read.controlCacheMs)
    bad(
      `staleness budget ${b} ms must exceed the control cache interval (${read.controlCacheMs} ms), which counts against it`,
    );
  const r = patch.shadowSampleRate;
  if (r !== undefined && !(r >= 0 && r <= 1)) bad(`shadow sample rate must be from 0 to 1, not ${r}`);
  const m = patch.defaultConsistency;
  if (m !== undefined && !(SETTABLE_MODES as readonly string[]).includes(m))
    bad(
      `default consistency must be one of ${SETTABLE_MODES.join(', ')}, not "${m}" (mode new proves no freshness)`,
    );
  const changed = Object.entries(patch).filter(([, v]) => v !== undefined);
  if (!changed.length) bad('no setting given: name at least one to change');
  const settings: ControlOverrides = { ...state.settings, ...Object.fromEntries(changed) };
  return audited(state, { settings }, ctx, {
    action: 'settings',
    reason: reason.trim() || 'settings change (no reason given)',
    detail: Object.fromEntries(changed.map(([k, v]) => [k, v as string | number | boolean])),
  });
}

/**
 * A named approval for entering `phase` (a later phase than the current one); it lasts until the
 * next phase change.
 *
 * @throws InvalidControlRequestError when `phase` is not ahead, or no reason is given
 */
export function planApproval(
  state: MigrationState,
  phase: Phase,
  reason: string,
  ctx: ChangeContext,
): ControlChange {
  if (rank(phase) <= rank(state.phase))
    throw new InvalidControlRequestError(
      `cannot approve ${phase}: the migration is already in ${state.phase}; approve a later phase`,
    );
  if (!reason.trim())
    throw new InvalidControlRequestError('an approval needs --reason "<why>": it is audited');
  const others = (state.approvals ?? []).filter((a) => !(a.phase === phase && a.actor === ctx.actor));
  return audited(
    state,
    { approvals: [...others, { phase, actor: ctx.actor, at: ctx.now, reason: reason.trim() }] },
    ctx,
    { action: 'approve', reason: reason.trim(), to: phase },
  );
}

/** An alarm that may roll a migration back (CloudWatch via EventBridge, or local mode's watcher). */
export interface AlarmEvent {
  readonly alarmName: string;
  /** ALARM (acts), OK or INSUFFICIENT_DATA (ignored). */
  readonly state: string;
  readonly reason?: string;
  readonly at: number;
}

/** Phases an alarm moves back to SHADOW. */
const ALARM_ROLLS_BACK: readonly Phase[] = [Phase.DUAL_READ, Phase.NEW_PRIMARY];

/**
 * What an alarm does: roll DUAL_READ and NEW_PRIMARY back to SHADOW, audited with the alarm as actor;
 * otherwise nothing, with why (idempotent when alarms repeat: the second finds SHADOW).
 */
export function planAlarmRollback(
  state: MigrationState,
  alarm: AlarmEvent,
  settings: GuardrailSettings,
  ctx: Pick<ChangeContext, 'now'>,
): { change?: ControlChange; skipped?: string } {
  if (alarm.state !== 'ALARM') return { skipped: `alarm ${alarm.alarmName} is ${alarm.state}, not ALARM` };
  const enabled = state.settings?.autoRollback ?? settings.autoRollback;
  if (!enabled) return { skipped: `automatic rollback is off for migration "${state.migrationId}"` };
  if (!ALARM_ROLLS_BACK.includes(state.phase))
    return {
      skipped: `phase ${state.phase} is not rolled back by alarms (only ${ALARM_ROLLS_BACK.join(', ')})`,
    };
  return {
    change: planRollback(
      state,
      {
        to: Phase.SHADOW,
        action: 'auto-rollback',
        reason: `alarm ${alarm.alarmName}${alarm.reason ? `: ${alarm.reason}` : ''}`,
        detail: { alarm: alarm.alarmName, alarmAt: alarm.at },
      },
      { actor: `alarm:${alarm.alarmName}`, now: ctx.now },
    ),
  };
}
