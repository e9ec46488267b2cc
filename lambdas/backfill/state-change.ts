/**
 * Control-table wiring the backfill handlers share: the segment checkpoints, and an audited change of
 * STATE retried on concurrent changes.
 */
import { randomUUID } from 'node:crypto';
import {
  type ControlStore,
  type Versioned,
  ControlConflictError,
  stripVersion,
} from '../../adapters/control-store';
import type { SegmentCheckpoint } from '../../core/backfill';
import { type MigrationState, initialState } from '../../core/control';
import type { BackfillDeps } from './context';

/** A segment checkpoint as stored (with its version). */
export type StoredCheckpoint = Versioned<SegmentCheckpoint>;

/** Every `SEGMENT#` checkpoint. */
export async function listCheckpoints(store: ControlStore): Promise<SegmentCheckpoint[]> {
  return store.list<SegmentCheckpoint>('SEGMENT#');
}

/** The audit record of a STATE change (who, what, why). */
export interface AuditText {
  readonly action: string;
  readonly reason: string;
  readonly actor: string;
  readonly detail?: Record<string, string | number | boolean>;
}

/**
 * Reads STATE, then writes its backfill as `change(current backfill)` says (nothing when it says
 * undefined) with an audit record; retried on concurrent STATE changes.
 */
export async function updateBackfill(
  deps: BackfillDeps,
  change: (
    current: MigrationState['backfill'],
  ) => MigrationState['backfill'] | undefined | Promise<MigrationState['backfill'] | undefined>,
  audit: () => AuditText,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const stored = await deps.store.getState();
    const now = deps.now();
    const current = stored ?? {
      ...initialState(deps.migration.id, deps.migration.backfill.rateLimitPerSecond, now),
    };
    const backfill = await change(current.backfill);
    if (!backfill) return;
    const a = audit();
    try {
      await deps.store.changeState(
        stored,
        { ...stripVersion(current), backfill, updatedAt: now, updatedBy: a.actor },
        {
          migrationId: deps.migration.id,
          at: now,
          actor: a.actor,
          action: a.action,
          reason: a.reason,
          from: current.backfill.status,
          to: backfill.status,
          ...(a.detail ? { detail: a.detail } : {}),
        },
        randomUUID(),
      );
      return;
    } catch (err) {
      if (!(err instanceof ControlConflictError) || attempt >= 10) throw err;
    }
  }
}
