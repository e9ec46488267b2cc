/**
 * An in-memory new table that evaluates the apply rule's and backfill's conditions the way DynamoDB
 * does (string comparison of the padded `_dr_seq`, `attribute_not_exists`), returning the stored item
 * on a failed condition like `ReturnValuesOnConditionCheckFailure: ALL_OLD`. For unit and property
 * tests of the rule; integration tests use DynamoDB Local.
 */
import { type NewTableWriterPort, StaleChangeError, type WritePlan } from '../../core/apply-rule';
import { BACKFILL_SEQ, type MetadataNames, Source } from '../../core/metadata';
import { type Item, canonicalItem } from '../../core/values';

export class MemoryNewTable implements NewTableWriterPort {
  readonly items = new Map<string, Item>();
  /** Every stored `_dr_seq` per key, in the order written (to check it never decreases). */
  readonly seqHistory = new Map<string, string[]>();
  writes = 0;

  constructor(private readonly names: MetadataNames) {}

  private seqOf(item: Item | undefined): string | undefined {
    const v = item?.[this.names.seq];
    return v !== undefined && 'S' in v ? v.S : undefined;
  }

  private store(key: Item, item: Item): void {
    const id = canonicalItem(key);
    this.items.set(id, item);
    const h = this.seqHistory.get(id) ?? [];
    h.push(this.seqOf(item) as string);
    this.seqHistory.set(id, h);
    this.writes++;
  }

  /** `attribute_not_exists(#seq) OR #seq < :seq` */
  async write(plan: WritePlan): Promise<void> {
    const stored = this.items.get(canonicalItem(plan.key));
    const storedSeq = this.seqOf(stored);
    const seqValue = plan.condition.values[':seq'];
    const incoming = seqValue && 'S' in seqValue ? seqValue.S : undefined;
    if (plan.condition.expression !== 'attribute_not_exists(#seq) OR #seq < :seq' || incoming === undefined) {
      throw new Error(`unexpected condition ${plan.condition.expression}`);
    }
    if (storedSeq !== undefined && !(storedSeq < incoming)) throw new StaleChangeError(plan.seq, stored);
    this.store(plan.key, plan.item);
  }

  /** Backfill: `attribute_not_exists(#seq)` with `BACKFILL_SEQ`. Returns whether it wrote. */
  backfill(key: Item, mapped: Item, ts: number): boolean {
    if (this.seqOf(this.items.get(canonicalItem(key))) !== undefined) return false;
    this.store(key, {
      ...mapped,
      [this.names.seq]: { S: BACKFILL_SEQ },
      [this.names.src]: { S: Source.BACKFILL },
      [this.names.ts]: { N: String(ts) },
    });
    return true;
  }

  get(key: Item): Item | undefined {
    return this.items.get(canonicalItem(key));
  }
}
