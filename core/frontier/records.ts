/**
 * The records the frontier ledger keeps: a stream record as the tracker reads it, a record read but not
 * yet known applied (and from what evidence it came to be), a read to the tip (a probe), and a record
 * whose new item may prove it applied.
 */
import type { Item } from '../model';

/** A stream record as the tracker sees it. */
export interface TrackedRecordInput {
  /** Sequence number as the stream gives it (unpadded or padded). */
  readonly sequenceNumber: string;
  /** `ApproximateCreationDateTime`, epoch ms. */
  readonly approxCreationMs: number;
  /** The legacy key of the item. */
  readonly keys: Item;
}

/** How a pending record came to be known applied. */
export const Evidence = { MARKER: 'marker', ITEM: 'item', WAIVER: 'waiver' } as const;
export type Evidence = (typeof Evidence)[keyof typeof Evidence];

/** A record read and not yet folded into its shard's applied prefix. */
export interface PendingRecord {
  readonly seq: string;
  readonly approxCreationMs: number;
  readonly keys: Item;
  readonly receivedAt: number;
  evidence?: Evidence;
  /** Listed as failed by a progress marker: dead-lettered unless later evidence says otherwise. */
  deadLettered: boolean;
  /** When the marker that listed it as failed was written (retries follow within minutes). */
  deadLetteredAt?: number;
  /**
   * Read after a published `F` passed its creation time: the time of the first publish that did. It is
   * a late record if it was not applied by then (decided when its evidence comes).
   */
  lateSince?: number;
}

/** A read of a shard that found its tip. */
export interface Probe {
  /** Start of the read that found the tip, minus the propagation margin. */
  readonly caughtUpIfApplied: number;
  /** Last sequence number seen when the read found the tip; undefined if none. */
  readonly reached?: string;
}

/** A record whose new item the tracker should look up for evidence. */
export interface EvidenceCandidate {
  readonly shardId: string;
  readonly seq: string;
  readonly keys: Item;
}
