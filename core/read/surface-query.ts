/**
 * Queries of a declared surface (docs/architecture.md "Query surfaces"): the sort condition in the new
 * key space, which start keys a page token may carry, the comparison of a page between the stores and
 * the classification of a difference, where a GSI's propagation delay is told apart from drift.
 *
 * A page is compared only when both stores returned it complete (no further page): a page of a
 * limited query ends at different items once a filter, tombstones or lag are involved, and a surface
 * whose order is not preserved has no common page boundary at all.
 */
import {
  type AttributeValue,
  type Item,
  type KeySchema,
  type QuerySurface,
  canonicalItem,
  keyNames,
  valuesEqual,
} from '../model';
import { type Difference, type Recheck, ShadowClass, classifyDifference } from './shadow';

/** A sort-key condition on a surface's legacy (or new) sort key. */
export type SurfaceSort =
  | { readonly op: 'eq' | 'lt' | 'le' | 'gt' | 'ge' | 'beginsWith'; readonly value: AttributeValue }
  | { readonly op: 'between'; readonly value: AttributeValue; readonly to: AttributeValue };

/** The legacy sort condition in the new key space (the surface's sort transform is order- and prefix-preserving). */
export function toNewSort(surface: QuerySurface, sort: SurfaceSort): SurfaceSort {
  if (sort.op === 'between')
    return { op: 'between', value: surface.sort(sort.value), to: surface.sort(sort.to) };
  return { op: sort.op, value: surface.sort(sort.value) };
}

/**
 * The attribute names of a page start key on a path: the index key and the table key (DynamoDB's
 * LastEvaluatedKey of an index query holds both).
 */
export function startKeyNames(pathKey: KeySchema, tableKey: KeySchema): string[] {
  return [...new Set([...keyNames(pathKey), ...keyNames(tableKey)])];
}

/** Whether `key` is a start key of this query on a path: exactly its names, and the queried partition. */
export function surfaceStartKeyBelongs(
  key: Item,
  pathKey: KeySchema,
  tableKey: KeySchema,
  partition: AttributeValue,
): boolean {
  const names = startKeyNames(pathKey, tableKey);
  const pk = key[pathKey.partitionKey.name];
  return (
    Object.keys(key).length === names.length &&
    names.every((n) => Object.hasOwn(key, n)) &&
    pk !== undefined &&
    valuesEqual(pk, partition)
  );
}

/** One store's answer to a page, in the legacy shape. */
export interface PageItems {
  readonly items: readonly Item[];
  /** The store returned no further page. */
  readonly complete: boolean;
}

/**
 * Compares a page of legacy with new's (both in the legacy shape): as sequences when the surface
 * keeps order, else as multisets. Undefined when either page is incomplete (nothing can be judged).
 */
export function comparePages(legacy: PageItems, fresh: PageItems, ordered: boolean): ShadowClass | undefined {
  if (!legacy.complete || !fresh.complete) return undefined;
  const l = legacy.items.map(canonicalItem);
  const f = fresh.items.map(canonicalItem);
  const count = (xs: readonly string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const lc = count(l);
  const fc = count(f);
  const missing = [...lc].some(([x, c]) => (fc.get(x) ?? 0) < c);
  const extra = [...fc].some(([x, c]) => (lc.get(x) ?? 0) < c);
  if (!missing && !extra)
    return !ordered || l.every((x, i) => x === f[i]) ? ShadowClass.MATCH : ShadowClass.CONTENT;
  // An item changed in place shows up as one missing and one extra: its content differs.
  if (missing && extra) return ShadowClass.CONTENT;
  return missing ? ShadowClass.MISSING : ShadowClass.EXTRA;
}

/**
 * Classifies a surface page difference. First as a key's difference (`classifyDifference`: the
 * re-check once `F − skew` passed the legacy read tells CDC lag from drift); a difference that
 * outlives it on a GSI is read once more after the index-propagation margin: gone → `index-lag`,
 * legacy changed meanwhile → `within-lag`, still there → the mismatch (never hidden as lag).
 */
export function classifySurfaceDifference(
  first: ShadowClass,
  recheck: Recheck | undefined,
  indexRecheck?: Recheck,
): Difference {
  const d = classifyDifference(first, recheck);
  const mismatch =
    d.class === ShadowClass.MISSING || d.class === ShadowClass.EXTRA || d.class === ShadowClass.CONTENT;
  if (!mismatch || indexRecheck === undefined || indexRecheck.kind === 'frontier-not-reached') return d;
  if (indexRecheck.legacyChanged) return { class: ShadowClass.WITHIN_LAG, first };
  if (indexRecheck.second === ShadowClass.MATCH) return { class: ShadowClass.INDEX_LAG, first };
  return { class: indexRecheck.second, first };
}

/**
 * The DUAL_READ rollout percent of one surface's queries: the migration's rollout, limited by the
 * surface's own (`settings.surfaces.<name>.rollout`, `dualread rollout --surface`) when set. A limit of
 * 0 keeps every query of the surface on legacy in DUAL_READ.
 */
export function surfaceRolloutPercent(rolloutPercent: number, surfaceLimit: number | undefined): number {
  return surfaceLimit === undefined ? rolloutPercent : Math.min(rolloutPercent, Math.max(0, surfaceLimit));
}
