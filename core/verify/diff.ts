/**
 * Item comparison for verification (issue 5): how one legacy item (or its absence) compares with the
 * new-table item at its mapped key (or its absence). The comparison is `mapItem(legacy)` against the
 * new item without its metadata attributes, by `canonicalItem` (exact on types and numbers: `1` and
 * `1.0` are equal as DynamoDB says, `{N:"1"}` and `{S:"1"}` are not, sets are unordered).
 *
 * Classes (a pair where both sides are absent, or legacy absent and new a tombstone, is a match):
 *
 * | legacy   | new            | class               |
 * |----------|----------------|---------------------|
 * | present  | absent         | `missing-in-new`    |
 * | present  | tombstone      | `tombstoned-in-new` |
 * | present  | live, equal    | `match`             |
 * | present  | live, differs  | `content-differs`   |
 * | absent   | live           | `extra-in-new`      |
 * | absent   | absent / tomb. | `match`             |
 *
 * A legacy item `mapItem` refuses is `unmappable` (the backfill records it as poison, CDC dead-letters
 * it): verification counts it, it is never repaired.
 *
 * Two more classes are defects of the mapping, not drift of the stores: never re-checked, never repaired,
 * and they make a run not clean.
 *
 * - `not-invertible`: a legacy item for which `unmapItem(mapItem(x))` is not `x` (it throws, or gives
 *   back other attributes or another key). The read path would answer with the wrong item, and the new
 *   item's origin would be computed wrongly. Checked on every legacy item the checksum pass reads.
 * - `origin-unknown`: a live new item whose legacy origin cannot be computed: `unmapItem` throws, or the
 *   key of what it returns does not map back to the item's key through `mapKey`. Without an origin there
 *   is no way to tell an extra from a valid item, so it is never tombstoned.
 */
import {
  type MetadataNames,
  isTombstone,
  stripMetadata,
  type Migration,
  keyOf,
  type Item,
  canonical,
  canonicalItem,
  itemsEqual,
} from '../model';

/** The classes of a compared pair. */
export const DiffClass = {
  MATCH: 'match',
  MISSING_IN_NEW: 'missing-in-new',
  CONTENT_DIFFERS: 'content-differs',
  TOMBSTONED_IN_NEW: 'tombstoned-in-new',
  EXTRA_IN_NEW: 'extra-in-new',
  UNMAPPABLE: 'unmappable',
  NOT_INVERTIBLE: 'not-invertible',
  ORIGIN_UNKNOWN: 'origin-unknown',
} as const;
export type DiffClass = (typeof DiffClass)[keyof typeof DiffClass];

/** Every class, in report order (the order `DiffClass` declares them in). */
export const DIFF_CLASSES: readonly DiffClass[] = Object.values(DiffClass);

/** The classes that are defects of the mapping (reported with a reason, never re-checked or repaired). */
export const MAPPING_DEFECT_CLASSES: readonly DiffClass[] = [
  DiffClass.NOT_INVERTIBLE,
  DiffClass.ORIGIN_UNKNOWN,
];

/** The classes that are drift (something to re-check and possibly repair). */
export const DRIFT_CLASSES: readonly DiffClass[] = [
  DiffClass.MISSING_IN_NEW,
  DiffClass.CONTENT_DIFFERS,
  DiffClass.TOMBSTONED_IN_NEW,
  DiffClass.EXTRA_IN_NEW,
];

/** True for a drift class. */
export function isDrift(c: DiffClass): boolean {
  return DRIFT_CLASSES.includes(c);
}

/** `mapItem(legacy)`, or the reason it cannot be computed. */
export type Expected = { readonly item: Item } | { readonly unmappable: string };

/**
 * What the new table should hold for a legacy item: `mapItem(legacy)`. A throwing `mapItem` or a
 * mapped item carrying metadata attributes makes it unmappable (the same rule as backfill and CDC).
 */
