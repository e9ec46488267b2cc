/**
 * The lag-aware re-check of verification suspects (issue 5; it rests on invariant 4, the frontier).
 * The first pass compares a (possibly eventually consistent) legacy Scan with the new table while CDC
 * is still applying recent writes, so a mismatch may be propagation delay. A suspect is confirmed
 * drift only by this re-check:
 *
 *   1. The first pass read the new item at time `n0` and remembered its sequence token `k0` (the
 *      `_dr_seq` it carried, or "absent" / "no metadata").
 *   2. The re-check reads the legacy item with ConsistentRead; the read returns at `t1` (`n0 < t1`).
 *      Every legacy write reflected in that read started before `t1`.
 *   2b. It reads the new item (ConsistentRead) at once, without waiting for the frontier. If the two
 *      reads agree, the suspect is resolved: the new item then holds exactly the mapped image of a
 *      legacy state that was current at `t1`, so the difference the first pass saw is gone, whatever
 *      wrote the new item and whenever. Under a live workload this settles almost every suspect
 *      (CDC has caught up with the write the first pass saw in flight) with no frontier wait, so a
 *      frontier that lags (a loaded machine, a CDC incident, DynamoDB Local's minute-truncated
 *      creation times) only slows the suspects that still differ. A disagreement proves nothing yet
 *      (CDC may be behind): the suspect goes on to step 3 with the same `t1`.
 *   3. It waits until the frontier, minus the clock-skew margin, is at least `t1`: every legacy write
 *      that started before `t1` is then applied to the new table (invariant 4).
 *   3b. A wait ends with its invocation's budget; the next invocation reads legacy again (step 2) at a
 *      later `t1`. If that read finds the same content as the read the round waited on (`t1'`, whose
 *      return time and content digest the suspect stores), the round keeps waiting on `t1'`: the
 *      steps below hold for the earlier read, and the read now supplies its content. Otherwise it
 *      waits on the new `t1`. Without this, a frontier that trails by more than one budget (3 s in
 *      local mode) would never pass any `t1`, because each invocation reads later, and a drifted key
 *      would end `unconfirmed-lag` instead of confirmed. A change and a change back between the two
 *      reads (ABA) changes nothing below: the new item is compared with the content read at `t1'`,
 *      and what the writes after `t1'` did is not part of that comparison.
 *   4. It reads the new item again (ConsistentRead) and takes its token `k1`.
 *   5. If `k1 = k0`, no CDC write touched the key between `n0` and now (every CDC write stores a
 *      strictly larger `_dr_seq`). By 3 every write reflected in the legacy read is applied, and by
 *      the token none was applied after `n0 < t1`; and no write applied before `n0` can be one the
 *      legacy read does not reflect (it committed before `n0 < t1`). So the new item reflects exactly
 *      the writes the legacy read reflects: a mismatch is drift, not lag. Confirmed. (With 3b, "the
 *      legacy read" is the read at `t1'`: its content is the content read now.)
 *   6. If `k1 != k0`, CDC was busy on the key: a match resolves it; a mismatch becomes the next
 *      round's first read (`k0 := k1`). The next round waits for the frontier afresh: the wait bound
 *      (`maxLagWaitMs`) is per round, so a round that needed most of it does not leave the next one
 *      without time (a hot key would otherwise end `unconfirmed-lag` on a frontier that keeps up).
 *   7. After `maxRounds` rounds of a key that never holds still, the last change decides. If CDC made
 *      it (the item carries `_dr_src = cdc` and a stream sequence above `k0`), the suspect is
 *      `rewritten-by-cdc`: whatever the first pass saw has been replaced, after the suspect's last
 *      read, by the whole mapped image of a later legacy version (the apply rule writes full images,
 *      never partial updates), so nothing the first pass saw can survive. A hot key written more
 *      often than the frontier lag can never hold still for step 5, so without this rule every
 *      verification under a live workload with hot keys would end "not clean". What it does not
 *      prove is that CDC wrote that image correctly; keys that do hold still prove that (steps 1-5
 *      hold for every key CDC wrote once), and the cutover's verification after the write fence
 *      judges every key by step 5, because nothing rewrites keys after the fence. Any other last
 *      change (a repair, an item without metadata, an absent item), or `F` not passing `t1`
 *      within the wait bound, leaves the suspect `unconfirmed-lag`: reported, never repaired, and
 *      the run is not clean. Its `reason` says which: how far `F` was from passing `t1` when the
 *      bound ran out (`lagReason`), so an operator can tell a lagging frontier from a key CDC keeps
 *      writing.
 *
 * The frontier and the token together exclude false positives under a live workload; stale first
 * reads only cost extra rounds (a stale `k0` can only differ from `k1`, never fake equality).
 */
