/**
 * Keys pinned to legacy (core/backfill/poison.ts): which reads must be served by legacy because a
 * pinned key's item could be in their answer. The new table does not hold a pinned item (`mapItem`
 * refuses it, or its change was never applied), so new can never answer for it — not as absent, not
 * as an older state. So, in every phase where legacy serves (through NEW_PRIMARY):
 *
 * - a single-key read (GetItem, each key of a batch get) of a pinned key goes to legacy;
 * - a query of the legacy base table (the base surface, or a declared surface over the base table)
 *   goes to legacy when its partition is a pinned key's partition;
 * - a query of a legacy index cannot know where an unmappable item would land in new (nor which index
 *   partition holds it), so while ANY key is pinned such queries are served by legacy: safe, and the
 *   cost is that those queries do not move to new until the pins are settled (docs/correctness.md).
 *
 * The read Lambda learns the pins with STATE (its `pins`, bounded by `MAX_PINS`), so no request reads
 * the registry. Pure: hashes are computed with `poisonKeyHash` over the canonical key.
 */
import type { PinnedKeys } from '../control';
import type { AttributeValue, Item } from '../model';
import { partitionKeyHash, poisonKeyHash } from '../backfill';

/** The pins as the read path looks them up. */
export interface PinIndex {
  readonly count: number;
  readonly keys: ReadonlySet<string>;
  readonly partitions: ReadonlySet<string>;
}

/** No pins. */
export const NO_PINS: PinIndex = { count: 0, keys: new Set(), partitions: new Set() };

/** The lookup sets of STATE's `pins` (undefined: none). */
export function pinIndex(pins: PinnedKeys | undefined): PinIndex {
  if (!pins || pins.keys.length === 0) return NO_PINS;
  return { count: pins.keys.length, keys: new Set(pins.keys), partitions: new Set(pins.partitions) };
}

/** Whether a single-key read of `legacyKey` must be served by legacy. */
export function isKeyPinned(pins: PinIndex, legacyKey: Item): boolean {
  return pins.count > 0 && pins.keys.has(poisonKeyHash(legacyKey));
}

/** What a query reads on legacy: the base table's partition, or an index. */
export type PinnedQuery =
  | { readonly on: 'base'; readonly partitionKeyName: string; readonly partitionValue: AttributeValue }
  | { readonly on: 'index' };

/**
 * Whether a query could contain a pinned item, so legacy must serve it: a base-table query of a
 * pinned key's partition; a legacy-index query while any key is pinned.
 */
export function isQueryPinned(pins: PinIndex, q: PinnedQuery): boolean {
  if (pins.count === 0) return false;
  if (q.on === 'index') return true;
  return pins.partitions.has(
    partitionKeyHash({ [q.partitionKeyName]: q.partitionValue }, q.partitionKeyName),
  );
}
