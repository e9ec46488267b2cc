/**
 * The read path's per-minute shadow counters in the control table: one item per migration and minute
 * (`SHADOW#<yyyy-mm-ddThh:mm>`), one numeric attribute per comparison class, incremented by atomic
 * `ADD`, with a TTL. The control plane's SHADOW guardrail sums a window of them, so it reads the same
 * facts locally and on AWS (CloudWatch metrics stay for dashboards and alarms).
 *
 * Per query surface, the same item holds `<surface>#<class>` (a comparison of one of that surface's
 * pages; counted only there: the overall classes are key comparisons, and each surface is judged on
 * its own rate, so a page mismatch of one index neither hides in nor swamps the key reads) and `<surface>#served-<legacy|new>` (a page
 * of that surface served), which `sumShadowCounters` (core/control/facts.ts) reads back per surface.
 *
 * A read never waits for, or fails because of, a counter write: `record` only adds to an in-memory
 * tally; one write per (minute, class) is in flight at a time, carrying everything tallied meanwhile
 * (so a burst of comparisons costs a handful of writes). The (minute, class) keys held or in flight
 * are bounded (`maxPendingKeys`): a comparison of a new key beyond the bound is dropped, as are those
 * of a write that fails, and both are counted in `dropped`.
 */
import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SHADOW_COUNTER_TTL_MS, controlPk, shadowCounterKey, surfaceCounter } from '../core/control';

/** Expression name of the i-th attribute one write adds to (a class, then its surface's). */
const nameOf = (i: number): string => (i === 0 ? '#c' : `#s${i}`);

/** Where the read path reports a shadow comparison's class, and the pages each query surface served. */
export interface ShadowCounterSink {
  /** One comparison of class `shadowClass`: of a key read, or of a page of `surface` (counted per surface only). */
  record(shadowClass: string, at: number, surface?: string): void;
  /** One page of `surface` served by `store` (`legacy` or `new`). */
  served?(surface: string, store: string, at: number): void;
}

/** Options of `ShadowCounters`. */
export interface ShadowCountersOptions {
  /** Most distinct (minute, class) tallies held at once. @default 64 */
  readonly maxPendingKeys?: number;
}

/** Fire-and-forget, coalescing writer of the `SHADOW#` counter items. */
export class ShadowCounters implements ShadowCounterSink {
  private readonly pending = new Map<
    string,
    { sk: string; attrs: readonly string[]; n: number; at: number }
  >();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly maxPendingKeys: number;
  /** Comparisons whose count was lost (tally full, or the write failed). */
  dropped = 0;
  /** Counter writes that failed. */
  failedWrites = 0;
  /** The last write error, for logs. */
  lastError: unknown;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly migrationId: string,
    options: ShadowCountersOptions = {},
  ) {
    this.maxPendingKeys = options.maxPendingKeys ?? 64;
  }

  record(shadowClass: string, at: number, surface?: string): void {
    this.add(at, [surface === undefined ? shadowClass : surfaceCounter(surface, shadowClass)]);
  }

  served(surface: string, store: string, at: number): void {
    this.add(at, [surfaceCounter(surface, `served-${store}`)]);
  }

  /** Adds one to each of `attrs` of the minute holding `at` (one tally, one write). */
  private add(at: number, attrs: readonly string[]): void {
    const sk = shadowCounterKey(at);
    const key = `${sk}|${attrs.join('|')}`;
    const tally = this.pending.get(key);
    if (tally) tally.n += 1;
    else if (!this.inflight.has(key) && this.pending.size + this.inflight.size >= this.maxPendingKeys) {
      this.dropped += 1;
      return;
    } else this.pending.set(key, { sk, attrs, n: 1, at });
    if (!this.inflight.has(key)) this.flush(key);
  }

  /** Waits until every tallied comparison is written (or dropped). */
  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight.values()]);
  }

  private flush(key: string): void {
    const tally = this.pending.get(key);
    if (!tally) return;
    this.pending.delete(key);
    const write = this.client
      .send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: controlPk(this.migrationId) }, sk: { S: tally.sk } },
          UpdateExpression: `ADD ${tally.attrs.map((_, i) => `${nameOf(i)} :n`).join(', ')} SET expiresAt = if_not_exists(expiresAt, :ttl)`,
          ExpressionAttributeNames: Object.fromEntries(tally.attrs.map((a, i) => [nameOf(i), a])),
          ExpressionAttributeValues: {
            ':n': { N: String(tally.n) },
            ':ttl': { N: String(Math.floor((tally.at + SHADOW_COUNTER_TTL_MS) / 1000)) },
          },
        }),
      )
      .then(
        () => undefined,
        (err: unknown) => {
          this.failedWrites += 1;
          this.dropped += tally.n;
          this.lastError = err;
        },
      )
      .finally(() => {
        this.inflight.delete(key);
        if (this.pending.has(key)) this.flush(key);
      });
    this.inflight.set(key, write);
  }
}
