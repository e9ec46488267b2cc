/**
 * The control plane: the one API that moves a migration (the `dualread` CLI, the `control` Lambda and
 * the rehearsal all call it). Each action reads STATE and the facts, asks the pure phase machine
 * (core/control/phase-machine.ts) for the next STATE and its AUDIT record, and writes both in one
 * versioned transaction (`ControlStore.changeState`).
 *
 * Contract:
 * - `advance` moves one phase forward when every guardrail of core/control/guardrails.ts holds; else
 *   it throws `GuardrailUnmetError` (its `guardrails` list each guardrail, met or not, with a reason a
 *   person can act on). `force` with a `reason` overrides forcible guardrails, audited as
 *   `advance-forced`; `force` without a reason throws `ForceNeedsReasonError`.
 * - `rollback` goes to any earlier phase (default: the last safe one, `safeRollbackTarget`) at once.
 * - `setRollout`, `setSettings`, `approve` are audited changes of STATE; the read path applies rollout
 *   and settings within its control cache interval (`read.controlCacheMs`).
 * - Two concurrent changes: exactly one wins; the other throws `ControlConflictError` (re-read, decide
 *   again). Nothing is retried behind the caller's back, except `onAlarm`, which re-reads and decides
 *   again (alarms repeat; the second finds SHADOW and does nothing).
 * - Bad input throws `InvalidControlRequestError` naming the value and what is allowed.
 * - Every change names its actor (`actor`: the IAM principal ARN on AWS, `user@host` locally,
 *   `alarm:<name>` for alarms).
 */
import { randomUUID } from 'node:crypto';
import {
  type AlarmEvent,
  type AuditRecord,
  type ControlChange,
  type ControlOverrides,
  type Guardrail,
  type MigrationFacts,
  type MigrationState,
  type Phase,
  evaluateAdvance,
  frontierLag,
  planAdvance,
  planAlarmRollback,
  planApproval,
  planRollback,
  planRollout,
  planRunControls,
  type RunControlsPatch,
  planSettings,
  planSurfaceRollout,
  shadowTotals,
} from '../core/control';
import type { Migration } from '../core/model';
import { ControlConflictError, type ControlStore } from './control-store';
import { ControlTableFacts, type FactsPorts, type FactsSource, currentState } from './migration-facts';

export { ControlConflictError } from './control-store';
export {
  ForceNeedsReasonError,
  GuardrailUnmetError,
  InvalidControlRequestError,
  type AlarmEvent,
  type Guardrail,
} from '../core/control';

/** Dependencies of a `ControlPlane`. */
export interface ControlPlaneOptions {
  readonly store: ControlStore;
  readonly migration: Migration;
  /** Who acts: the IAM principal ARN on AWS, `user@host` locally. */
  readonly actor: string;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default ControlTableFacts over `store` with `ports` */
  readonly facts?: FactsSource;
  /** Ports of the default facts reader (CDC status, CDC enabled, dead-letter depth). */
  readonly ports?: FactsPorts;
}

/** The result of a change: the stored STATE (with its new version) and its audit record. */
export interface ControlResult {
  readonly state: MigrationState;
  readonly audit: AuditRecord;
  readonly guardrails?: readonly Guardrail[];
}

/** One screen of where a migration stands. */
export interface ControlStatus {
  readonly migrationId: string;
  readonly state: MigrationState;
  readonly facts: MigrationFacts;
  /** The next phase and its guardrails (none in FINALIZED). */
  readonly next?: { readonly to: Phase; readonly guardrails: readonly Guardrail[] };
  /** now − (F − skew), ms; null with no frontier yet. */
  readonly frontierLagMs: number | null;
  readonly shadow: { readonly compared: number; readonly mismatches: number; readonly withinLag: number };
}

/** Result of `onAlarm`. */
export interface AlarmOutcome {
  readonly rolledBack: boolean;
  readonly state: MigrationState;
  readonly audit?: AuditRecord;
  /** Why nothing was done (OK state, phase not rolled back by alarms, auto-rollback off). */
  readonly skipped?: string;
}

/** Moves one migration under guardrails; see the module comment for the contract. */
export class ControlPlane {
  readonly migration: Migration;
  readonly store: ControlStore;
  readonly actor: string;
  private readonly now: () => number;
  private readonly facts: FactsSource;

  constructor(options: ControlPlaneOptions) {
    this.migration = options.migration;
    this.store = options.store;
    this.actor = options.actor;
    this.now = options.now ?? Date.now;
    this.facts =
      options.facts ?? new ControlTableFacts(options.store, options.migration, this.now, options.ports);
  }

  /** Where the migration stands: STATE, the facts, the next phase's guardrails. */
  async status(): Promise<ControlStatus> {
    const facts = await this.facts.read();
    const next = evaluateAdvance(facts, this.migration.guardrails);
    const lag = frontierLag(facts);
    return {
      migrationId: this.migration.id,
      state: facts.state,
      facts,
      ...(next.to ? { next: { to: next.to, guardrails: next.guardrails } } : {}),
      frontierLagMs: Number.isFinite(lag) ? lag : null,
      shadow: shadowTotals(facts.shadow),
    };
  }

