/**
 * Migration metadata on new-table items (docs/design.md §3). Names are derived from the migration's prefix.
 */
import { type AttributeValue, type Item, omitPrefixed } from './values';

/** Where a new-table item came from. */
export const Source = { CDC: 'cdc', BACKFILL: 'backfill', REPAIR: 'repair' } as const;
export type Source = (typeof Source)[keyof typeof Source];

/** The metadata attribute names for one prefix. */
export interface MetadataNames {
  readonly seq: string;
  readonly src: string;
  readonly ts: string;
  readonly del: string;
  readonly ttl: string;
  readonly prefix: string;
}

/** Metadata attribute names for `prefix` (default `_dr_`). */
export function metadataNames(prefix = '_dr_'): MetadataNames {
  return {
    prefix,
    seq: `${prefix}seq`,
    src: `${prefix}src`,
    ts: `${prefix}ts`,
    del: `${prefix}del`,
    ttl: `${prefix}ttl`,
  };
}

/** Width of padded sequence numbers: string order equals numeric order. */
export const SEQ_WIDTH = 40;

/** The sequence value backfill writes: forty zeros, older than any stream record. */
export const BACKFILL_SEQ = '0'.repeat(SEQ_WIDTH);

/**
 * Zero-pads a stream sequence number to 40 digits so that string comparison (what a DynamoDB
 * condition expression does on S values) is numeric comparison.
 *
 * @throws RangeError if it is not a decimal integer of at most 40 digits
 */
export function padSequence(sequenceNumber: string): string {
  if (!/^\d{1,40}$/.test(sequenceNumber)) {
    throw new RangeError(
      `stream sequence number "${sequenceNumber}" is not a decimal integer of at most 40 digits`,
    );
  }
  return sequenceNumber.padStart(SEQ_WIDTH, '0');
}

/** Compares two sequence numbers numerically (negative, zero, positive). */
export function compareSequence(a: string, b: string): number {
  const pa = padSequence(a);
  const pb = padSequence(b);
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/** True if the new-table item is a tombstone. */
export function isTombstone(item: Item, names: MetadataNames): boolean {
  const del = item[names.del];
  return del !== undefined && 'BOOL' in del && del.BOOL;
}

/** The item without its metadata attributes: what the read path and the diff see. */
export function stripMetadata(item: Item, names: MetadataNames): Item {
  return omitPrefixed(item, names.prefix);
}

/** Reads `_dr_seq` of a new-table item, if present. */
export function sequenceOf(item: Item, names: MetadataNames): string | undefined {
  const v: AttributeValue | undefined = item[names.seq];
  return v !== undefined && 'S' in v ? v.S : undefined;
}
