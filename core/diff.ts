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
 */
import { type MetadataNames, isTombstone, stripMetadata } from './metadata';
import type { Migration } from './migration';
import { type Item, canonicalItem } from './values';

/** The classes of a compared pair. */
export const DiffClass = {
  MATCH: 'match',
  MISSING_IN_NEW: 'missing-in-new',
  CONTENT_DIFFERS: 'content-differs',
  TOMBSTONED_IN_NEW: 'tombstoned-in-new',
  EXTRA_IN_NEW: 'extra-in-new',
  UNMAPPABLE: 'unmappable',
} as const;
export type DiffClass = (typeof DiffClass)[keyof typeof DiffClass];

/** Every class, in report order. */
export const DIFF_CLASSES: readonly DiffClass[] = [
  DiffClass.MATCH,
  DiffClass.MISSING_IN_NEW,
  DiffClass.CONTENT_DIFFERS,
  DiffClass.TOMBSTONED_IN_NEW,
  DiffClass.EXTRA_IN_NEW,
  DiffClass.UNMAPPABLE,
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
