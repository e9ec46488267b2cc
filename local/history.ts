/**
 * Ground truth of a legacy table under a workload: every ACKNOWLEDGED legacy write with the time just
 * before it was sent and the time its acknowledgement arrived, and what legacy held after it. From it
 * the checker answers, for any key and time, which states legacy may have held — what convergence,
 * frontier and staleness tests judge the system against.
 *
 * Model. Writes to one key are issued one at a time (the workload guarantees it; `record` checks it),
 * so they take effect in the order recorded: write `i` of a key took effect at some instant in
 * `[startedAt_i, ackedAt_i]`. With S_0 = absent (or the key's first recorded state) and S_i the state
 * after write i, legacy held at time t one of S_k for
 *
 *     #{i : ackedAt_i <= t}  <=  k  <=  #{i : startedAt_i <= t}
 *
 * and over a window [from, to] one of S_k for #{ackedAt <= from} <= k <= #{startedAt <= to}.
 *
 * A read answered at time t_end with staleness budget b (issued at t_start) is acceptable iff it
 * equals some state legacy held at some time in [t_start - b, t_end]: `isAcceptableRead`.
 */
import { type KeySchema, keyOf, type Item, canonicalItem, itemsEqual } from '../core/model';

/** What kind of write it was. */
export const WriteOp = { PUT: 'put', UPDATE: 'update', DELETE: 'delete' } as const;
export type WriteOp = (typeof WriteOp)[keyof typeof WriteOp];

/** One acknowledged legacy write. */
export interface LegacyWrite {
  /** Position in the whole history (acknowledgement order of `record` calls). */
  readonly index: number;
  readonly op: WriteOp;
  /** The legacy key. */
  readonly key: Item;
  /** `canonicalItem(key)`: the history's map key. */
  readonly keyId: string;
  /** What legacy held for the key after the write; undefined = absent. */
  readonly after: Item | undefined;
  /** Epoch ms just before the request was sent. */
  readonly startedAt: number;
  /** Epoch ms just after the acknowledgement arrived. */
  readonly ackedAt: number;
}

/** A write as given to `record`. */
export type LegacyWriteInput = Omit<LegacyWrite, 'index' | 'keyId'>;

/** The final state of a key. */
export interface FinalState {
  readonly key: Item;
  /** What legacy holds now; undefined = deleted (or never existed). */
  readonly item: Item | undefined;
  /** Time of the last acknowledged write. */
  readonly ackedAt: number;
}

/** The history of acknowledged writes to one legacy table. */
export class LegacyHistory {
  private readonly all: LegacyWrite[] = [];
  private readonly byKey = new Map<string, LegacyWrite[]>();
  /** Keys with a write whose outcome is unknown (the request failed without an answer). */
  readonly uncertainKeys = new Set<string>();

  constructor(readonly keySchema: KeySchema) {}

  /** The history's identifier of a legacy key (or of an item: its key attributes are used). */
  keyId(keyOrItem: Item): string {
    return canonicalItem(keyOf(keyOrItem, this.keySchema));
  }

  /**
   * Records an acknowledged write.
   *
   * @throws Error if a write to the same key overlaps the previous one (the model needs them serial)
   */
  record(write: LegacyWriteInput): LegacyWrite {
    const keyId = this.keyId(write.key);
    const list = this.byKey.get(keyId) ?? [];
    const prev = list[list.length - 1];
    if (prev && write.startedAt < prev.ackedAt) {
      throw new Error(
        `writes to key ${keyId} overlap (${write.startedAt} < ${prev.ackedAt}); issue them one at a time`,
      );
    }
    if (write.ackedAt < write.startedAt) throw new Error('ackedAt is before startedAt');
    const stored: LegacyWrite = {
      ...write,
      key: keyOf(write.key, this.keySchema),
      keyId,
      index: this.all.length,
    };
    this.all.push(stored);
    list.push(stored);
    this.byKey.set(keyId, list);
    return stored;
  }

  /** Marks a key whose last write failed without an answer (it may or may not have been applied). */
  markUncertain(key: Item): void {
    this.uncertainKeys.add(this.keyId(key));
  }

  /** Every acknowledged write, in recording order. */
  writes(): readonly LegacyWrite[] {
    return this.all;
  }

  /** The writes of one key, in order. */
  writesOf(key: Item): readonly LegacyWrite[] {
    return this.byKey.get(this.keyId(key)) ?? [];
  }

  /** Every key ever written. */
  keys(): Item[] {
    return [...this.byKey.values()].map((l) => (l[0] as LegacyWrite).key);
  }

  /** Number of acknowledged writes. */
  get size(): number {
    return this.all.length;
  }

  /** What legacy holds for each key now (after the last acknowledged write). */
  finalStates(): FinalState[] {
    return [...this.byKey.values()].map((l) => {
      const last = l[l.length - 1] as LegacyWrite;
      return { key: last.key, item: last.after, ackedAt: last.ackedAt };
    });
  }

  /** What legacy holds for a key now; undefined = absent. */
  finalState(key: Item): Item | undefined {
    const l = this.writesOf(key);
    return l.length ? l[l.length - 1]?.after : undefined;
  }

  /**
   * The states legacy may have held for `key` at some time in `[from, to]` (epoch ms), oldest first;
   * `undefined` stands for "absent". With `from === to`: the states possible at that instant.
   */
  possibleStates(key: Item, from: number, to: number = from): Array<Item | undefined> {
    const l = this.writesOf(key);
    const lo = l.filter((w) => w.ackedAt <= from).length;
    const hi = l.filter((w) => w.startedAt <= to).length;
    const states: Array<Item | undefined> = [];
    for (let k = lo; k <= Math.max(lo, hi); k++) states.push(k === 0 ? undefined : l[k - 1]?.after);
    return states;
  }

  /**
   * The state of `key` at time `t` if it is certain (no write of the key was in flight at `t`):
   * `{ certain: true, item }`; otherwise `{ certain: false }`.
   */
  stateAt(key: Item, t: number): { certain: true; item: Item | undefined } | { certain: false } {
    const states = this.possibleStates(key, t, t);
    return states.length === 1 ? { certain: true, item: states[0] } : { certain: false };
  }

  /** True if `observed` (undefined = not found) equals some state legacy held in `[from, to]`. */
  heldDuring(key: Item, observed: Item | undefined, from: number, to: number): boolean {
    return this.possibleStates(key, from, to).some((s) =>
      s === undefined || observed === undefined ? s === observed : itemsEqual(s, observed),
    );
  }

  /**
   * Staleness check of a read: issued at `readStartedAt`, answered at `readEndedAt`, with budget
   * `budgetMs`. Acceptable iff it equals a state legacy held at some time in
   * `[readStartedAt - budgetMs, readEndedAt]`.
   */
  isAcceptableRead(
    key: Item,
    observed: Item | undefined,
    readStartedAt: number,
    readEndedAt: number,
    budgetMs: number,
  ): boolean {
    return this.heldDuring(key, observed, readStartedAt - budgetMs, readEndedAt);
  }

  /** Writes acknowledged in `[from, to]`, in order (for frontier checks). */
  writesBetween(from: number, to: number): LegacyWrite[] {
    return this.all.filter((w) => w.ackedAt >= from && w.ackedAt <= to);
  }
}
