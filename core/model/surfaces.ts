/**
 * Query surfaces (docs/architecture.md "Query surfaces"): every legacy access path a client queries —
 * the base table or a named legacy GSI/LSI — mapped explicitly onto a new-table access path (base
 * table or a named new GSI) with its partition-key transform, sort-key transform, whether sort order
 * is preserved, and a filter that drops new items of other entity types sharing an overloaded index.
 *
 * `resolveSurfaces` turns the definition's `queries` into `QuerySurface`s, with the base table's
 * inferred mapping as an explicit default named `base`; `checkSurfacesOnSamples` runs every surface's
 * query on the samples as DynamoDB would (partition equality, sort order by bytes or by value, sparse
 * indexes) and refuses a surface whose new query does not return exactly the mapped legacy results,
 * in the same order when order is declared preserved.
 */
import { MigrationDefinitionError } from '../common';
import { canonical, canonicalItem, compareScalars, valuesEqual } from './canonical';
import { toDynamoJson } from './dynamo-json';
import type { KeyAttribute, KeySchema } from './migration';
import type { AttributeValue, Item } from './values';

/** A secondary index of a table, as the definition declares it (projection: all attributes). */
export interface IndexDefinition {
  readonly name: string;
  readonly key: KeySchema;
  /** Global (own partition key; eventually consistent) or local (the table's partition key). @default 'global' */
  readonly kind?: 'global' | 'local';
}

/** A legacy index no client queries, declared so the SHADOW → DUAL_READ guardrail accepts it unmapped. */
export interface UnusedIndex {
  readonly name: string;
  /** Why nothing reads it (who checked, how): shown by `dualread surfaces` and the guardrail. */
  readonly reason: string;
}

/** One declared query surface: what a user writes under `queries.<name>`. */
export interface QuerySurfaceInput {
  /** Legacy access path: a legacy index declared in `legacyTable.indexes`; the base table when omitted. */
  readonly legacyIndex?: string;
  /** New access path: a GSI declared in `newTable.indexes`; the base table when omitted. */
  readonly newIndex?: string;
  /** Legacy partition value → new partition value (e.g. `email` → `EMAIL#<email>`). */
  readonly partition: (legacyPartition: AttributeValue) => AttributeValue;
  /** Legacy sort value → new sort value, for key conditions. @default identity */
  readonly sort?: (legacySort: AttributeValue) => AttributeValue;
  /**
   * New returns the items in legacy's order. @default true when the legacy path has a sort key (then
   * the sort transform must preserve order), false when it has none. When false, results compare as
   * sets, sort-key conditions are refused and a page sequence never changes store.
   */
  readonly orderPreserved?: boolean;
  /** Keeps a new item (metadata stripped, before `unmapItem`) only when it belongs to this surface. @default all */
  readonly filter?: (newItem: Item) => boolean;
}

/** One side of a resolved surface: the table or index queried and its key. */
export interface SurfacePath {
  /** Index name; undefined for the base table. */
  readonly index?: string;
  readonly key: KeySchema;
  /** Reads of this path are eventually consistent (a GSI): no ConsistentRead, index-propagation margin. */
  readonly eventual: boolean;
}

/** A resolved query surface. */
export interface QuerySurface {
  readonly name: string;
  readonly legacy: SurfacePath;
  readonly fresh: SurfacePath;
  readonly partition: (legacyPartition: AttributeValue) => AttributeValue;
  readonly sort: (legacySort: AttributeValue) => AttributeValue;
  readonly orderPreserved: boolean;
  readonly filter: (newItem: Item) => boolean;
  /** The base-table default inferred from `mapKey` (served by the base-table query path). */
  readonly inferred: boolean;
}

/** Name of the base-table surface. */
export const BASE_SURFACE = 'base';
const SURFACE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const identityValue = (v: AttributeValue): AttributeValue => v;
const keepAll = (): boolean => true;
/** A value as DynamoDB JSON, for messages. */
const shown = (v: AttributeValue): string => JSON.stringify(toDynamoJson(v));

/** What `resolveSurfaces` needs of the migration being defined. */
export interface SurfaceTables {
  readonly id: string;
  readonly legacyTable: { readonly key: KeySchema; readonly indexes?: readonly IndexDefinition[] };
  readonly newTable: { readonly key: KeySchema; readonly indexes?: readonly IndexDefinition[] };
  readonly mapKey: (legacyKey: Item) => Item;
}