export function expectedNewItem(migration: Migration, legacy: Item, names: MetadataNames): Expected {
  let mapped: Item;
  try {
    mapped = migration.mapItem(legacy);
  } catch (err) {
    return { unmappable: `mapItem threw ${(err as Error)?.name}: ${(err as Error)?.message}` };
  }
  const reserved = Object.keys(mapped).filter((n) => n.startsWith(names.prefix));
  if (reserved.length) return { unmappable: `mapItem wrote reserved attributes ${reserved.join(', ')}` };
  return { item: mapped };
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Why `unmapItem(mapItem(legacy))` is not `legacy` (equality as DynamoDB compares: numbers by value,
 * sets unordered), or undefined when it is. `mapped` is `mapItem(legacy)`, already computed.
 */
export function inverseProblem(migration: Migration, legacy: Item, mapped: Item): string | undefined {
  let back: Item;
  try {
    back = migration.unmapItem(mapped);
  } catch (err) {
    return `unmapItem(mapItem(item)) threw ${errorText(err)}`;
  }
  const names = [...new Set([...Object.keys(legacy), ...Object.keys(back)])];
  // `itemsEqual` per attribute, with a shortcut for the usual case: a transform that moves values passes
  // the very same objects back, so most attributes compare by reference without being encoded.
  const differ = names.filter((n) => {
    const a = Object.hasOwn(legacy, n) ? legacy[n] : undefined;
    const b = Object.hasOwn(back, n) ? back[n] : undefined;
    return a !== b && (a === undefined || b === undefined || canonical(a) !== canonical(b));
  });
  if (differ.length === 0) return undefined;
  const list = differ
    .sort()
    .map((n) => JSON.stringify(n))
    .join(', ');
  return `unmapItem(mapItem(item)) differs from the item in ${list}`;
}

/** The legacy key a new item comes from, or why it cannot be computed. */
export type Origin = { readonly key: Item } | { readonly unknown: string };

/**
 * The legacy origin of a new item (metadata included or not): the legacy key of `unmapItem(item)`,
 * accepted only when `mapKey` maps it back to the item's own key. Otherwise the origin is unknown:
 * `unmapItem` or `mapKey` threw, or the key does not map back (a mapping defect, never drift).
 */
export function originOf(migration: Migration, item: Item, names: MetadataNames): Origin {
  const newKey = keyOf(item, migration.newTable.key);
  let legacyKey: Item;
  try {
    legacyKey = keyOf(migration.unmapItem(stripMetadata(item, names)), migration.legacyTable.key);
  } catch (err) {
    return { unknown: `unmapItem threw ${errorText(err)}` };
  }
  let back: Item;
  try {
    back = migration.mapKey(legacyKey);
  } catch (err) {
    return {
      unknown: `mapKey threw ${errorText(err)} on the key unmapItem gives, ${canonicalItem(legacyKey)}`,
    };
  }
  if (!itemsEqual(back, newKey))
    return {
      unknown:
        `unmapItem gives the legacy key ${canonicalItem(legacyKey)}, which mapKey maps to ` +
        `${canonicalItem(back)}, not to this item's key ${canonicalItem(newKey)}`,
    };
  return { key: legacyKey };
}

/**
 * Classifies a pair: `expected` is `mapItem(legacy)` (undefined when the legacy item does not exist),
 * `actual` the new-table item as stored, metadata included (undefined when absent).
 */
export function classifyPair(
  expected: Item | undefined,
  actual: Item | undefined,
  names: MetadataNames,
): DiffClass {
  const live = actual !== undefined && !isTombstone(actual, names);
  if (expected === undefined) return live ? DiffClass.EXTRA_IN_NEW : DiffClass.MATCH;
  if (actual === undefined) return DiffClass.MISSING_IN_NEW;
  if (!live) return DiffClass.TOMBSTONED_IN_NEW;
  return canonicalItem(stripMetadata(actual, names)) === canonicalItem(expected)
    ? DiffClass.MATCH
    : DiffClass.CONTENT_DIFFERS;
}

/**
 * Classifies a legacy item (or its absence) against the new item: `classifyPair` after `mapItem`,
 * `unmappable` when `mapItem` refuses it.
 */
export function classifyLegacy(
  migration: Migration,
  legacy: Item | undefined,
  actual: Item | undefined,
  names: MetadataNames,
): DiffClass {
  if (legacy === undefined) return classifyPair(undefined, actual, names);
  const expected = expectedNewItem(migration, legacy, names);
  if ('unmappable' in expected) return DiffClass.UNMAPPABLE;
  return classifyPair(expected.item, actual, names);
}

/** Per-class counts. */
export type ClassCounts = Readonly<Record<DiffClass, number>>;

/** All-zero counts. */
export function zeroCounts(): Record<DiffClass, number> {
  return Object.fromEntries(DIFF_CLASSES.map((c) => [c, 0])) as Record<DiffClass, number>;
}

/** Sum of two count records. */
export function addCounts(a: ClassCounts, b: Partial<ClassCounts>): Record<DiffClass, number> {
  const out = zeroCounts();
  for (const c of DIFF_CLASSES) out[c] = (a[c] ?? 0) + (b[c] ?? 0);
  return out;
}
