/**
 * Order violations: what the apply rule assumes beyond DynamoDB's documentation is that sequence numbers
 * of one item increase with the order of its writes, also across shards (docs/correctness.md, "Apply
 * rule"). Two detectors: `classifySkip` reads a rejected write (a duplicate, a normal stale replay, or a
 * provably newer change being lost), and `findSeqRegressions` finds a sequence number that regressed for
 * one key within one shard-ordered delivery.
 */
import {
  Source,
  type MetadataNames,
  padSequence,
  sequenceOf,
  type Item,
  canonicalItem,
  pick,
} from '../model';
import type { StreamChange } from './stream-change';

/** Why a change was skipped. */
export const SkipReason = {
  /** The stored item carries this very sequence number: the change was applied before (redelivery). */
  DUPLICATE: 'duplicate',
  /** The stored item carries a larger sequence number from an earlier-or-equal write: normal replay. */
  STALE: 'stale',
  /**
   * The stored item carries a larger sequence number, but was written by a change that happened
   * strictly BEFORE this one (by the records' creation times): per-item sequence order is violated
   * and this change is being lost. Counted as `OrderViolations` and alarmed.
   */
  ORDER_VIOLATION: 'order-violation',
  /**
   * A change of the same key with a larger sequence number in the same delivery was written instead
   * (its whole image contains this change's effect: core/cdc/coalesce.ts).
   */
  SUPERSEDED: 'superseded',
} as const;
export type SkipReason = (typeof SkipReason)[keyof typeof SkipReason];

/** Default slack when comparing creation times of two records (clocks of different partitions). */
export const DEFAULT_ORDER_TOLERANCE_MS = 1000;

/**
 * Classifies a skipped change from the stored item the condition saw.
 *
 * Creation times are rounded (AWS: second; DynamoDB Local: minute), but rounding is monotone, so
 * `rounded(a) > rounded(b) + tolerance` still proves `a > b`. The check therefore never fires on a
 * legitimate replay (where the stored write is the later one) and fires whenever a change provably
 * newer than the stored one is rejected. It can miss violations within one rounding unit; see
 * docs/correctness.md for the second detector (`findSeqRegressions`).
 */
export function classifySkip(
  change: StreamChange,
  stored: Item | undefined,
  names: MetadataNames,
  toleranceMs: number = DEFAULT_ORDER_TOLERANCE_MS,
): SkipReason {
  if (!stored) return SkipReason.STALE;
  const storedSeq = sequenceOf(stored, names);
  const seq = padSequence(change.sequenceNumber);
  if (storedSeq === seq) return SkipReason.DUPLICATE;
  const src = stored[names.src];
  const ts = stored[names.ts];
  const storedTime = ts !== undefined && 'N' in ts ? Number(ts.N) : undefined;
  if (
    storedSeq !== undefined &&
    storedSeq > seq &&
    src !== undefined &&
    'S' in src &&
    src.S === Source.CDC &&
    storedTime !== undefined &&
    change.approximateCreationTime > storedTime + toleranceMs
  ) {
    return SkipReason.ORDER_VIOLATION;
  }
  return SkipReason.STALE;
}

/**
 * Finds the changes of one shard-ordered delivery (a Lambda batch is one shard, in order) whose
 * sequence number is not larger than that of an earlier change of the same legacy key in the same
 * delivery: per-item order regressed within the stream itself. Returns their sequence numbers.
 */
export function findSeqRegressions(
  changes: readonly StreamChange[],
  legacyKeyNames: readonly string[],
): string[] {
  const highest = new Map<string, string>();
  const out: string[] = [];
  for (const change of changes) {
    let seq: string;
    let key: string;
    try {
      seq = padSequence(change.sequenceNumber);
      key = canonicalItem(pick(change.keys, legacyKeyNames));
    } catch {
      continue; // a poison record; it fails on its own in the apply step
    }
    const before = highest.get(key);
    if (before !== undefined && seq <= before) out.push(change.sequenceNumber);
    else highest.set(key, seq);
  }
  return out;
}
