/**
 * What each scan pass makes of one Scan page (the passes are `VerifySide`, core/verify/checkpoint.ts):
 * the class counts it adds, the suspects it records, the tombstones it saw, and what it adds to the
 * page's checksums. Pure: the two passes that look keys up (`legacy`, `extras`) are split around the
 * lookup, which the scan step does (lambdas/verify/scan.ts): first the keys to look up, then the
 * classification of what was found.
 */
import type { ChecksumAccumulator } from './checksum';
import {
  type DiffClass,
  DiffClass as Classes,
  classifyPair,
  expectedNewItem,
  inverseProblem,
  originOf,
  zeroCounts,
} from './diff';
import { ABSENT_TOKEN, type Suspect, sequenceToken } from './recheck';
import { type SuspectContext, newSuspect } from './suspect';
import { type MetadataNames, isTombstone, stripMetadata, type Migration, keyOf, type Item } from '../model';

/** What a pass needs to classify a page. */
export interface PassContext extends SuspectContext {
  readonly migration: Migration;
  readonly names: MetadataNames;
}

/** The checksums a page adds to: content (`checksum`) and key census (`keyCensus`). */
export interface PageSums {
  readonly content: ChecksumAccumulator;
  readonly census: ChecksumAccumulator;
}

/** What one page of a pass found. */
export interface PassPage {
  readonly counts: Record<DiffClass, number>;
  readonly suspects: Suspect[];
  readonly tombstones: number;
}

/**
 * Sums pass: checksum of `mapItem(legacy)`; unmappable items are counted and kept as suspects. It is
 * the one pass every run makes over every legacy item, and it has `mapItem(x)` at hand, so it also
 * checks `unmapItem(mapItem(x)) = x` on every item (`not-invertible`): CPU only, no reads.
 */
export function sumsPage(ctx: PassContext, items: readonly Item[], sums: PageSums): PassPage {
  const m = ctx.migration;
  const counts = zeroCounts();
  const suspects: Suspect[] = [];
  for (const legacy of items) {
    const legacyKey = keyOf(legacy, m.legacyTable.key);
    const expected = expectedNewItem(m, legacy, ctx.names);
    if ('unmappable' in expected) {
      counts[Classes.UNMAPPABLE]++;
      suspects.push(newSuspect(ctx, legacyKey, {}, Classes.UNMAPPABLE, ABSENT_TOKEN, expected.unmappable));
      continue;
    }
    sums.content.add(expected.item);
    const problem = inverseProblem(m, legacy, expected.item);
    if (problem === undefined) continue;
    counts[Classes.NOT_INVERTIBLE]++;
    suspects.push(newSuspect(ctx, legacyKey, {}, Classes.NOT_INVERTIBLE, ABSENT_TOKEN, problem));
  }
  return { counts, suspects, tombstones: 0 };
}

/** New pass: hash live items (content checksum and key census); no lookups. */
export function censusPage(
  ctx: Pick<PassContext, 'migration' | 'names'>,
  items: readonly Item[],
  sums: PageSums,
): PassPage {
  let tombstones = 0;
  for (const item of items) {
    if (isTombstone(item, ctx.names)) {
      tombstones++;
      continue;
    }
    sums.content.add(stripMetadata(item, ctx.names));
    sums.census.add(keyOf(item, ctx.migration.newTable.key));
  }
  return { counts: zeroCounts(), suspects: [] as Suspect[], tombstones };
}

/** The legacy pass's page before its lookups: the mapped keys to look up in new. */
export interface LegacyLookups extends PassPage {
  readonly rows: ReadonlyArray<{ readonly legacyKey: Item; readonly newKey: Item; readonly expected: Item }>;
}

/**
 * Legacy pass, first half: `mapItem` and `mapKey` of every legacy item (an item either refuses is
 * `unmappable`), the content checksum of the mapped items, and the new keys to look up.
 */
