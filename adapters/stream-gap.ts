/**
 * Closing a stream gap (core/frontier/gap.ts) on the control table: a versioned write of FRONTIER with
 * the gap closed and its AUDIT record, in one transaction. The tracker publishes FRONTIER every step
 * while a gap is open, so a conflict is expected: the write is retried on the FRONTIER read again
 * (the tracker, on its side, keeps a closed gap it finds on a conflict).
 */
import { TransactWriteItemsCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { ControlKey, type FrontierState } from '../core/control';
import { type GapRecoveryRun, closeGap } from '../core/frontier';
import { ControlConflictError, type ControlStore, stripVersion } from './control-store';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** How many times the write is tried against a FRONTIER the tracker keeps rewriting. */
const ATTEMPTS = 8;

/**
 * Closes the open stream gap with `run` (a clean verification started after it opened), audited.
 *
 * @throws StreamGapRecoveryError when no gap is open or the run cannot close it (the message says why)
 * @throws ControlConflictError when FRONTIER changed under every attempt
 */
export async function closeStreamGap(o: {
  readonly client: DynamoDBClient;
  readonly store: ControlStore;
  readonly run: GapRecoveryRun;
  readonly actor: string;
  readonly now: () => number;
  readonly clockSkewMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}): Promise<FrontierState> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    const current = await o.store.getFrontier();
    const at = o.now();
    const gap = closeGap(current?.gap, o.run, o.actor, at, o.clockSkewMs ?? 0);
    const f = current as FrontierState; // closeGap threw if there is no FRONTIER (no gap)
    const next = { ...stripVersion(f), gap };
    try {
      await o.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: o.store.versionedPut(ControlKey.FRONTIER, next, f.version) },
            {
              Put: o.store.auditPut(
                {
                  migrationId: o.store.migrationId,
                  at,
                  actor: o.actor,
                  action: 'close-stream-gap',
                  reason: `verification ${o.run.runId} (started ${new Date(o.run.startedAt).toISOString()}) ended clean after the stream gap opened`,
                  from: 'gap open',
                  to: 'gap closed',
                  detail: {
                    runId: o.run.runId,
                    openedAt: gap.openedAt,
                    frozenAt: gap.frozenAt,
                    shards: gap.shards.join(','),
                  },
                },
                randomUUID(),
              ),
            },
          ],
        }),
      );
      return { ...next, version: f.version + 1 };
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      if (attempt >= ATTEMPTS) throw new ControlConflictError(o.store.migrationId, ControlKey.FRONTIER);
      await sleep(50 * attempt);
    }
  }
}