/** Validates a table's declared indexes (names unique, keys well formed, LSIs share the partition key). */
export function checkIndexes(
  id: string,
  which: 'legacyTable' | 'newTable',
  table: SurfaceTables['legacyTable'],
): void {
  const seen = new Set<string>();
  for (const [i, ix] of (table.indexes ?? []).entries()) {
    const where = `${which}.indexes[${i}]`;
    if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(ix?.name ?? ''))
      throw new MigrationDefinitionError(
        id,
        `${where}.name "${ix?.name}" is not a valid DynamoDB index name`,
      );
    if (seen.has(ix.name))
      throw new MigrationDefinitionError(id, `${where}: index "${ix.name}" is declared twice`);
    seen.add(ix.name);
    const attrs = [ix.key?.partitionKey, ...(ix.key?.sortKey ? [ix.key.sortKey] : [])];
    if (attrs.some((a) => !a || typeof a.name !== 'string' || !a.name || !['S', 'N', 'B'].includes(a.type)))
      throw new MigrationDefinitionError(
        id,
        `${where}.key needs attributes with a name and type "S", "N" or "B"`,
      );
    const kind = ix.kind ?? 'global';
    if (kind !== 'global' && kind !== 'local')
      throw new MigrationDefinitionError(
        id,
        `${where}.kind must be "global" or "local", not "${String(kind)}"`,
      );
    if (kind === 'local' && which === 'newTable')
      throw new MigrationDefinitionError(id, `${where}: the new table's indexes must be global (GSIs)`);
    if (kind === 'local' && (ix.key.partitionKey.name !== table.key.partitionKey.name || !ix.key.sortKey))
      throw new MigrationDefinitionError(
        id,
        `${where}: a local index has the table's partition key ("${table.key.partitionKey.name}") and its own sort key`,
      );
  }
}

function pathOf(
  id: string,
  surface: string,
  which: 'legacy' | 'new',
  table: SurfaceTables['legacyTable'],
  index?: string,
): SurfacePath {
  if (index === undefined) return { key: table.key, eventual: false };
  const ix = (table.indexes ?? []).find((i) => i.name === index);
  if (!ix) {
    const declared = (table.indexes ?? []).map((i) => `"${i.name}"`).join(', ') || 'none';
    throw new MigrationDefinitionError(
      id,
      `queries["${surface}"].${which}Index "${index}" is not declared in ${which === 'legacy' ? 'legacyTable' : 'newTable'}.indexes (declared: ${declared})`,
    );
  }
  return { index, key: ix.key, eventual: (ix.kind ?? 'global') === 'global' };
}

/**
 * The base-table default: a legacy query of one partition runs on new when `mapKey` puts the whole
 * partition under one new partition value and carries the legacy sort value unchanged (probed per
 * query by `queryMapping`, core/read: a partition it cannot map is served from legacy).
 */
function inferredBase(t: SurfaceTables): QuerySurface {
  const lsk = t.legacyTable.key.sortKey;
  const partition = (v: AttributeValue): AttributeValue => {
    const key: Record<string, AttributeValue> = { [t.legacyTable.key.partitionKey.name]: v };
    if (lsk)
      key[lsk.name] =
        lsk.type === 'N' ? { N: '0' } : lsk.type === 'S' ? { S: 'a' } : { B: new Uint8Array([0]) };
    const out = t.mapKey(key)[t.newTable.key.partitionKey.name];
    if (out === undefined) throw new TypeError('mapKey gave no new partition value');
    return out;
  };
  return {
    name: BASE_SURFACE,
    legacy: { key: t.legacyTable.key, eventual: false },
    fresh: { key: t.newTable.key, eventual: false },
    partition,
    sort: identityValue,
    orderPreserved: lsk !== undefined,
    filter: keepAll,
    inferred: true,
  };
}

/**
 * Resolves the definition's `queries` into surfaces, `base` (the inferred base-table default) first
 * unless the definition overrides it.
 *
 * @throws MigrationDefinitionError naming the surface and what is wrong with it
 */
