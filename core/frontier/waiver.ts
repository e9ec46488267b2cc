/**
 * Waivers: an operator's audited decision that a dead-lettered stream record will never be applied and
 * must stop holding the frontier back (docs/design.md §4.4). Control item `WAIVER#<padded seq>`.
 */
import { padSequence } from '../model';

/** Prefix of waiver sort keys. */
export const WAIVER_PREFIX = 'WAIVER#';

/** Sort key of the waiver of the record with sequence number `seq`. */
export function waiverKey(seq: string): string {
  return `${WAIVER_PREFIX}${padSequence(seq)}`;
}

/** The waiver document. */
export interface Waiver {
  /** Who waived it (as in audit records). */
  readonly actor: string;
  /** Why: for example "replayed by hand", "item deleted on purpose". */
  readonly reason: string;
  /** Epoch ms. */
  readonly at: number;
}

/** The padded sequence number a waiver sort key names. */
export function waivedSequence(sk: string): string {
  if (!sk.startsWith(WAIVER_PREFIX)) throw new RangeError(`"${sk}" is not a waiver key`);
  return padSequence(sk.slice(WAIVER_PREFIX.length));
}
