/**
 * The `poison` fault: legacy items the migration's `mapItem` refuses, one present at seed time (only
 * the backfill meets it) and a few written live (CDC meets them). Pure: which items, and how the run
 * met them (`PoisonLedger`); the rehearsal's hooks write them, read them and clean them up.
 *
 * What the system does with such an item is by design, and the fault checks it: CDC dead-letters its
 * record with the reason (and `F` stays held at it), the backfill registers its key as poison with the
 * reason and ends COMPLETE_WITH_POISON (so the read path answers a key absent from new from legacy).
 * Then the operator pins the keys to legacy (local/faults/poison-operator.ts): the seed key, and each
 * dead-lettered record's key (the record waived for the frontier, its entry leaving the queue once the
 * pin is written), all audited. The migration goes on with them pinned: the backfill is COMPLETE,
 * verification lists them as `pinned` (expected, still clean), every read of a pinned key is served
 * by legacy through DUAL_READ and NEW_PRIMARY (gets, batch gets, queries of its partition). FINALIZED
 * refuses pinned keys, so only then the rehearsal plays the remedy its guardrail names: the
 * application removes the items from legacy (acknowledged deletes, in the history) and the backfill's
 * `retry` settles every pin (docs/correctness.md, "Faults").
 */
import {
  type AttributeValue,
  type Item,
  type Migration,
  canonicalItem,
  itemToDynamoJson,
  metadataNames,
} from '../../core/model';
import { expectedNewItem } from '../../core/verify';
import { FaultConfigError } from './plan';

/** How many poison items the workload writes live (after the stream exists). */
export const LIVE_POISON_ITEMS = 3;

/** A poison item: its key, the item, and `mapItem`'s refusal. */
export interface PoisonItem {
  readonly key: Item;
  readonly item: Item;
  /** When it enters legacy: before the stream exists (`seed`) or while CDC runs (`live`). */
  readonly when: 'seed' | 'live';
  /** Why `mapItem` refuses it (what verification would say). */
  readonly refusal: string;
}

/** The i-th poison key: outside the workload's keys (`poison-<i>`; numbers below zero; bytes). */
function poisonKey(m: Migration, i: number): Item {
  const value = (type: string): AttributeValue =>
    type === 'N'
      ? { N: String(-1 - i) }
      : type === 'B'
        ? { B: new TextEncoder().encode(`poison-${i}`) }
        : { S: `poison-${i}` };
  const { partitionKey, sortKey } = m.legacyTable.key;
  return {
    [partitionKey.name]: value(partitionKey.type),
    ...(sortKey ? { [sortKey.name]: value(sortKey.type) } : {}),
  };
}

/**
 * The poison items of a run: `1 + LIVE_POISON_ITEMS` legacy items `mapItem` refuses. Each is its key
 * plus one attribute `mapItem` must refuse to carry: a name of the new table's key, or a name under the
 * reserved metadata prefix (a mapping that copies attributes through would write it). Throws a
 * `FaultConfigError` when the migration's `mapItem` accepts every candidate.
 */
export function poisonItems(m: Migration): PoisonItem[] {
  const names = metadataNames(m.metadataPrefix);
  const candidates = [
    m.newTable.key.partitionKey.name,
    ...(m.newTable.key.sortKey ? [m.newTable.key.sortKey.name] : []),
    `${names.prefix}poison`,
  ];
  const out: PoisonItem[] = [];
  for (let i = 0; i <= LIVE_POISON_ITEMS; i++) {
    const key = poisonKey(m, i);
    const found = candidates
      .filter((name) => !Object.hasOwn(key, name))
      .map((name) => {
        const item: Item = { ...key, [name]: { S: `poison ${i}` } };
        const expected = expectedNewItem(m, item, names);
        return 'unmappable' in expected ? { item, refusal: expected.unmappable } : undefined;
      })
      .find((c) => c !== undefined);
    if (!found)
      throw new FaultConfigError(
        `the poison fault needs a legacy item migration "${m.id}"'s mapItem refuses, and it accepts an ` +
          `attribute named ${candidates.map((c) => `"${c}"`).join(', ')}; leave "poison" out of --faults`,
      );
    out.push({ key, ...found, when: i === 0 ? 'seed' : 'live' });
  }
  return out;
}

/** How the run met one poison item, as the fault table lists it (expected, not a failure). */
export interface PoisonOutcome {
  /** The legacy key, DynamoDB JSON. */
  readonly key: string;
  readonly when: 'seed' | 'live';
  readonly refusal: string;
  /** The CDC dead-letter reason of its record (live items), or undefined when none was seen. */
  readonly deadLettered?: string;
  /** The backfill's poison registration reason (seed item), or undefined when none was seen. */
  readonly registered?: string;
  /** API reads of the key while legacy held the item, by the store that served them. */
  readonly reads: { readonly legacy: number; readonly new: number; readonly other: number };
  /** How the operator pinned it to legacy (who, why), or undefined when it never was. */
  readonly pinned?: string;
  /** API reads of the key while it was pinned, by the store that served them (`PINNED_TO_LEGACY` ones too). */
  readonly pinnedReads?: {
    readonly legacy: number;
    readonly new: number;
    readonly other: number;
    readonly pinnedToLegacy: number;
  };
  /** Batch gets and queries of its partition sent while it was pinned: kind, store and reason of each. */
  readonly probes?: readonly PinnedProbe[];
  /** How it ended: removed from legacy by the application, then replayed / retried. */
  readonly ended?: string;
}