export function resolveSurfaces(
  t: SurfaceTables,
  queries: Readonly<Record<string, QuerySurfaceInput>> | undefined,
): Readonly<Record<string, QuerySurface>> {
  const out: Record<string, QuerySurface> = Object.create(null) as Record<string, QuerySurface>;
  out[BASE_SURFACE] = inferredBase(t);
  for (const [name, q] of Object.entries(queries ?? {})) {
    const where = `queries["${name}"]`;
    if (!SURFACE_NAME.test(name))
      throw new MigrationDefinitionError(
        t.id,
        `${where}: a surface name starts with a lowercase letter and holds lowercase letters, digits and dashes`,
      );
    if (typeof q?.partition !== 'function')
      throw new MigrationDefinitionError(
        t.id,
        `${where}.partition must be a function (legacy partition value → new)`,
      );
    for (const f of ['sort', 'filter'] as const)
      if (q[f] !== undefined && typeof q[f] !== 'function')
        throw new MigrationDefinitionError(t.id, `${where}.${f} must be a function`);
    const legacy = pathOf(t.id, name, 'legacy', t.legacyTable, q.legacyIndex);
    const fresh = pathOf(t.id, name, 'new', t.newTable, q.newIndex);
    const lsk = legacy.key.sortKey;
    const nsk = fresh.key.sortKey;
    if (lsk && !nsk)
      throw new MigrationDefinitionError(
        t.id,
        `${where}: the legacy path has sort key "${lsk.name}" but the new path has none; sort-key conditions could not be served`,
      );
    const orderPreserved = q.orderPreserved ?? lsk !== undefined;
    if (orderPreserved && !lsk)
      throw new MigrationDefinitionError(
        t.id,
        `${where}: orderPreserved is true but the legacy path has no sort key, so there is no order to preserve`,
      );
    out[name] = {
      name,
      legacy,
      fresh,
      partition: q.partition,
      sort: q.sort ?? identityValue,
      orderPreserved,
      filter: q.filter ?? keepAll,
      inferred: false,
    };
  }
  return out;
}

/**
 * Validates `legacyTable.unusedIndexes`: valid index names, each once, with a reason, and none that a
 * surface maps (an index cannot be both queried and unused).
 *
 * @throws MigrationDefinitionError naming the entry and the fix
 */
export function checkUnusedIndexes(
  id: string,
  legacyTable: { readonly unusedIndexes?: readonly UnusedIndex[] },
  surfaces: Readonly<Record<string, QuerySurface>>,
): void {
  const seen = new Set<string>();
  for (const [i, u] of (legacyTable.unusedIndexes ?? []).entries()) {
    const where = `legacyTable.unusedIndexes[${i}]`;
    if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(u?.name ?? ''))
      throw new MigrationDefinitionError(id, `${where}.name "${u?.name}" is not a valid DynamoDB index name`);
    if (typeof u.reason !== 'string' || u.reason.trim() === '')
      throw new MigrationDefinitionError(
        id,
        `${where} ("${u.name}") needs a reason: say why no client queries it (e.g. "reporting job retired in 2025, checked by ...")`,
      );
    if (seen.has(u.name))
      throw new MigrationDefinitionError(id, `${where}: index "${u.name}" is declared unused twice`);
    seen.add(u.name);
    const mapper = Object.values(surfaces).find((q) => q.legacy.index === u.name);
    if (mapper)
      throw new MigrationDefinitionError(
        id,
        `${where}: index "${u.name}" is declared unused but queries["${mapper.name}"] maps it; remove one of the two`,
      );
  }
}

/** What `checkSurfacesOnSamples` needs: the validated transforms and the samples. */
export interface SurfaceSamples {
  readonly id: string;
  readonly mapItem: (legacyItem: Item) => Item;
  readonly unmapItem: (newItem: Item) => Item;
  readonly samples: readonly Item[];
}

function keyValue(item: Item, attr: KeyAttribute | undefined): AttributeValue | undefined {
  if (!attr) return undefined;
  const v = item[attr.name];
  return v !== undefined && Object.hasOwn(item, attr.name) && attr.type in v ? v : undefined;
}

/** Items of `items` a query of `path` for `partition` returns, in the order DynamoDB returns them. */
export function simulateQuery(items: readonly Item[], path: SurfacePath, partition: AttributeValue): Item[] {
  const { partitionKey, sortKey } = path.key;
  const hits = items.filter((i) => {
    const p = keyValue(i, partitionKey);
    return p !== undefined && valuesEqual(p, partition) && (!sortKey || keyValue(i, sortKey) !== undefined);
  });
  if (!sortKey) return hits;
  return hits.sort(
    (a, b) => compareScalars(a[sortKey.name] as AttributeValue, b[sortKey.name] as AttributeValue) ?? 0,
  );
}

