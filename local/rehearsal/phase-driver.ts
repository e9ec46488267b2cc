/**
 * The rehearsal's phase walk goes through `PhaseDriver`: the narrow view of the control plane it needs
 * (status, guarded advance, rollback, alarm). `ControlStorePhaseDriver` implements it over the audited
 * `ControlStore.changeState` and the guardrail facts readable from the control table (docs/design.md §5):
 * CDC consuming, backfill COMPLETE, the last verifications clean, rollout and frontier lag, and for
 * FINALIZED the cutover protocol (writes fenced at T, `F − skew > T`, explicit approval). When the control
 * plane's own API lands, it replaces this file; the rehearsal only sees the interface.
 */
import { randomUUID } from 'node:crypto';
import { ControlConflictError, type ControlStore } from '../../adapters/control-store';
import { BackfillStatus, type MigrationState, PHASE_ORDER, Phase, initialState } from '../../core/control';
import type { CdcStatusPort } from '../../core/cdc';
import type { VerifyReport } from '../../core/verify';
import type { Migration } from '../../core/model';
import { DualReadError } from '../../core/common';

/** One guardrail of a forward move, met or not, with what was seen. */
export interface Guardrail {
  readonly name: string;
  readonly met: boolean;
  readonly detail: string;
}

/** The outcome of `advance`: moved, or refused with the unmet guardrails. */
export interface AdvanceResult {
  readonly moved: boolean;
  readonly from: Phase;
  readonly to: Phase;
  readonly guardrails: readonly Guardrail[];
}

/** Options of a forward move. */
export interface AdvanceOptions {
  /** Move even though guardrails are unmet (audited as forced). */
  readonly force?: boolean;
  readonly reason?: string;
  /** FINALIZED: who approved the cutover. */
  readonly approvedBy?: string;
  /** FINALIZED: when legacy writes were fenced (epoch ms). */
  readonly writesFencedAt?: number;
}

/** The control plane as the rehearsal drives it. */
export interface PhaseDriver {
  status(): Promise<MigrationState>;
  advance(to: Phase, options?: AdvanceOptions): Promise<AdvanceResult>;
  rollback(to: Phase, reason: string): Promise<MigrationState>;
  /** What an alarm action does: rolls reads back to legacy (SHADOW) from DUAL_READ or NEW_PRIMARY. */
  alarm(name: string): Promise<MigrationState>;
}

/** A move the phase order does not allow (not a guardrail: a request that makes no sense). */
export class PhaseMoveError extends DualReadError {
  override name = 'PhaseMoveError';
}

/** Options of `ControlStorePhaseDriver`. */
export interface ControlStorePhaseDriverOptions {
  readonly store: ControlStore;
  readonly migration: Migration;
  readonly cdc: CdcStatusPort;
  readonly now?: () => number;
  readonly actor?: string;
  /** Clean verifications in a row that NEW_PRIMARY → FINALIZED needs. @default 2 */
  readonly cleanVerificationsToFinalize?: number;
}

/** `PhaseDriver` over the audited control store and the guardrail facts in the control table. */
export class ControlStorePhaseDriver implements PhaseDriver {
  private readonly now: () => number;
  private readonly actor: string;

  constructor(private readonly o: ControlStorePhaseDriverOptions) {
    this.now = o.now ?? (() => Date.now());
    this.actor = o.actor ?? 'rehearsal';
  }

  async status(): Promise<MigrationState> {
    const state = await this.o.store.getState();
    if (state) return state;
    const fresh = initialState(this.o.migration.id, this.o.migration.backfill.rateLimitPerSecond, this.now());
    return this.write(undefined, { ...fresh, updatedBy: this.actor }, 'init', 'migration created');
  }

  async advance(to: Phase, options: AdvanceOptions = {}): Promise<AdvanceResult> {
    const state = await this.status();
    const from = state.phase;
    if (PHASE_ORDER.indexOf(to) !== PHASE_ORDER.indexOf(from) + 1)
      throw new PhaseMoveError(
        `cannot advance ${this.o.migration.id} from ${from} to ${to}: phases advance one step at a time ` +
          `(${PHASE_ORDER.join(' → ')}); use rollback to go back`,
      );
    const guardrails = await this.guardrails(state, to, options);
    const unmet = guardrails.filter((g) => !g.met);
    if (unmet.length && !options.force) return { moved: false, from, to, guardrails };
    const reason =
      (options.reason ?? `advance to ${to}`) +
      (unmet.length ? ` (forced past: ${unmet.map((g) => g.name).join(', ')})` : '');
    await this.write(
      state,
      { ...state, phase: to, rolloutPercent: to === Phase.DUAL_READ ? 100 : state.rolloutPercent },
      unmet.length ? 'advance-forced' : 'advance',
      reason,
      from,
      to,
    );
    return { moved: true, from, to, guardrails };
  }

