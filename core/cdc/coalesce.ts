/**
 * Coalescing one stream delivery per key, and the put-if-absent fast path of its winners.
 *
 * The apply rule writes each change's whole mapped image under `attribute_not_exists(seq) OR seq <
 * :seq`. Applied to one new-table item, any set of such writes, in any order, leaves the item of the
 * largest sequence number (if it beats what is stored) and nothing else: each write either replaces a
 * smaller sequence or is refused, and no write depends on the item it replaces. So within a delivery
 * only the change with the largest sequence number per new-table key (its _winner_) has to be written;
 * the others are _superseded_: their effect is contained in the winner's image, which is exactly
 * what the per-record path would have left. A superseded change counts as applied once its winner's
 * write is acknowledged (the progress marker then covers it); if the winner's write fails, the
 * superseded changes fail with it and are redelivered together.
 *
 * Changes that cannot be planned (poison records) take no part: they fail alone, as on the per-record
 * path, and the winner is the largest sequence among the plannable ones.
 *
 * A winner that is an upsert of an INSERT record can first be tried as a batched put-if-absent (a
 * PartiQL INSERT, 25 per request): when the key is absent in new, the apply rule's condition holds and
 * the INSERT writes the same item the conditional put would; when any item holds the key (a backfill
 * copy, a tombstone, an earlier CDC write), the INSERT fails and the winner goes through the
 * conditional put per record, which decides it under the full rule.
 */
import { canonicalItem } from '../model';
import type { WritePlan } from './apply-rule';
import { ChangeKind, type StreamChange } from './stream-change';

/** How one delivery is written. */
export interface CoalescedDelivery {
  /**
   * For each position of the delivery: the position of its key's winner (itself when it is the
   * winner), or -1 when the change has no plan (a poison record: it fails alone).
   */
  readonly winnerOf: readonly number[];
  /** Positions of winners that may take the put-if-absent fast path (upserts of INSERT records). */
  readonly insertCandidates: readonly number[];
}

/**
 * Picks each new-table key's winner among the plannable changes of a delivery (the largest padded
 * sequence number; the first of equal ones, which are redeliveries of the same record).
 */
export function coalesceDelivery(
  changes: ReadonlyArray<StreamChange | undefined>,
  plans: ReadonlyArray<WritePlan | undefined>,
): CoalescedDelivery {
  const best = new Map<string, number>();
  const keys: Array<string | undefined> = plans.map((plan, i) => {
    if (!plan || !changes[i]) return undefined;
    const key = canonicalItem(plan.key);
    const current = best.get(key);
    if (current === undefined || (plans[current] as WritePlan).seq < plan.seq) best.set(key, i);
    return key;
  });
  const winnerOf = keys.map((key) => (key === undefined ? -1 : (best.get(key) as number)));
  const insertCandidates = [...best.values()]
    .filter((i) => changes[i]?.eventName === ChangeKind.INSERT && plans[i]?.kind === 'upsert')
    .sort((a, b) => a - b);
  return { winnerOf, insertCandidates };
}
