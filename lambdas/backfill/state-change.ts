/**
 * Control-table wiring the backfill handlers share: the segment checkpoints, and an audited change of
 * STATE retried on concurrent changes.
 */
import { randomUUID } from 'node:crypto';
import { type ControlStore, type Versioned, ControlConflictError } from '../../adapters/control-store';
import type { SegmentCheckpoint } from '../../core/backfill';
import { type MigrationState, initialState } from '../../core/control';
import type { BackfillDeps } from './context';

/** A segment checkpoint as stored (with its version). */
export type StoredCheckpoint = Versioned<SegmentCheckpoint>;

/** Every `SEGMENT#` checkpoint. */
export async function listCheckpoints(store: ControlStore): Promise<SegmentCheckpoint[]> {
  return store.list<SegmentCheckpoint>('SEGMENT#');
}

/** Reads STATE, then writes `change(state)` with an audit record; retried on concurrent STATE changes. */
export async function updateState(
  deps: BackfillDeps,
  change: (
    current: MigrationState,
  ) => Omit<MigrationState, 'version'> | undefined | Promise<Omit<MigrationState, 'version'> | undefined>,
  audit: (
    current: MigrationState,
    next: Omit<MigrationState, 'version'>,
  ) => {
    action: string;
    reason: string;
    actor: string;
    detail?: Record<string, string | number | boolean>;
  },
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const stored = await deps.store.getState();
    const now = deps.now();
    const current = stored ?? {
      ...initialState(deps.migration.id, deps.migration.backfill.rateLimitPerSecond, now),
    };
    const next = await change(current);
    if (!next) return;
    const a = audit(current, next);
    try {
      await deps.store.changeState(
        stored,
        { ...next, updatedAt: now, updatedBy: a.actor },
        {
          migrationId: deps.migration.id,
          at: now,
          actor: a.actor,
          action: a.action,
          reason: a.reason,
          from: current.backfill.status,
          to: next.backfill.status,
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

/** A stored control document without its version (to write it again on that version). */
export function stripVersion<T extends { version: number }>(v: T): Omit<T, 'version'> {
  const { version: _v, ...rest } = v;
  return rest;
}
