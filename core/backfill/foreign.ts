/**
 * Foreign items: items in the new table that dualread did not write (they carry no `_dr_seq`; every
 * item, tombstone and repair dualread writes carries one). Rule 3's `attribute_not_exists(#seq)`
 * would overwrite them and a PartiQL INSERT would not, so the operator says how the backfill treats
 * them, and every write mode does the same:
 *
 * - `refuse` (default): the preflight refuses to start while the new table holds any (naming a few
 *   keys); a foreign item a write still meets (written after the check) is left untouched and the
 *   legacy item is recorded as poison with the reason, so the backfill cannot complete unnoticed.
 * - `overwrite`: the backfill replaces a foreign item with `mapItem(legacy)` (counted as copied).
 * - `keep`: the backfill leaves a foreign item as it is and counts it (`keptForeign`); the legacy
 *   item is then not copied (a later CDC change of it still replaces the foreign item: rule 2).
 */
import { ForeignItems } from '../control';
import type { Item } from '../model';
import { BackfillInputError } from './errors';

const POLICIES: readonly string[] = Object.values(ForeignItems);

/**
 * The policy named by `value`, or `fallback` when it is undefined.
 *
 * @throws BackfillInputError for anything else
 */
export function parseForeignItems(value: unknown, fallback: ForeignItems): ForeignItems {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string' && POLICIES.includes(value)) return value as ForeignItems;
  throw new BackfillInputError(
    `foreignItems must be 'refuse', 'overwrite' or 'keep', not ${JSON.stringify(value)}`,
  );
}

/** Whether a stored new-table item was written by someone other than dualread. */
export function isForeignItem(stored: Item, seqAttribute: string): boolean {
  return stored[seqAttribute] === undefined;
}

/** The poison reason of a legacy item whose new key holds a foreign item under `refuse`. */
export function foreignRefusedReason(newKey: string): string {
  return (
    `the new table holds an item dualread did not write (no _dr_seq) at key ${newKey}; foreignItems is 'refuse', ` +
    "so it was left untouched: remove it, or retry with foreignItems 'overwrite' or 'keep'"
  );
}