/** A batch get or a query of a pinned key's partition, as the read API answered it. */
export interface PinnedProbe {
  readonly key: Item;
  readonly kind: 'batch-get' | 'query';
  readonly phase: string;
  readonly status: number;
  readonly servedBy?: string;
  readonly reason?: string;
}

/** One API read, as much of it as the ledger needs. */
export interface PoisonRead {
  readonly key: Item;
  readonly startedAt: number;
  readonly status: number;
  readonly servedBy?: 'legacy' | 'new';
  readonly reason?: string;
}

/** What the run saw of its poison items; `outcomes()` for the fault table. */
export class PoisonLedger {
  private readonly byId = new Map<string, { item: PoisonItem; deadLettered?: string; registered?: string }>();
  private removedAt: number | undefined;
  private ended: string | undefined;
  private pinnedAt: number | undefined;
  private pinnedHow: string | undefined;
  private readonly probes: PinnedProbe[] = [];

  constructor(readonly items: readonly PoisonItem[]) {
    for (const item of items) this.byId.set(canonicalItem(item.key), { item });
  }

  /** Whether `key` is a poison key. */
  has(key: Item): boolean {
    return this.byId.has(canonicalItem(key));
  }

  deadLettered(key: Item, reason: string): void {
    const e = this.byId.get(canonicalItem(key));
    if (e && e.deadLettered === undefined) e.deadLettered = reason;
  }

  registered(key: Item, reason: string): void {
    const e = this.byId.get(canonicalItem(key));
    if (e && e.registered === undefined) e.registered = reason;
  }

  /** The operator pinned the keys to legacy at `at` (`how`: who and why). */
  pinned(at: number, how: string): void {
    this.pinnedAt = at;
    this.pinnedHow = how;
  }

  /** A batch get or query of a pinned key's partition sent while the keys were pinned. */
  probed(p: PinnedProbe): void {
    this.probes.push(p);
  }

  /** When the keys were pinned, and when the remedy began (the application's deletes); undefined if never pinned. */
  pinWindow(): { readonly from: number; readonly to: number } | undefined {
    return this.pinnedAt === undefined
      ? undefined
      : { from: this.pinnedAt, to: this.removedAt ?? Number.POSITIVE_INFINITY };
  }

  /** The probes sent while pinned. */
  pinnedProbes(): readonly PinnedProbe[] {
    return this.probes;
  }

  /** The application removed the items from legacy at `at`; `how` says what followed. */
  removed(at: number, how: string): void {
    this.removedAt = at;
    this.ended = how;
  }

  /** Every poison item with what met it; reads counted while legacy held it (sent before the removal). */
  outcomes(reads: readonly PoisonRead[]): PoisonOutcome[] {
    return [...this.byId.entries()].map(([id, e]) => {
      const counted = { legacy: 0, new: 0, other: 0 };
      const whilePinned = { legacy: 0, new: 0, other: 0, pinnedToLegacy: 0 };
      const window = this.pinWindow();
      for (const r of reads) {
        if (canonicalItem(r.key) !== id) continue;
        if (window && r.startedAt >= window.from && r.startedAt < window.to) {
          const to = r.status !== 200 && r.status !== 404 ? 'other' : (r.servedBy ?? 'other');
          whilePinned[to]++;
          if (r.reason === 'PINNED_TO_LEGACY') whilePinned.pinnedToLegacy++;
        }
        if (this.removedAt !== undefined && r.startedAt >= this.removedAt) continue;
        if (r.status !== 200 && r.status !== 404) counted.other++;
        else if (r.servedBy === 'legacy') counted.legacy++;
        else if (r.servedBy === 'new') counted.new++;
        else counted.other++;
      }
      return {
        key: JSON.stringify(itemToDynamoJson(e.item.key)),
        when: e.item.when,
        refusal: e.item.refusal,
        ...(e.deadLettered === undefined ? {} : { deadLettered: e.deadLettered }),
        ...(e.registered === undefined ? {} : { registered: e.registered }),
        reads: counted,
        ...(window
          ? {
              pinned: this.pinnedHow ?? 'pinned',
              pinnedReads: whilePinned,
              probes: this.probes.filter((p) => canonicalItem(p.key) === id),
            }
          : {}),
        ...(this.ended === undefined ? {} : { ended: this.ended }),
      };
    });
  }
}
