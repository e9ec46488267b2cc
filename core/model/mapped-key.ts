/**
 * Does `mapItem` keep the item where `mapKey` says it belongs? A mapped item whose key differs from
 * `mapKey(legacy key)` would be written under another item's key (an orphan, or a silent "already
 * exists" against the other item): CDC and the backfill both refuse it as poison with this reason.
 */
import { type Migration, keyNames, keyOf } from './migration';
import { canonicalItem, itemsEqual } from './canonical';
import type { Item } from './values';

/**
 * The problem with `mapped` (the result of `mapItem`) given `expectedKey` (`mapKey` of the legacy
 * key), or undefined when the mapped item carries exactly the expected new-table key.
 */
export function mappedKeyProblem(migration: Migration, expectedKey: Item, mapped: Item): string | undefined {
  const mappedKey = keyOf(mapped, migration.newTable.key);
  const complete = keyNames(migration.newTable.key).every((n) => Object.hasOwn(mapped, n));
  if (complete && itemsEqual(mappedKey, expectedKey)) return undefined;
  return (
    `mapItem put the item under key ${safeCanonical(mappedKey)} but mapKey gives ${safeCanonical(expectedKey)} ` +
    '(a legacy attribute named like a new-table key attribute?); mapItem must not move an item to another key'
  );
}

/** `canonicalItem`, or the attribute names when the item holds an invalid value. */
export function safeCanonical(item: Item): string {
  try {
    return canonicalItem(item);
  } catch {
    return JSON.stringify(Object.keys(item));
  }
}
