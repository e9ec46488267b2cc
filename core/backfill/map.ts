/**
 * The backfill's mapping of one legacy item to the item it writes: `mapItem(item)` plus the backfill
 * metadata (`_dr_seq` = forty zeros, `_dr_src` = backfill, `_dr_ts` = scan time), or the reason it
 * cannot be written (a poison item): `mapKey` or `mapItem` throws or returns an invalid item, the
 * mapped item is not under `mapKey(legacy key)` (it would land on another key), or it writes the
 * reserved metadata prefix, or a value was lost on the way (see `findLostAttribute`).
 */
import {
  mappedKeyProblem,
  BACKFILL_SEQ,
  Source,
  metadataNames,
  type Migration,
  keyOf,
  type Item,
  assertItem,
  emptyItem,
  findLostAttribute,
  mergeItems,
} from '../model';

/** The item to write, or why the legacy item is poison. */
export type BackfillMapping = { readonly item: Item; readonly key: Item } | { readonly reason: string };

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Maps a legacy item for the backfill (see the module comment). Never throws. */
export function mapForBackfill(migration: Migration, legacy: Item, scanTime: number): BackfillMapping {
  const names = metadataNames(migration.metadataPrefix);
  // A value lost on the way in (an SDK that dropped an attribute named like a prototype member) is
  // poison, never copied without it (core/model/validation.ts, findLostAttribute).
  const lostIn = findLostAttribute(legacy, 'legacy item');
  if (lostIn) return { reason: describe(lostIn) };
  let key: Item;
  try {
    key = assertItem(migration.mapKey(keyOf(legacy, migration.legacyTable.key)), 'mapKey result');
  } catch (err) {
    return { reason: `mapKey threw ${describe(err)}` };
  }
  let mapped: Item;
  try {
    mapped = assertItem(migration.mapItem(legacy), 'mapItem result');
  } catch (err) {
    return { reason: `mapItem threw ${describe(err)}` };
  }
  const moved = mappedKeyProblem(migration, key, mapped);
  if (moved) return { reason: moved };
  const reserved = Object.keys(mapped).filter((n) => n.startsWith(names.prefix));
  if (reserved.length) return { reason: `mapItem wrote reserved metadata attributes ${reserved.join(', ')}` };
  const meta = emptyItem();
  meta[names.seq] = { S: BACKFILL_SEQ };
  meta[names.src] = { S: Source.BACKFILL };
  meta[names.ts] = { N: String(Math.trunc(scanTime)) };
  return { item: mergeItems(mapped, meta), key };
}