import { safeFrontier } from '../frontier';
import { itemHash } from './checksum';
import { type DiffClass, DiffClass as Classes, classifyLegacy } from './diff';
import {
  BACKFILL_SEQ,
  type MetadataNames,
  Source,
  sequenceOf,
  type Migration,
  type Item,
  type JsonItem,
} from '../model';

/** Where a suspect stands. */
export const SuspectStatus = {
  PENDING: 'pending',
  RESOLVED: 'resolved',
  CONFIRMED: 'confirmed',
  UNCONFIRMED_LAG: 'unconfirmed-lag',
  /** CDC rewrote the key in every round: its first-pass difference is gone (step 7). Not drift. */
  REWRITTEN_BY_CDC: 'rewritten-by-cdc',
  UNMAPPABLE: 'unmappable',
  /** A defect of the mapping (`not-invertible`, `origin-unknown`): settled at once, never repaired. */
  MAPPING_DEFECT: 'mapping-defect',
} as const;
export type SuspectStatus = (typeof SuspectStatus)[keyof typeof SuspectStatus];

/** What a repair did with a confirmed suspect. */
export const RepairOutcome = {
  REPAIRED: 'repaired',
  /** Re-read before the write: already equal (e.g. CDC wrote the key meanwhile). */
  ALREADY_FIXED: 'already-fixed',
  /** The conditional write lost to a CDC write that happened meanwhile (the CDC value stands). */
  LOST_TO_CDC: 'lost-to-cdc',
  /**
   * Nothing written: the legacy item is now refused by mapItem, or the new item's legacy origin cannot
   * be computed (then it is not known to be an extra, and it is never tombstoned).
   */
  SKIPPED: 'skipped',
} as const;
export type RepairOutcome = (typeof RepairOutcome)[keyof typeof RepairOutcome];

/** A `VERIFY_SUSPECT#<runId>#<hash>` control item. */
export interface Suspect {
  readonly runId: string;
  readonly legacyKey: JsonItem;
  readonly newKey: JsonItem;
  /** Class seen by the first pass. */
  readonly firstClass: DiffClass;
  /** Class seen last (the confirmed class once confirmed). */
  readonly class: DiffClass;
  /** Sequence token of the new item at the last read (see `sequenceToken`). */
  readonly seenToken: string;
  readonly seenAt: number;
  readonly status: SuspectStatus;
  readonly rounds: number;
  /** When the re-check first waited for the frontier on this suspect. */
  readonly waitingSince?: number;
  /**
   * The legacy read this round waits on (step 3b): when it returned (`t1`) and the digest of what it
   * read (`legacyDigest`). Cleared when a round starts afresh.
   */
  readonly waitReadAt?: number;
  readonly waitLegacy?: string;
  readonly settledAt?: number;
  readonly repair?: RepairOutcome;
  /**
   * Why the item is `unmappable` or a mapping defect (what `mapItem`/`unmapItem`/`mapKey` did), or why
   * it is `unconfirmed-lag` (`lagReason`).
   */
  readonly reason?: string;
  /** Epoch seconds (control table TTL). */
  readonly expiresAt: number;
}

/** Token of "no item at the key". */
export const ABSENT_TOKEN = 'absent';
/** Token of "an item without `_dr_seq`" (not written by dualread). */
export const NO_SEQ_TOKEN = 'no-seq';

/** The sequence token of a new item: its `_dr_seq`, or `absent`, or `no-seq`. */
export function sequenceToken(item: Item | undefined, names: MetadataNames): string {
  if (item === undefined) return ABSENT_TOKEN;
  return sequenceOf(item, names) ?? NO_SEQ_TOKEN;
}

/** Digest of a consistent legacy read: `absent`, or the SHA-256 of the item's canonical encoding. */
export function legacyDigest(item: Item | undefined): string {
  return item === undefined ? ABSENT_TOKEN : itemHash(item);
}

/** The legacy read a round waits on: the time the frontier must pass and the digest of what it read. */
export interface WaitTarget {
  readonly readAt: number;
  readonly legacy: string;
}

