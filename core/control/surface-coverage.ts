/**
 * Which legacy access paths the migration covers (issue 16): every secondary index the legacy table
 * really has (DescribeTable, through a `FactsPort`) against the definition's query surfaces and its
 * `legacyTable.unusedIndexes`. A legacy index that is neither mapped nor declared unused is a read
 * path nobody verified: once reads go to new, a client querying it would still be served by legacy's
 * index and never by new's, or fail at cutover. The SHADOW → DUAL_READ guardrail refuses it
 * (core/control/guardrails.ts) and `dualread surfaces` lists it.
 */
import type { Migration } from '../model';

/** One secondary index of the legacy table, as DynamoDB describes it. */
export interface LegacyIndexFact {
  readonly name: string;
  readonly kind: 'global' | 'local';
}

/** The definition's side of the coverage, and the legacy table's indexes as described. */
export interface SurfaceCoverage {
  /** The legacy table's indexes; undefined when they could not be read (`legacyIndexesError` says why). */
  readonly legacyIndexes?: readonly LegacyIndexFact[];
  readonly legacyIndexesError?: string;
  /** Where `legacyIndexes` came from: DescribeTable, or the definition when no table was described. */
  readonly legacyIndexesSource: 'table' | 'definition';
  /** Every surface: its name, the legacy index it queries (none: the base table), inferred or declared. */
  readonly surfaces: ReadonlyArray<{
    readonly name: string;
    readonly legacyIndex?: string;
    readonly inferred: boolean;
  }>;
  readonly unusedIndexes: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
}

/** The definition's side of the coverage (the legacy indexes are added by the facts reader). */
export function declaredCoverage(
  migration: Pick<Migration, 'queries' | 'legacyTable'>,
): Pick<SurfaceCoverage, 'surfaces' | 'unusedIndexes'> {
  return {
    surfaces: Object.values(migration.queries).map((q) => ({
      name: q.name,
      ...(q.legacy.index !== undefined ? { legacyIndex: q.legacy.index } : {}),
      inferred: q.inferred,
    })),
    unusedIndexes: (migration.legacyTable.unusedIndexes ?? []).map((u) => ({
      name: u.name,
      reason: u.reason,
    })),
  };
}

/** One legacy index and what covers it. */
export interface IndexCoverage {
  readonly index: string;
  readonly kind: 'global' | 'local';
  /** `mapped` by `surfaces`, declared `unused` (with `reason`), or `unmapped`. */
  readonly status: 'mapped' | 'unused' | 'unmapped';
  readonly surfaces: readonly string[];
  readonly reason?: string;
}

/** Each legacy index (as described) and what covers it, in the table's order; empty when unknown. */
export function indexCoverage(c: SurfaceCoverage): IndexCoverage[] {
  return (c.legacyIndexes ?? []).map((ix) => {
    const surfaces = c.surfaces.filter((s) => s.legacyIndex === ix.name).map((s) => s.name);
    const unused = c.unusedIndexes.find((u) => u.name === ix.name);
    if (surfaces.length) return { index: ix.name, kind: ix.kind, status: 'mapped', surfaces };
    if (unused) return { index: ix.name, kind: ix.kind, status: 'unused', surfaces, reason: unused.reason };
    return { index: ix.name, kind: ix.kind, status: 'unmapped', surfaces };
  });
}

/** Surfaces that query a legacy index the legacy table does not have (their queries would fail). */
export function surfacesOfMissingIndexes(c: SurfaceCoverage): Array<{ surface: string; index: string }> {
  if (!c.legacyIndexes) return [];
  const names = new Set(c.legacyIndexes.map((i) => i.name));
  return c.surfaces
    .filter((s) => s.legacyIndex !== undefined && !names.has(s.legacyIndex))
    .map((s) => ({ surface: s.name, index: s.legacyIndex as string }));
}
