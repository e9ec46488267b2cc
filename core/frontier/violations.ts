/**
 * The assumptions the frontier rests on beyond DynamoDB's per-item order (docs/correctness.md,
 * "Frontier"), as the kinds of violation the ledger counts when a record or a marker breaks one.
 */

/** Kinds of assumption violations the tracker detects. */
export const FrontierViolation = {
  /** A1: a shard returned a sequence number not greater than the previous one. */
  SEQUENCE_NOT_INCREASING: 'SequenceNotIncreasing',
  /** A8: a sequence number already read on another shard (markers name a shard by one). */
  SEQUENCE_NOT_UNIQUE: 'SequenceNotUnique',
  /**
   * A5, order across a split: a child's record for an item is older than the parent's last one for it,
   * or a child's record was certainly created before the parent's last record.
   */
  CHILD_BEHIND_PARENT: 'ChildBehindParent',
  /** A2: a record's approximate creation time (floored) is later than when it was read. */
  CREATION_TIME_AHEAD: 'CreationTimeAhead',
  /**
   * A late record: read after a published `F` had passed its creation time (certainly: its floored
   * creation time plus the granularity is at most `F`), and not applied when that `F` was published —
   * the published `F` was wrong (T1, A3 or A4 failed). Counted once the evidence shows it was not
   * applied then: its progress marker was written after the publish, or its new item still lacks it.
   */
  LATE_RECORD: 'LateRecord',
  /** Marker contract: `first` and `last` are not records of the same shard. */
  MARKER_SPANS_SHARDS: 'MarkerSpansShards',
  /** Marker contract: the shard holds a different number of records from `first` to `last` than `count`. */
  MARKER_COUNT_MISMATCH: 'MarkerCountMismatch',
  /** The reader fell behind the 24 h trim horizon: records were lost unread. */
  TRIMMED_UNREAD: 'TrimmedUnread',
} as const;
export type FrontierViolation = (typeof FrontierViolation)[keyof typeof FrontierViolation];

/** The sum of violation counts by kind. */
export function violationTotal(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
