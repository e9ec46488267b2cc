/**
 * The per-batch progress marker (contract between the sync Lambda and the frontier tracker): after a
 * Lambda stream batch has been processed, the sync handler writes ONE control item
 * `APPLIED#<padded first seq>` saying which records of that batch are durably applied. Lambda's
 * records carry no shard id; sequence numbers are unique across a stream, so `first` identifies the
 * shard, and the tracker (which knows each shard's record order) marks `first..last` applied except
 * `failed`.
 */
import { padSequence } from '../model';

/** Prefix of progress-marker sort keys. */
export const APPLIED_PREFIX = 'APPLIED#';

/** Sort key of the marker of a batch whose first record has sequence number `firstSeq`. */
export function appliedMarkerKey(firstSeq: string): string {
  return `${APPLIED_PREFIX}${padSequence(firstSeq)}`;
}

/** How long markers live: the tracker reads them within minutes; 2 days covers the 24 h stream retention. */
export const APPLIED_MARKER_TTL_SECONDS = 2 * 24 * 3600;

/** The marker document. */
export interface AppliedMarker {
  /** Padded sequence number of the batch's first record. */
  readonly first: string;
  /** Padded sequence number of the batch's last record. */
  readonly last: string;
  /** Records in the event. */
  readonly count: number;
  /** Padded sequence numbers reported in `batchItemFailures` (not applied). */
  readonly failed: readonly string[];
  /** Epoch ms when written. */
  readonly at: number;
  /** Epoch seconds: control-table TTL. */
  readonly expiresAt: number;
}

/** Builds the marker of a batch from its sequence numbers in delivery order and the failed ones. */
export function buildAppliedMarker(
  sequenceNumbers: readonly string[],
  failed: readonly string[],
  now: number,
): AppliedMarker {
  if (sequenceNumbers.length === 0) throw new RangeError('a progress marker needs at least one record');
  return {
    first: padSequence(sequenceNumbers[0] as string),
    last: padSequence(sequenceNumbers[sequenceNumbers.length - 1] as string),
    count: sequenceNumbers.length,
    failed: failed.map(padSequence),
    at: now,
    expiresAt: Math.floor(now / 1000) + APPLIED_MARKER_TTL_SECONDS,
  };
}