export function legacyLookups(ctx: PassContext, items: readonly Item[], sums: PageSums): LegacyLookups {
  const m = ctx.migration;
  const counts = zeroCounts();
  const suspects: Suspect[] = [];
  const rows: Array<{ legacyKey: Item; newKey: Item; expected: Item }> = [];
  for (const legacy of items) {
    const legacyKey = keyOf(legacy, m.legacyTable.key);
    const expected = expectedNewItem(m, legacy, ctx.names);
    let newKey: Item | undefined;
    let reason = 'unmappable' in expected ? expected.unmappable : '';
    if ('item' in expected) {
      try {
        newKey = m.mapKey(legacyKey);
      } catch (err) {
        reason = `mapKey threw ${(err as Error)?.name}: ${(err as Error)?.message}`;
      }
    }
    if (!('item' in expected) || newKey === undefined) {
      counts[Classes.UNMAPPABLE]++;
      suspects.push(newSuspect(ctx, legacyKey, {}, Classes.UNMAPPABLE, ABSENT_TOKEN, reason));
      continue;
    }
    sums.content.add(expected.item);
    rows.push({ legacyKey, newKey, expected: expected.item });
  }
  return { counts, suspects, tombstones: 0, rows };
}

/**
 * Legacy pass, second half: classify every looked-up row against the new item `found` at its mapped key
 * (undefined when absent); the key census takes the new keys whose item is live.
 */
export function classifyLookedUp(
  ctx: PassContext,
  lookups: LegacyLookups,
  found: (newKey: Item) => Item | undefined,
  sums: PageSums,
): PassPage {
  const { counts, suspects } = lookups;
  for (const r of lookups.rows) {
    const actual = found(r.newKey);
    const cls = classifyPair(r.expected, actual, ctx.names);
    counts[cls]++;
    if (cls === Classes.MATCH || cls === Classes.CONTENT_DIFFERS) sums.census.add(r.newKey);
    if (cls !== Classes.MATCH)
      suspects.push(newSuspect(ctx, r.legacyKey, r.newKey, cls, sequenceToken(actual, ctx.names)));
  }
  return { counts, suspects, tombstones: 0 };
}

/** The extras pass's page before its lookups: the legacy origins to look up. */
export interface ExtrasLookups extends PassPage {
  readonly rows: ReadonlyArray<{ readonly item: Item; readonly legacyKey: Item; readonly newKey: Item }>;
}

/**
 * Extras pass, first half: the legacy origin of every live new item. Without a computable origin (one
 * that maps back to this very key) nothing says whether the item is an extra: a mapping defect
 * (`origin-unknown`), reported by its new key and never repaired.
 */
export function extrasLookups(ctx: PassContext, items: readonly Item[]): ExtrasLookups {
  const m = ctx.migration;
  const counts = zeroCounts();
  const suspects: Suspect[] = [];
  const rows: Array<{ item: Item; legacyKey: Item; newKey: Item }> = [];
  for (const item of items) {
    if (isTombstone(item, ctx.names)) continue;
    const newKey = keyOf(item, m.newTable.key);
    const origin = originOf(m, item, ctx.names);
    if ('unknown' in origin) {
      counts[Classes.ORIGIN_UNKNOWN]++;
      suspects.push(
        newSuspect(ctx, {}, newKey, Classes.ORIGIN_UNKNOWN, sequenceToken(item, ctx.names), origin.unknown),
      );
      continue;
    }
    rows.push({ item, legacyKey: origin.key, newKey });
  }
  return { counts, suspects, tombstones: 0, rows };
}

/** Extras pass, second half: a live new item whose legacy origin does not `exist` is `extra-in-new`. */
export function extrasFound(
  ctx: PassContext,
  lookups: ExtrasLookups,
  exists: (legacyKey: Item) => boolean,
): PassPage {
  const { counts, suspects } = lookups;
  for (const r of lookups.rows) {
    if (exists(r.legacyKey)) continue;
    counts[Classes.EXTRA_IN_NEW]++;
    suspects.push(
      newSuspect(ctx, r.legacyKey, r.newKey, Classes.EXTRA_IN_NEW, sequenceToken(r.item, ctx.names)),
    );
  }
  return { counts, suspects, tombstones: 0 };
}