/**
 * Step 3b: which legacy read this round waits on. The re-check's legacy read just now (returned at
 * `t1`) found `legacy`; when an earlier read of the same round, after the suspect's new read, found the
 * same content, the round waits on that earlier read instead: the frontier must pass the older time,
 * not the newer one, and a frontier that trails by more than one invocation's budget still covers it.
 */
export function waitTarget(s: Suspect, legacy: Item | undefined, t1: number): WaitTarget {
  const digest = legacyDigest(legacy);
  const earlier = s.waitReadAt !== undefined && s.waitReadAt > s.seenAt && s.waitLegacy === digest;
  return { readAt: earlier ? (s.waitReadAt as number) : t1, legacy: digest };
}

/** True when the frontier (minus the clock-skew margin) has passed `readAt` (step 3). */
export function frontierCovers(frontier: number, clockSkewMs: number, readAt: number): boolean {
  return frontier > 0 && safeFrontier(frontier, clockSkewMs) >= readAt;
}

/** Inputs of `decideRecheck` (steps 5-6). */
export interface RecheckInput {
  /** Class of (consistent legacy read, new read after the frontier passed). */
  readonly cls: DiffClass;
  readonly seenToken: string;
  readonly nowToken: string;
  /** `_dr_src` of the new item read now (undefined when absent or without metadata). */
  readonly nowSource?: string;
  /** Rounds done before this one. */
  readonly rounds: number;
  readonly maxRounds: number;
}

/** Result of one re-check round. */
export interface RecheckDecision {
  readonly status: SuspectStatus;
  readonly cls: DiffClass;
  readonly seenToken: string;
  readonly rounds: number;
}

/**
 * Step 2b: the consistent legacy read and the consistent new read made right after it agree, so the
 * suspect is resolved without waiting for the frontier.
 */
export function agreesNow(
  migration: Migration,
  names: MetadataNames,
  reads: { readonly legacy: Item | undefined; readonly fresh: Item | undefined },
): boolean {
  return classifyLegacy(migration, reads.legacy, reads.fresh, names) === Classes.MATCH;
}

/** Decides one re-check round (steps 5-6). */
export function decideRecheck(input: RecheckInput): RecheckDecision {
  const rounds = input.rounds + 1;
  const base = { cls: input.cls, seenToken: input.nowToken, rounds };
  if (input.cls === Classes.MATCH) return { ...base, status: SuspectStatus.RESOLVED };
  if (input.cls === Classes.UNMAPPABLE) return { ...base, status: SuspectStatus.UNMAPPABLE };
  if (input.nowToken === input.seenToken) return { ...base, status: SuspectStatus.CONFIRMED };
  if (rounds >= input.maxRounds)
    return {
      ...base,
      status: rewrittenByCdc(input) ? SuspectStatus.REWRITTEN_BY_CDC : SuspectStatus.UNCONFIRMED_LAG,
    };
  return { ...base, status: SuspectStatus.PENDING };
}

/** True when CDC made the last change of a key (step 7): a stream sequence above the one seen before. */
function rewrittenByCdc(input: RecheckInput): boolean {
  const isStreamSeq = (t: string) => /^\d{40}$/.test(t) && t !== BACKFILL_SEQ;
  if (input.nowSource !== Source.CDC || !isStreamSeq(input.nowToken)) return false;
  return !isStreamSeq(input.seenToken) || input.nowToken > input.seenToken;
}

/** `_dr_src` of a new item, if it has one. */
export function sourceOf(item: Item | undefined, names: MetadataNames): string | undefined {
  const v = item?.[names.src];
  return v !== undefined && 'S' in v ? v.S : undefined;
}

/** True when a suspect has waited for the frontier longer than the bound. */
export function lagWaitExpired(waitingSince: number | undefined, now: number, maxLagWaitMs: number): boolean {
  return waitingSince !== undefined && now - waitingSince > maxLagWaitMs;
}

/**
 * One re-check round of a suspect (steps 4-6): `legacy` is the consistent legacy read, `fresh` the new
 * read after the frontier passed it (undefined when absent or not read). The suspect as it is stored
 * next: settled (with `settledAt`) or pending for another round.
 */
