/**
 * What one write of the backfill ended as (`IfAbsentWriter`, adapters/backfill-io), and what that
 * means: the page worker counts it, and a poison retry resolves the key by it. Both read an outcome
 * the same way: rule 3 (an item or tombstone dualread wrote is left) and the run's foreign-item policy
 * (core/backfill/foreign.ts).
 */
import { ForeignItems } from '../control';
import { type Item, canonicalItem } from '../model';
import { foreignRefusedReason } from './foreign';

/**
 * The result of writing one item: `copied`; `exists` (an item or tombstone dualread wrote holds the
 * key: rule 3 leaves it); `foreign` (an item dualread did not write holds the key and the policy is
 * `refuse` or `keep`: left untouched); `failed` (DynamoDB refused this item: poison).
 */
export type WriteOutcome =
  | { readonly kind: 'copied' }
  | { readonly kind: 'exists' }
  | { readonly kind: 'foreign' }
  | { readonly kind: 'failed'; readonly reason: string };

/** The count a written item adds to, or why its legacy item is poison. */
export type WriteCount =
  { readonly count: 'copied' | 'skippedExists' | 'keptForeign' } | { readonly poison: string };

/** How the write of the item mapped to `newKey` counts under the run's `foreignItems` policy. */
export function countWrite(outcome: WriteOutcome, foreignItems: ForeignItems, newKey: Item): WriteCount {
  if (outcome.kind === 'copied') return { count: 'copied' };
  if (outcome.kind === 'exists') return { count: 'skippedExists' };
  if (outcome.kind === 'foreign' && foreignItems === ForeignItems.KEEP) return { count: 'keptForeign' };
  if (outcome.kind === 'foreign') return { poison: foreignRefusedReason(canonicalItem(newKey)) };
  return { poison: `write refused: ${outcome.reason}` };
}
