/**
 * Whether a legacy query can run on the new table, and how a page's start key moves between the two
 * key spaces (docs/architecture.md "Routing", queries). A legacy query maps onto new for a partition
 * when the new partition value does not depend on the legacy sort key and the new sort key carries
 * the legacy sort key unchanged: then sort order, conditions and page keys translate one to one.
 */
import { type AttributeValue, type Item, type Migration, keyNames, valuesEqual } from '../model';
import { Store } from './routing';

/** How a legacy query's partition maps onto new. */
export interface QueryMapping {
  /** The new table's partition value of the queried legacy partition. */
  readonly newPartition: AttributeValue;
}

/**
 * The mapping of a legacy query's partition onto new, or undefined when the key mapping does not
 * allow it. Probed with two sort values through the migration's `mapKey` (a throwing `mapKey` is
 * "not mappable").
 */
export function queryMapping(migration: Migration, partitionValue: AttributeValue): QueryMapping | undefined {
  const { legacyTable, newTable } = migration;
  const lsk = legacyTable.key.sortKey;
  const nsk = newTable.key.sortKey;
  if (!lsk || !nsk || nsk.type !== lsk.type) return undefined;
  const probe = (v: AttributeValue): Item | undefined => {
    try {
      return migration.mapKey({ [legacyTable.key.partitionKey.name]: partitionValue, [lsk.name]: v });
    } catch {
      return undefined;
    }
  };
  const samples: AttributeValue[] =
    lsk.type === 'S'
      ? [{ S: 'a' }, { S: 'zz' }]
      : lsk.type === 'N'
        ? [{ N: '1' }, { N: '2' }]
        : [{ B: new Uint8Array([1]) }, { B: new Uint8Array([2, 2]) }];
  const [a, b] = samples.map(probe);
  if (!a || !b) return undefined;
  const npk = newTable.key.partitionKey.name;
  const pa = a[npk];
  const pb = b[npk];
  if (!pa || !pb || !valuesEqual(pa, pb)) return undefined;
  if (!valuesEqual(a[nsk.name] as AttributeValue, samples[0] as AttributeValue)) return undefined;
  if (!valuesEqual(b[nsk.name] as AttributeValue, samples[1] as AttributeValue)) return undefined;
  return { newPartition: pa };
}

/**
 * Whether a page token's start key is a key of the query's partition in its store's key space:
 * exactly the key attributes, and the partition value of the query (legacy) or of its mapping (new).
 */
export function startKeyBelongs(
  migration: Migration,
  key: Item,
  store: Store,
  partition: AttributeValue,
  newPartition: AttributeValue | undefined,
): boolean {
  const schema = store === Store.LEGACY ? migration.legacyTable.key : migration.newTable.key;
  const names = keyNames(schema);
  return (
    Object.keys(key).length === names.length &&
    names.every((n) => key[n] !== undefined) &&
    (store === Store.LEGACY
      ? valuesEqual(key[schema.partitionKey.name] as AttributeValue, partition)
      : newPartition !== undefined &&
        valuesEqual(key[schema.partitionKey.name] as AttributeValue, newPartition))
  );
}

/** A legacy page start key in the new key space (the sort value carries over unchanged). */
export function toNewStartKey(migration: Migration, legacyKey: Item, newPartition: AttributeValue): Item {
  const { legacyTable, newTable } = migration;
  return {
    [newTable.key.partitionKey.name]: newPartition,
    [newTable.key.sortKey?.name as string]: legacyKey[
      legacyTable.key.sortKey?.name as string
    ] as AttributeValue,
  };
}

/** A new page start key in the legacy key space of the queried partition. */
export function toLegacyStartKey(migration: Migration, newKey: Item, partition: AttributeValue): Item {
  const { legacyTable, newTable } = migration;
  return {
    [legacyTable.key.partitionKey.name]: partition,
    [legacyTable.key.sortKey?.name as string]: newKey[newTable.key.sortKey?.name as string] as AttributeValue,
  };
}
