/**
 * Evidence, per shard: how a record the tracker has read comes to be known applied — a progress marker
 * of the sync Lambda (checked against the shard's records first), an operator's waiver, or the new
 * item's `_dr_seq` — and how a record read after a published `F` had passed it is decided late or not
 * once its evidence comes. `ledger.ts` finds the shard and calls these; the tracker gathers the
 * evidence (`tracker.ts`).
 */
import type { AppliedMarker } from '../cdc';
import { Evidence, type EvidenceCandidate, type PendingRecord } from './records';
import type { ShardLedger } from './shard-ledger';
import { FrontierViolation } from './violations';

/**
 * How long after a record was reported failed its retries may still produce markers that start with
 * it. After that, a dead-lettered record is released only by item evidence (a replay writes the item)
 * or a waiver, so markers are no longer listed from it: the listing stays bounded while it is held.
 */
const RETRY_WINDOW_MS = 10 * 60_000;

/** The first record of a shard a marker could still prove applied. */
export function waitingForMarker(s: ShardLedger, now: number): string | undefined {
  for (const r of s.pending) {
    if (r.evidence !== undefined) continue;
    if (r.deadLettered && now - (r.deadLetteredAt ?? 0) > RETRY_WINDOW_MS) continue;
    return r.seq;
  }
  return undefined;
}

/**
 * Applies a progress marker to the shard that holds its first record, once the tracker has read as far
 * as the marker reaches (`FrontierLedger.applyMarker` decides that). A marker that contradicts the
 * shard's records (its `last` is not a record of `first`'s shard, or it counts a different number of
 * records between them) proves nothing: it is counted and ignored, and its records wait for item
 * evidence.
 */
export function markerEvidence(
  shard: ShardLedger,
  marker: Pick<AppliedMarker, 'first' | 'last' | 'count' | 'failed' | 'at'>,
): void {
  if (shard.seenCompleteAbove !== undefined && marker.first <= shard.seenCompleteAbove) {
    // Starts among records read before a restart: it cannot be checked against the shard, so it is
    // not used (the waiting records it names are offered to item evidence at once instead).
    return;
  }
  if (!shard.hasSeen(marker.last)) {
    // On a shard taken as trimmed before it was read to its end, the records it names were lost
    // unread (counted as TrimmedUnread); otherwise the marker contradicts the shard.
    if (!shard.trimmed) shard.count(FrontierViolation.MARKER_SPANS_SHARDS);
    return;
  }
  const inRange = shard.seenIndex(marker.last) + 1 - shard.seenIndex(marker.first);
  if (inRange !== marker.count) {
    shard.count(FrontierViolation.MARKER_COUNT_MISMATCH);
    return;
  }
  const failed = new Set(marker.failed);
  for (const r of shard.pending) {
    if (r.seq < marker.first) continue;
    if (r.seq > marker.last) break;
    if (failed.has(r.seq)) {
      if (r.evidence === undefined) {
        r.deadLettered = true;
        r.deadLetteredAt = Math.max(r.deadLetteredAt ?? 0, marker.at);
      }
    } else if (r.evidence === undefined) {
      r.evidence = Evidence.MARKER;
      // Applied by a batch whose marker was written after F passed the record: late.
      settleLate(shard, r, r.lateSince !== undefined && marker.at > r.lateSince);
    }
  }
  shard.settle();
}

/** Decides a late-record suspect: counts it if it was late, and forgets the suspicion either way. */
function settleLate(shard: ShardLedger, r: PendingRecord, late: boolean): void {
  if (r.lateSince === undefined) return;
  if (late) shard.count(FrontierViolation.LATE_RECORD);
  delete r.lateSince;
}

/** Marks the shard's waived records applied. */
/**
 * A stream gap opened (gap.ts): every record read and still pending was written before the gap opened,
 * so the recovery's clean verification settles it. Marked as waived; `F` is frozen meanwhile, so this
 * only moves `cdcFrontier` (the recovery's re-check) until the gap closes. Returns how many.
 */
export function gapEvidence(shard: ShardLedger): number {
  let settled = 0;
  for (const r of shard.pending)
    if (r.evidence === undefined) {
      r.evidence = Evidence.WAIVER;
      settleLate(shard, r, false);
      settled++;
    }
  if (settled) shard.settle();
  return settled;
}

export function waiverEvidence(shard: ShardLedger, waived: ReadonlySet<string>): void {
  let changed = false;
  for (const r of shard.pending) {
    if (r.evidence === undefined && waived.has(r.seq)) {
      r.evidence = Evidence.WAIVER;
      // When it was waived is not known here: not counted (a waiver is an operator's decision).
      settleLate(shard, r, false);
      changed = true;
    }
  }
  if (changed) shard.settle();
}

/**
 * The shard's pending records to check against the new table: the first `perShard` unapplied records
 * that are older than `minAgeMs`, dead-lettered, or suspected late (since markers normally arrive
 * first, but these are decided by their item).
 */
export function itemEvidenceCandidates(
  shard: ShardLedger,
  now: number,
  minAgeMs: number,
  perShard: number,
): EvidenceCandidate[] {
  const out: EvidenceCandidate[] = [];
  let n = 0;
  for (const r of shard.pending) {
    if (n >= perShard) break;
    if (r.evidence !== undefined) continue;
    if (!r.deadLettered && r.lateSince === undefined && now - r.receivedAt < minAgeMs) continue;
    out.push({ shardId: shard.shardId, seq: r.seq, keys: r.keys });
    n++;
  }
  return out;
}

/**
 * Item evidence: the new item carries `_dr_seq = itemSeq` (undefined: no item). An item with an older
 * sequence number proves nothing applied; for a record suspected late, it proves the record was not
 * applied when `F` passed it (applied records stay applied), so it is counted late.
 */
export function itemEvidence(shard: ShardLedger, seq: string, itemSeq: string | undefined): void {
  const r = shard.pending.find((p) => p.seq === seq);
  if (!r || r.evidence !== undefined) return;
  if (itemSeq === undefined || itemSeq < seq) {
    settleLate(shard, r, true);
    return;
  }
  r.evidence = Evidence.ITEM;
  // Applied, but when is unknown (an item carries no apply time): not counted.
  settleLate(shard, r, false);
  shard.settle();
}
