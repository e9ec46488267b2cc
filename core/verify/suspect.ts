/**
 * Verification suspects as control items (`VERIFY_SUSPECT#<runId>#<id>`): the id a suspect is stored
 * under, the suspect a pass records for a mismatch, the status it starts in, and when the working
 * items (suspects, segment checkpoints) expire. The re-check that settles a suspect is
 * core/verify/recheck.ts; the repair that acts on a confirmed one, core/verify/repair.ts.
 */
import { itemHash } from './checksum';
import { DiffClass, MAPPING_DEFECT_CLASSES } from './diff';
import { type Suspect, SuspectStatus } from './recheck';
import { type Item, itemFromDynamoJson, itemToDynamoJson } from '../model';

/**
 * Id of a suspect: a hash of its legacy key (new-side items with no legacy key use their new key). A
 * mapping defect has its own prefix, so it never replaces the drift suspect of the same key.
 */
export function suspectId(s: Suspect): string {
  const legacyKey = itemFromDynamoJson(s.legacyKey);
  const byLegacy = Object.keys(legacyKey).length > 0;
  const hash = itemHash(byLegacy ? legacyKey : itemFromDynamoJson(s.newKey)).slice(0, 40);
  if (s.firstClass === DiffClass.NOT_INVERTIBLE) return `i${hash}`;
  if (s.firstClass === DiffClass.ORIGIN_UNKNOWN) return `o${hash}`;
  return `${byLegacy ? '' : 'n'}${hash}`;
}

/**
 * Where a suspect starts: `unmappable` and the mapping defects are settled at once (never re-checked,
 * never repaired); drift waits for the re-check (`pending`).
 */
export function initialSuspectStatus(cls: DiffClass): SuspectStatus {
  if (cls === DiffClass.UNMAPPABLE) return SuspectStatus.UNMAPPABLE;
  return MAPPING_DEFECT_CLASSES.includes(cls) ? SuspectStatus.MAPPING_DEFECT : SuspectStatus.PENDING;
}

/** What every suspect of one page shares: its run, when the page was read, and when it expires. */
export interface SuspectContext {
  readonly runId: string;
  /** When the first pass read the page. */
  readonly seenAt: number;
  /** The control-table TTL (epoch seconds) of a suspect recorded now (`workingItemExpiresAt`). */
  readonly expiresAt: () => number;
}

/** The suspect a first pass records for a pair of class `cls` (`reason`: why it is a mapping problem). */
export function newSuspect(
  ctx: SuspectContext,
  legacyKey: Item,
  newKey: Item,
  cls: DiffClass,
  seenToken: string,
  reason?: string,
): Suspect {
  return {
    runId: ctx.runId,
    legacyKey: itemToDynamoJson(legacyKey),
    newKey: itemToDynamoJson(newKey),
    firstClass: cls,
    class: cls,
    seenToken,
    seenAt: ctx.seenAt,
    status: initialSuspectStatus(cls),
    rounds: 0,
    ...(reason !== undefined ? { reason } : {}),
    expiresAt: ctx.expiresAt(),
  };
}

/** Epoch seconds at which a working item written at `nowMs` expires (control table TTL). */
export function workingItemExpiresAt(nowMs: number, ttlDays: number): number {
  return Math.floor(nowMs / 1000) + ttlDays * 86_400;
}

/** True for a suspect whose re-check has not settled. */
export function isPendingSuspect(s: Suspect): boolean {
  return s.status === SuspectStatus.PENDING;
}

/** True for confirmed drift the repair step has not handled yet. */
export function awaitsRepair(s: Suspect): boolean {
  return s.status === SuspectStatus.CONFIRMED && s.repair === undefined;
}
