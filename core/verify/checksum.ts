/**
 * Order-independent checksums of multisets of items (issue 5). The checksum of a multiset of items is
 * the item count together with the sum, modulo 2^256, of the SHA-256 of each item's canonical encoding
 * (`canonicalItem`). That is an additive multiset hash (AdHash, Bellare and Micciancio 1997) with a
 * 256-bit modulus and no key. Properties the verifier relies on:
 *
 * - order-independent: scan segments, pages and parallel workers may visit items in any order;
 * - combinable: the checksum of a union is the sum of the checksums of its parts, so per-segment
 *   checksums add up to the table's;
 * - duplicates do not cancel (unlike XOR): an item counted twice changes the sum;
 * - exact: canonical encoding compares numbers by value and keeps types, so `{N:"1"}` and `{S:"1"}`
 *   hash differently and `{N:"1.0"}` equals `{N:"1"}`.
 *
 * What equal checksums mean, honestly:
 *
 * - **Sound against accidental drift.** When two multisets differ for reasons that have nothing to do
 *   with SHA-256 (an item lost, duplicated, altered or retyped by a bug, a crash, a restore, a foreign
 *   writer), equal sums need a fixed nonzero integer combination of SHA-256 outputs to be 0 modulo
 *   2^256: modelling SHA-256 as a random function, probability 2^-256, or at most 2^-(256-k) when every
 *   multiplicity differs by a multiple of 2^k (2^-216 for 2^40 extra copies of one item). Counts must be
 *   equal too.
 * - **Not sound against adversarial multisets.** The sum is keyless and linear: whoever can choose
 *   the items (write them into a table) can build two different multisets with the same count and sum
 *   at feasible cost — with free multiplicities it is a short vector in a lattice of a few hundred
 *   hashes (lattice reduction), and even for sets Wagner's generalized-birthday algorithm needs on the
 *   order of 2^(2·sqrt(256)) = 2^32 hash evaluations. That is why AdHash needs moduli of well over a
 *   thousand bits to be collision-resistant. So equal checksums are no proof against someone who
 *   aims at them; they are not a digest or a MAC.
 *
 * Both sides are hashed in the same space: `mapItem(legacy)` for legacy items and the new item minus
 * metadata for live new items, so a clean, quiescent migration has equal checksums on both sides.
 * `node:crypto` is a Node built-in, not the AWS SDK: core stays pure.
 */
import { createHash } from 'node:crypto';
import { type Item, canonicalItem } from '../model';

const MODULUS = 1n << 256n;

/** A set checksum: item count and the 256-bit sum as 64 hex digits. */
export interface SetChecksum {
  readonly count: number;
  readonly sum: string;
}

/** The checksum of the empty set. */
export const EMPTY_CHECKSUM: SetChecksum = { count: 0, sum: '0'.repeat(64) };

/** SHA-256 of the item's canonical encoding, as 64 hex digits. */
export function itemHash(item: Item): string {
  return createHash('sha256').update(canonicalItem(item)).digest('hex');
}

function toHex(n: bigint): string {
  return n.toString(16).padStart(64, '0');
}

/** Adds two checksums (the checksum of the multiset union). */
export function combineChecksums(a: SetChecksum, b: SetChecksum): SetChecksum {
  return { count: a.count + b.count, sum: toHex((BigInt(`0x${a.sum}`) + BigInt(`0x${b.sum}`)) % MODULUS) };
}

/**
 * A mutable accumulator for hot loops (one BigInt addition per item rather than a hex round trip).
 */
export class ChecksumAccumulator {
  private total = 0n;
  private n = 0;

  constructor(start: SetChecksum = EMPTY_CHECKSUM) {
    this.total = BigInt(`0x${start.sum}`);
    this.n = start.count;
  }

  /** Adds one item. */
  add(item: Item): void {
    this.addHash(itemHash(item));
  }

  /** Adds one item by its `itemHash`. The sum is reduced modulo 2^256 when read (cheaper per item). */
  addHash(hash: string): void {
    this.total += BigInt(`0x${hash}`);
    this.n++;
  }

  /** The checksum so far. */
  value(): SetChecksum {
    this.total %= MODULUS;
    return { count: this.n, sum: toHex(this.total) };
  }
}

/** The checksum of a list of items (as a multiset). */
export function checksumOf(items: Iterable<Item>): SetChecksum {
  const acc = new ChecksumAccumulator();
  for (const item of items) acc.add(item);
  return acc.value();
}

/**
 * True when two checksums are equal: the multisets are the same unless the difference was chosen to
 * collide (see the file comment: sound against accidental drift, not against adversarial multisets).
 */
export function checksumsEqual(a: SetChecksum, b: SetChecksum): boolean {
  return a.count === b.count && a.sum === b.sum;
}
