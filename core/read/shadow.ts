/**
 * Classifies the difference between what legacy and new return for one key (shadow compare). Both
 * sides are compared in the legacy shape, metadata stripped, tombstones as absent.
 *
 * - `match`: equal (or both absent);
 * - `missing`: legacy has it, new does not;
 * - `extra`: new has it, legacy does not;
 * - `content`: both have it, with different content;
 * - `within-lag`: a difference the frontier explains: a legacy write not yet applied to new;
 * - `unmappable`: new holds an item `unmapItem` refuses. That is a defect of the mapping or of the
 *   data, not lag (every item new holds is `mapItem` of some legacy state, which `unmapItem` must
 *   invert), so it is counted at once, without a re-check, as its own class: a systematic mapping
 *   defect shows up in the SHADOW guardrail's mismatch counts instead of vanishing.
 *
 * Two concurrent reads can never tell drift from lag by themselves: F is always behind the time of
 * the read. So a difference is re-checked once the frontier has passed the time legacy was read:
 *
 *   1. legacy read at t₀ returns L, new returns N ≠ L;
 *   2. wait until F − skew > t₀: every legacy write before t₀ is now applied to new;
 *   3. read legacy again (L′) and new again (N′);
 *   4. L′ ≠ L: the item changed since t₀, nothing can be concluded: `within-lag`;
 *      N′ = L′ (= L): new caught up: the difference was lag: `within-lag`;
 *      N′ ≠ L′ = L: new lacks a write older than F: drift, classified missing/extra/content.
 *
 * When the frontier does not pass t₀ within the re-check's patience the difference stays
 * `within-lag` (unresolved) and is counted as such. (A write reverted between t₀ and the re-check —
 * ABA — is the one case the re-check cannot see; verification compares full stores and catches it.)
 */
import { type Item, itemsEqual } from '../model';

/** Classes of a shadow comparison. */
export const ShadowClass = {
  MATCH: 'match',
  MISSING: 'missing',
  EXTRA: 'extra',
  CONTENT: 'content',
  WITHIN_LAG: 'within-lag',
  UNMAPPABLE: 'unmappable',
  /**
   * Query surfaces only: a difference that outlived the frontier re-check (new's table held every
   * write before the read) and vanished once the index-propagation margin passed: a GSI not yet
   * updated, not drift (`classifySurfaceDifference`, core/read/surface-query.ts).
   */
  INDEX_LAG: 'index-lag',
} as const;
export type ShadowClass = (typeof ShadowClass)[keyof typeof ShadowClass];

/** Compares one key's legacy item with new's (legacy shape; undefined = absent or tombstone). */
export function compareItems(legacy: Item | undefined, fresh: Item | undefined): ShadowClass {
  if (legacy === undefined && fresh === undefined) return ShadowClass.MATCH;
  if (legacy === undefined) return ShadowClass.EXTRA;
  if (fresh === undefined) return ShadowClass.MISSING;
  return itemsEqual(legacy, fresh) ? ShadowClass.MATCH : ShadowClass.CONTENT;
}

/** Result of the re-check (steps 2–3 above). */
export type Recheck =
  | { readonly kind: 'frontier-not-reached' }
  | { readonly kind: 'done'; readonly legacyChanged: boolean; readonly second: ShadowClass };

/** Result of `classifyDifference`. */
export interface Difference {
  readonly class: ShadowClass;
  /** The class of the first comparison. */
  readonly first: ShadowClass;
}

/** Classifies a comparison from its first result and, for a difference, its re-check. */
export function classifyDifference(first: ShadowClass, recheck?: Recheck): Difference {
  if (first === ShadowClass.MATCH || first === ShadowClass.UNMAPPABLE) return { class: first, first };
  if (recheck === undefined || recheck.kind === 'frontier-not-reached' || recheck.legacyChanged)
    return { class: ShadowClass.WITHIN_LAG, first };
  if (recheck.second === ShadowClass.MATCH) return { class: ShadowClass.WITHIN_LAG, first };
  return { class: recheck.second, first };
}