  /**
   * Moves one phase forward under the guardrails.
   *
   * @throws GuardrailUnmetError, ForceNeedsReasonError, InvalidControlRequestError, ControlConflictError
   */
  async advance(options: { to?: Phase; force?: boolean; reason?: string } = {}): Promise<ControlResult> {
    const facts = await this.facts.read();
    return this.write(facts.state, planAdvance(facts, this.migration.guardrails, options, this.ctx()));
  }

  /**
   * Moves back to `to` (default: the last safe phase) at once. Leaving FINALIZED needs `force` and a reason.
   *
   * @throws InvalidControlRequestError, ForceNeedsReasonError, ControlConflictError
   */
  async rollback(options: { to?: Phase; reason?: string; force?: boolean } = {}): Promise<ControlResult> {
    const state = await this.state();
    return this.write(state, planRollback(state, options, this.ctx()));
  }

  /** Sets the DUAL_READ rollout percent (0–100). @throws InvalidControlRequestError, ControlConflictError */
  async setRollout(percent: number, reason = ''): Promise<ControlResult> {
    const state = await this.state();
    return this.write(state, planRollout(state, percent, reason, this.ctx()));
  }

  /**
   * Limits the DUAL_READ rollout of one query surface (0–100 %; the lower of it and the rollout applies).
   * @throws InvalidControlRequestError, ControlConflictError
   */
  async setSurfaceRollout(surface: string, percent: number, reason = ''): Promise<ControlResult> {
    const state = await this.state();
    const declared = Object.keys(this.migration.queries);
    return this.write(state, planSurfaceRollout(state, surface, percent, reason, this.ctx(), declared));
  }

  /** Overrides read settings or auto-rollback. @throws InvalidControlRequestError, ControlConflictError */
  async setSettings(patch: ControlOverrides, reason = ''): Promise<ControlResult> {
    const state = await this.state();
    return this.write(state, planSettings(state, patch, this.migration.read, reason, this.ctx()));
  }

  /**
   * Pauses, resumes or re-rates the backfill and verification runs: the workers read STATE's controls
   * before every page, so the change is in force from each segment's next page.
   *
   * @throws InvalidControlRequestError, ControlConflictError
   */
  async setRunControls(patch: RunControlsPatch, reason = ''): Promise<ControlResult> {
    const state = await this.state();
    return this.write(state, planRunControls(state, patch, reason, this.ctx()));
  }

  /** Records a named approval for entering `phase`. @throws InvalidControlRequestError, ControlConflictError */
  async approve(phase: Phase, reason: string): Promise<ControlResult> {
    const state = await this.state();
    return this.write(state, planApproval(state, phase, reason, this.ctx()));
  }

  /** Audit records, oldest first, at or after `since` (epoch ms). */
  async audit(
    options: { since?: number; limit?: number } = {},
  ): Promise<Array<AuditRecord & { sk: string }>> {
    const since = options.since;
    const records =
      since === undefined
        ? await this.store.listAudit()
        : await this.store.list<AuditRecord>('AUDIT#', {
            after: `AUDIT#${new Date(since - 1).toISOString()}#\uffff`,
          });
    return options.limit ? records.slice(-options.limit) : records;
  }

  /**
   * An alarm fired: DUAL_READ and NEW_PRIMARY go back to SHADOW, audited with `alarm:<name>` as actor.
   * Idempotent: repeated alarms find SHADOW and do nothing. A concurrent change is re-read (3 tries).
   */
  async onAlarm(alarm: AlarmEvent): Promise<AlarmOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      const state = await this.state();
      const plan = planAlarmRollback(state, alarm, this.migration.guardrails, { now: this.now() });
      if (!plan.change)
        return { rolledBack: false, state, ...(plan.skipped ? { skipped: plan.skipped } : {}) };
      try {
        const out = await this.write(state, plan.change);
        return { rolledBack: true, state: out.state, audit: out.audit };
      } catch (err) {
        if (!(err instanceof ControlConflictError) || attempt >= 3) throw err;
      }
    }
  }

  private ctx(): { actor: string; now: number } {
    return { actor: this.actor, now: this.now() };
  }

  private state(): Promise<MigrationState> {
    return currentState(this.store, this.migration, this.now());
  }

  private async write(current: MigrationState, change: ControlChange): Promise<ControlResult> {
    const stored = await this.store.changeState(
      current.version === 0 ? undefined : current,
      change.state,
      change.audit,
      randomUUID(),
    );
    return {
      state: stored,
      audit: change.audit,
      ...(change.guardrails ? { guardrails: change.guardrails } : {}),
    };
  }
}