function call<T>(id: string, where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof MigrationDefinitionError) throw err;
    throw new MigrationDefinitionError(
      id,
      `${where} threw: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/**
 * Runs every declared surface on the samples: for each legacy partition value the samples hold, the
 * legacy query's results must be exactly the unmapped results of the new query (same order when order
 * is preserved), and the sort transform must keep the order and prefixes of every pair of sample sort
 * values. The inferred base default is checked only when the legacy table has a sort key.
 *
 * @throws MigrationDefinitionError naming the surface, the partition and the difference
 */
export function checkSurfacesOnSamples(
  s: SurfaceSamples,
  surfaces: Readonly<Record<string, QuerySurface>>,
): void {
  if (s.samples.length === 0) return;
  const mapped = s.samples.map((i) => s.mapItem(i));
  for (const surface of Object.values(surfaces)) {
    if (surface.inferred && !surface.legacy.key.sortKey) continue;
    const where = `queries["${surface.name}"]`;
    const lsk = surface.legacy.key.sortKey;
    if (lsk && surface.orderPreserved) checkSortTransform(s, surface, where);
    const partitions = new Map<string, AttributeValue>();
    for (const item of s.samples) {
      const p = keyValue(item, surface.legacy.key.partitionKey);
      if (p) partitions.set(canonical(p), p);
    }
    for (const p of partitions.values()) {
      const legacyResults = simulateQuery(s.samples, surface.legacy, p);
      const np = call(s.id, `${where}.partition`, () => surface.partition(p));
      const newResults = simulateQuery(mapped, surface.fresh, np)
        .filter((i) => call(s.id, `${where}.filter`, () => surface.filter(i)))
        .map((i) => s.unmapItem(i));
      const want = legacyResults.map(canonicalItem);
      const got = newResults.map(canonicalItem);
      const sortedEqual = JSON.stringify([...want].sort()) === JSON.stringify([...got].sort());
      const problem = !sortedEqual
        ? `returns ${got.length} item(s) where legacy returns ${want.length}` +
          (got.length === want.length ? ' (different items)' : '') +
          `; does mapItem write "${surface.fresh.key.partitionKey.name}" = partition(${shown(p)}) = ${shown(np)}` +
          `${surface.fresh.key.sortKey ? ` and "${surface.fresh.key.sortKey.name}"` : ''} on every item of the surface, and does the filter keep exactly them?`
        : surface.orderPreserved && JSON.stringify(want) !== JSON.stringify(got)
          ? 'returns the same items in another order, but the surface declares order preserved'
          : undefined;
      if (problem)
        throw new MigrationDefinitionError(
          s.id,
          `${where}: on the samples, the new query for legacy partition ${shown(p)} ${problem}`,
        );
    }
  }
}

/** The sort transform must keep the order (and, for strings, the prefixes) of every pair of sample values. */
function checkSortTransform(s: SurfaceSamples, surface: QuerySurface, where: string): void {
  const lsk = surface.legacy.key.sortKey as KeyAttribute;
  const values = s.samples.map((i) => keyValue(i, lsk)).filter((v): v is AttributeValue => v !== undefined);
  const f = (v: AttributeValue): AttributeValue => call(s.id, `${where}.sort`, () => surface.sort(v));
  for (const a of values)
    for (const b of values) {
      const before = Math.sign(compareScalars(a, b) ?? 0);
      const after = Math.sign(compareScalars(f(a), f(b)) ?? Number.NaN);
      if (before !== after)
        throw new MigrationDefinitionError(
          s.id,
          `${where}: the sort transform does not preserve order: legacy ${shown(a)} ${before < 0 ? '<' : before > 0 ? '>' : '='} ${shown(b)} ` +
            `but new ${shown(f(a))} ${after < 0 ? '<' : after > 0 ? '>' : Number.isNaN(after) ? 'cannot be ordered against' : '='} ${shown(f(b))}; ` +
            'use an order-preserving transform (e.g. a constant prefix, zero-padded numbers)',
        );
      if ('S' in a && 'S' in b && b.S.startsWith(a.S)) {
        const fa = f(a);
        const fb = f(b);
        if (!('S' in fa && 'S' in fb && fb.S.startsWith(fa.S)))
          throw new MigrationDefinitionError(
            s.id,
            `${where}: the sort transform does not preserve prefixes (${shown(a)} is a prefix of ${shown(b)}, ` +
              `${shown(fa)} is not a prefix of ${shown(fb)}), so beginsWith conditions could not be translated`,
          );
      }
    }
}