  async rollback(to: Phase, reason: string): Promise<MigrationState> {
    const state = await this.status();
    if (PHASE_ORDER.indexOf(to) >= PHASE_ORDER.indexOf(state.phase) || state.phase === Phase.FINALIZED)
      throw new PhaseMoveError(
        `cannot roll ${this.o.migration.id} back from ${state.phase} to ${to}: rollback goes to an earlier phase, and not from FINALIZED`,
      );
    return this.write(state, { ...state, phase: to }, 'rollback', reason, state.phase, to);
  }

  async alarm(name: string): Promise<MigrationState> {
    const state = await this.status();
    if (state.phase !== Phase.DUAL_READ && state.phase !== Phase.NEW_PRIMARY) return state;
    return this.rollback(Phase.SHADOW, `alarm ${name}: reads back to legacy`);
  }

  /** The guardrails of moving from `state.phase` to `to` (docs/design.md §5), evaluated now. */
  async guardrails(state: MigrationState, to: Phase, options: AdvanceOptions = {}): Promise<Guardrail[]> {
    switch (to) {
      case Phase.BACKFILLING: {
        const cdc = await this.o.cdc.check();
        return [{ name: 'cdc-consuming', met: cdc.consuming, detail: cdc.reason }];
      }
      case Phase.SHADOW:
        return [
          {
            name: 'backfill-complete',
            met: state.backfill.status === BackfillStatus.COMPLETE,
            detail: `backfill is ${state.backfill.status}`,
          },
        ];
      case Phase.DUAL_READ: {
        const [last] = await this.verifications(1);
        return [cleanGuardrail('last-verification-clean', last ? [last] : [], 1)];
      }
      case Phase.NEW_PRIMARY: {
        const lag = await this.frontierLag();
        const budget = this.o.migration.read.stalenessBudgetMs;
        return [
          {
            name: 'rollout-100',
            met: state.rolloutPercent === 100,
            detail: `rollout ${state.rolloutPercent} %`,
          },
          {
            name: 'frontier-lag',
            met: lag <= budget,
            detail: `frontier lag ${Number.isFinite(lag) ? `${lag} ms` : 'unknown (no F)'}, budget ${budget} ms`,
          },
        ];
      }
      case Phase.FINALIZED: {
        const need = this.o.cleanVerificationsToFinalize ?? 2;
        const runs = await this.verifications(need);
        const frontier = (await this.o.store.getFrontier())?.frontier ?? 0;
        const fence = options.writesFencedAt;
        const skew = this.o.migration.read.clockSkewMs;
        return [
          cleanGuardrail('clean-verifications', runs, need),
          {
            name: 'approval',
            met: Boolean(options.approvedBy),
            detail: options.approvedBy ? `approved by ${options.approvedBy}` : 'no approval given',
          },
          {
            name: 'frontier-past-fence',
            met: fence !== undefined && frontier - skew > fence,
            detail:
              fence === undefined
                ? 'legacy writes are not fenced'
                : `F − skew = ${frontier - skew}, fence T = ${fence}`,
          },
        ];
      }
      default:
        return [];
    }
  }

  private async frontierLag(): Promise<number> {
    const f = await this.o.store.getFrontier();
    return f ? this.now() - f.frontier : Number.POSITIVE_INFINITY;
  }

  /** The last `n` finished verification reports, newest first. */
  private async verifications(n: number): Promise<VerifyReport[]> {
    const all = await this.o.store.list<VerifyReport>('VERIFY#');
    return all
      .filter((r) => r.completedAt !== undefined)
      .sort((a, b) => (b.completedAt ?? 0) - (a.completedAt ?? 0))
      .slice(0, n);
  }

  private async write(
    current: MigrationState | undefined,
    next: MigrationState,
    action: string,
    reason: string,
    from?: Phase,
    to?: Phase,
  ): Promise<MigrationState> {
    const at = this.now();
    const { version: _v, ...rest } = next;
    try {
      return await this.o.store.changeState(
        current,
        { ...rest, updatedAt: at, updatedBy: this.actor },
        {
          migrationId: this.o.migration.id,
          at,
          actor: this.actor,
          action,
          reason,
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
        },
        randomUUID(),
      );
    } catch (err) {
      // Someone else moved STATE (e.g. the backfill recording its progress): re-read and retry.
      if (err instanceof ControlConflictError && current) {
        const fresh = await this.o.store.getState();
        if (fresh && fresh.phase === current.phase)
          return this.write(
            fresh,
            { ...fresh, phase: next.phase, rolloutPercent: next.rolloutPercent },
            action,
            reason,
            from,
            to,
          );
      }
      throw err;
    }
  }
}

function cleanGuardrail(name: string, runs: readonly VerifyReport[], need: number): Guardrail {
  const clean = runs.filter((r) => r.clean === true).length;
  return {
    name,
    met: runs.length >= need && clean === runs.length,
    detail: runs.length
      ? `${clean} of the last ${runs.length} verification(s) clean (${runs.map((r) => r.runId).join(', ')}); ${need} needed`
      : 'no verification has finished',
  };
}
