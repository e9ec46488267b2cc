/**
 * An in-memory new table for unit and property tests of the apply rule: it evaluates the condition
 * each write carries (test/helpers/condition-expression.ts, DynamoDB's semantics), so a wrong rule
 * fails the tests, and on a failed condition returns the stored item like
 * `ReturnValuesOnConditionCheckFailure: ALL_OLD`. Integration tests use DynamoDB Local.
 */
import {
  type ConditionSpec,
  type NewTableWriterPort,
  StaleChangeError,
  type WritePlan,
  backfillCondition,
} from '../../core/cdc';
import {
  BACKFILL_SEQ,
  type MetadataNames,
  Source,
  type Item,
  canonicalItem,
  mergeItems,
} from '../../core/model';
import { evaluateCondition } from './condition-expression';

export class MemoryNewTable implements NewTableWriterPort {
  readonly items = new Map<string, Item>();
  /** Every stored `_dr_seq` per key, in the order written (to check it never decreases). */
  readonly seqHistory = new Map<string, string[]>();
  writes = 0;
  /** Write requests (a batch of inserts counts once), like the sync summary's `writeRequests`. */
  requests = 0;
  /** The batched put-if-absent, like `NewTableWriter.insertIfAbsent` (only with `batchedInserts`). */
  readonly insertIfAbsent?: (plans: readonly WritePlan[]) => Promise<boolean[]>;

  constructor(
    private readonly names: MetadataNames,
    options: { readonly batchedInserts?: boolean } = {},
  ) {
    if (options.batchedInserts)
      this.insertIfAbsent = async (plans) => {
        this.requests += Math.ceil(plans.length / 25);
        return plans.map((plan) => {
          if (this.get(plan.key) !== undefined) return false;
          this.store(plan.key, plan.item);
          return true;
        });
      };
  }

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

  private holds(key: Item, condition: ConditionSpec): boolean {
    return evaluateCondition(condition.expression, condition.names, condition.values, this.get(key));
  }

  /** A conditional put: the plan's own condition decides. */
  async write(plan: WritePlan): Promise<void> {
    this.requests++;
    if (!this.holds(plan.key, plan.condition)) throw new StaleChangeError(plan.seq, this.get(plan.key));
    this.store(plan.key, plan.item);
  }

  /** Backfill: a put of `mapped` with `BACKFILL_SEQ` under the backfill's condition. Returns whether it wrote. */
  backfill(key: Item, mapped: Item, ts: number): boolean {
    if (!this.holds(key, backfillCondition(this.names))) return false;
    this.store(
      key,
      mergeItems(mapped, {
        [this.names.seq]: { S: BACKFILL_SEQ },
        [this.names.src]: { S: Source.BACKFILL },
        [this.names.ts]: { N: String(ts) },
      }),
    );
    return true;
  }

  get(key: Item): Item | undefined {
    return this.items.get(canonicalItem(key));
  }
}