export function recheckRound(
  migration: Migration,
  names: MetadataNames,
  s: Suspect,
  reads: { readonly legacy: Item | undefined; readonly fresh: Item | undefined },
  maxRounds: number,
  now: number,
): Suspect {
  const d = decideRecheck({
    cls: classifyLegacy(migration, reads.legacy, reads.fresh, names),
    seenToken: s.seenToken,
    nowToken: sequenceToken(reads.fresh, names),
    nowSource: sourceOf(reads.fresh, names),
    rounds: s.rounds,
    maxRounds,
  });
  // The wait bound and the read waited on are per round (step 6): another round starts afresh.
  const { waitingSince: _waited, waitReadAt: _readAt, waitLegacy: _digest, ...rest } = s;
  return {
    ...(d.status === SuspectStatus.PENDING ? rest : s),
    class: d.cls === Classes.MATCH ? s.class : d.cls,
    status: d.status,
    seenToken: d.seenToken,
    seenAt: now,
    rounds: d.rounds,
    ...(d.status === SuspectStatus.PENDING ? {} : { settledAt: now }),
  };
}

/**
 * How long a re-check invocation waits for the frontier on a batch (step 3): no longer than its own
 * `deadline`, nor than the lag bound of the suspect that has waited longest (a suspect that has not
 * waited yet starts waiting at `started`).
 */
export function frontierWaitUntil(
  batch: readonly Suspect[],
  started: number,
  deadline: number,
  maxLagWaitMs: number,
): number {
  return Math.min(deadline, ...batch.map((x) => (x.waitingSince ?? started) + maxLagWaitMs + 1));
}

/** What the re-check knew of the frontier when a wait for it ran out (see `lagReason`). */
export interface LagWaitFacts {
  /** The published `F` at the end of the wait (undefined: none published). */
  readonly frontier: number | undefined;
  /**
   * When a legacy read returned: in `lagReason` the read waited on (`t1`, or an earlier read of the same
   * content, step 3b), in `lagTimeout` this invocation's read.
   */
  readonly readAt: number;
  readonly clockSkewMs: number;
  readonly maxLagWaitMs: number;
}

/**
 * Why a suspect is `unconfirmed-lag`: the frontier did not pass its legacy read within the wait bound,
 * by how much, and what to do. Says "no frontier was published" when the tracker never published one.
 */
export function lagReason(f: LagWaitFacts, rounds: number): string {
  const bound = `within the ${f.maxLagWaitMs} ms wait bound (round ${rounds + 1})`;
  const what =
    f.frontier === undefined || f.frontier <= 0
      ? `no frontier was published ${bound}`
      : `the frontier minus the ${f.clockSkewMs} ms clock-skew margin stayed ` +
        `${f.readAt - safeFrontier(f.frontier, f.clockSkewMs)} ms short of the re-check's legacy read ${bound}`;
  return (
    `${what}, and the stores still differed: lag and drift cannot be told apart. ` +
    'Check the frontier lag (is the tracker running, is CDC keeping up?) and run the verification again.'
  );
}

/** A suspect whose stores differed, and the legacy read it waits on (`waitTarget`). */
export interface Waiting {
  readonly suspect: Suspect;
  readonly target: WaitTarget;
}

/**
 * The frontier did not pass the legacy read some suspects wait on: those whose wait had passed the lag
 * bound when this invocation read the stores (`end.readAt`) become `unconfirmed-lag` (with `lagReason`
 * for their own target), the others remember since when they wait and the read they wait on (step 3b),
 * so the next invocation can wait on it again. Judging by the read, not by the end of the wait, means
 * a suspect is called unconfirmed only by reads made after its bound ran out: a wait that overshoots
 * the bound (a late poll of the frontier on a loaded machine) leaves the suspect pending, and the next
 * invocation reads both stores first (CDC may have caught up meanwhile). `updates` are the suspects to
 * store (in order), `left` how many still wait.
 */
export function lagTimeout(
  uncovered: readonly Waiting[],
  started: number,
  now: number,
  end: LagWaitFacts,
): { readonly updates: Suspect[]; readonly left: number } {
  const { maxLagWaitMs, readAt } = end;
  const updates: Suspect[] = [];
  let left = 0;
  for (const { suspect: s, target } of uncovered) {
    const waitingSince = s.waitingSince ?? started;
    if (lagWaitExpired(waitingSince, readAt, maxLagWaitMs)) {
      updates.push({
        ...s,
        status: SuspectStatus.UNCONFIRMED_LAG,
        settledAt: now,
        reason: lagReason({ ...end, readAt: target.readAt }, s.rounds),
      });
      continue;
    }
    left += 1;
    if (s.waitingSince !== waitingSince || s.waitReadAt !== target.readAt || s.waitLegacy !== target.legacy)
      updates.push({ ...s, waitingSince, waitReadAt: target.readAt, waitLegacy: target.legacy });
  }
  return { updates, left };
}
