/**
 * A seeded workload against a legacy table: puts, updates, deletes, re-creates of deleted keys, hot
 * keys, optionally the fidelity corpus in the items. Every acknowledged write is recorded in a
 * `LegacyHistory` with the time before the request and after the acknowledgement, so tests (CDC,
 * frontier, backfill, verification, reads) and the rehearsal can judge results against ground truth.
 *
 * Writes to one key are never in flight at the same time (the history's model needs per-key serial
 * writes); different keys are written concurrently up to `concurrency`.
 */
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { fromSdkItem, toSdkItem } from '../adapters/dynamodb';
import { type KeySchema, keyOf, type AttributeValue, type Item } from '../core/model';
import { FIDELITY_ATTRIBUTES } from '../examples/fidelity-corpus';
import { LegacyHistory, type LegacyWrite, WriteOp } from './history';
import { seededRandom } from './seeded-random';

/** Relative weights of the operations. */
export interface OperationMix {
  readonly put: number;
  readonly update: number;
  readonly delete: number;
}

/** Options of `LegacyWorkload`. */
export interface WorkloadOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** The legacy key schema. */
  readonly key: KeySchema;
  /** @default 1 */
  readonly seed?: number;
  /** Distinct keys. @default 1000 */
  readonly keyCount?: number;
  /** Builds the i-th key. @default `{ <pk>: { S: 'k-<i>' } }` (N/B keys: the number / its bytes) */
  readonly makeKey?: (i: number) => Item;
  /** Builds the non-key attributes of a put. @default a few typed attributes, fidelity corpus sometimes */
  readonly makeAttributes?: (random: () => number, version: number) => Item;
  /** @default { put: 5, update: 3, delete: 2 } */
  readonly mix?: OperationMix;
  /** Share of operations that go to the hot keys. @default 0.2 */
  readonly hotFraction?: number;
  /** How many keys are hot. @default max(1, keyCount / 100) */
  readonly hotKeys?: number;
  /** Probability that a put carries the fidelity corpus. @default 0.1 */
  readonly fidelityProbability?: number;
  /** Requests in flight (on different keys). @default 4 */
  readonly concurrency?: number;
  /** Where to record; @default a new history */
  readonly history?: LegacyHistory;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Options of one `run`. */
export interface RunOptions {
  /** Number of operations. */
  readonly operations?: number;
  /** Stop after this long (ms), if given. */
  readonly durationMs?: number;
  /** Steady rate, operations per second across all workers; unlimited when absent. */
  readonly ratePerSecond?: number;
  /** Told of every acknowledged write. */
  readonly onWrite?: (write: LegacyWrite) => void;
}

/** The outcome of a run. */
export interface RunResult {
  readonly acknowledged: number;
  readonly failed: number;
  readonly durationMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A seeded legacy workload that records its acknowledged writes. */
export class LegacyWorkload {
  readonly history: LegacyHistory;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly inFlight = new Set<number>();
  private version = 0;

  constructor(private readonly options: WorkloadOptions) {
    this.history = options.history ?? new LegacyHistory(options.key);
    this.random = seededRandom(options.seed ?? 1);
    this.now = options.now ?? (() => Date.now());
  }

  /** The number of keys. */
  get keyCount(): number {
    return this.options.keyCount ?? 1000;
  }

  /** The i-th key. */
  keyAt(i: number): Item {
    if (this.options.makeKey) return this.options.makeKey(i);
    const pk = this.options.key.partitionKey;
    const value = (type: string, n: number): AttributeValue =>
      type === 'N'
        ? { N: String(n) }
        : type === 'B'
          ? { B: new TextEncoder().encode(`k-${n}`) }
          : { S: `k-${n}` };
    const out: Record<string, AttributeValue> = { [pk.name]: value(pk.type, i) };
    const sk = this.options.key.sortKey;
    if (sk) out[sk.name] = value(sk.type, i % 7);
    return out;
  }

  private attributes(): Item {
    this.version++;
    if (this.options.makeAttributes) return this.options.makeAttributes(this.random, this.version);
    const r = this.random;
    const out: Record<string, AttributeValue> = {
      v: { S: `v${this.version}-${Math.floor(r() * 1e9).toString(36)}` },
      n: { N: `${Math.floor(r() * 1e9)}${'7'.repeat(Math.floor(r() * 25))}.${Math.floor(r() * 1000)}` },
    };
    if (r() < 0.5) out.fullName = { S: `Name ${Math.floor(r() * 1e6)}` };
    // One write in four carries an email from a small set (no extra random draw: seeded runs keep their
    // values), so a legacy email index has shared partitions for the query-surface reads to hit.
    if (this.version % 4 === 0) out.email = { S: `user-${this.version % 40}@example.com` };
    if (r() < 0.3)
      out.address = {
        M: { city: { S: `City ${Math.floor(r() * 100)}` }, zip: { N: String(Math.floor(r() * 99999)) } },
      };
    if (r() < 0.3) out.tags = { SS: [...new Set(['a', 'b', 'c', 'd'].filter(() => r() < 0.6))].concat('z') };
    if (r() < 0.2) out.blob = { B: new Uint8Array([Math.floor(r() * 256), 0, 255]) };
    if (r() < (this.options.fidelityProbability ?? 0.1)) Object.assign(out, FIDELITY_ATTRIBUTES);
    return out;
  }

  private pickKeyIndex(): number {
    const n = this.keyCount;
    const hot = Math.max(1, this.options.hotKeys ?? Math.floor(n / 100));
    for (let tries = 0; tries < 100; tries++) {
      const i =
        this.random() < (this.options.hotFraction ?? 0.2)
          ? Math.floor(this.random() * hot)
          : Math.floor(this.random() * n);
      if (!this.inFlight.has(i)) return i;
    }
    for (let i = 0; i < n; i++) if (!this.inFlight.has(i)) return i;
    throw new Error('every key is in flight: concurrency must be below keyCount');
  }

  private pickOp(): WriteOp {
    const mix = this.options.mix ?? { put: 5, update: 3, delete: 2 };
    const x = this.random() * (mix.put + mix.update + mix.delete);
    return x < mix.put ? WriteOp.PUT : x < mix.put + mix.update ? WriteOp.UPDATE : WriteOp.DELETE;
  }

  /** Puts a full item (its key included) and records it. */
  async put(item: Item): Promise<LegacyWrite> {
    return this.recorded(WriteOp.PUT, item, async () => {
      await this.options.client.send(
        new PutItemCommand({ TableName: this.options.tableName, Item: toSdkItem(item) }),
      );
      return item;
    });
  }

  /** Updates (or creates) the item of `key`: sets `v`, adds 1 to `n`, sometimes removes `fullName`. */
  async update(key: Item): Promise<LegacyWrite> {
    const stamp = `u${++this.version}`;
    const drop = this.random() < 0.2;
    return this.recorded(WriteOp.UPDATE, key, async () => {
      const out = await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: toSdkItem(keyOf(key, this.options.key)),
          UpdateExpression: `SET #v = :v ADD #n :one${drop ? ' REMOVE #f' : ''}`,
          ExpressionAttributeNames: { '#v': 'v', '#n': 'n', ...(drop ? { '#f': 'fullName' } : {}) },
          ExpressionAttributeValues: { ':v': { S: stamp }, ':one': { N: '1' } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? fromSdkItem(out.Attributes) : undefined;
    });
  }

  /** Deletes the item of `key` and records it. */
  async delete(key: Item): Promise<LegacyWrite> {
    return this.recorded(WriteOp.DELETE, key, async () => {
      await this.options.client.send(
        new DeleteItemCommand({
          TableName: this.options.tableName,
          Key: toSdkItem(keyOf(key, this.options.key)),
        }),
      );
      return undefined;
    });
  }

  private async recorded(
    op: WriteOp,
    key: Item,
    send: () => Promise<Item | undefined>,
  ): Promise<LegacyWrite> {
    const startedAt = this.now();
    let after: Item | undefined;
    try {
      after = await send();
    } catch (err) {
      this.history.markUncertain(key);
      throw err;
    }
    const ackedAt = this.now();
    return this.history.record({ op, key: keyOf(key, this.options.key), after, startedAt, ackedAt });
  }

  /** One random operation on a key not in flight. */
  async step(): Promise<LegacyWrite> {
    const i = this.pickKeyIndex();
    const op = this.pickOp();
    const key = this.keyAt(i);
    this.inFlight.add(i);
    try {
      if (op === WriteOp.PUT) return await this.put({ ...this.attributes(), ...key });
      if (op === WriteOp.UPDATE) return await this.update(key);
      return await this.delete(key);
    } finally {
      this.inFlight.delete(i);
    }
  }

  /**
   * Puts every key once (an initial population, e.g. before a backfill), or the `given` items (a data
   * file), with BatchWriteItem (25 items per request, `concurrency` requests in flight). Each item is recorded with the time before its
   * batch was first sent and after the request that finally acknowledged it.
   */
  async populate(onWrite?: (w: LegacyWrite) => void, given?: readonly Item[]): Promise<RunResult> {
    const started = this.now();
    const items =
      given ??
      Array.from({ length: this.keyCount }, (_, i) => ({
        ...this.attributes(),
        ...this.keyAt(i),
      }));
    let next = 0;
    let acknowledged = 0;
    const worker = async () => {
      while (next < items.length) {
        const chunk = items.slice(next, next + 25);
        next += chunk.length;
        const startedAt = this.now();
        let pending = chunk;
        for (let attempt = 0; pending.length; attempt++) {
          const out = await this.options.client.send(
            new BatchWriteItemCommand({
              RequestItems: {
                [this.options.tableName]: pending.map((item) => ({ PutRequest: { Item: toSdkItem(item) } })),
              },
            }),
          );
          const ackedAt = this.now();
          const left = (out.UnprocessedItems?.[this.options.tableName] ?? []).map((r) =>
            fromSdkItem(r.PutRequest?.Item ?? {}),
          );
          const leftIds = new Set(left.map((i) => this.history.keyId(i)));
          for (const item of pending) {
            if (leftIds.has(this.history.keyId(item))) continue;
            const w = this.history.record({
              op: WriteOp.PUT,
              key: keyOf(item, this.options.key),
              after: item,
              startedAt,
              ackedAt,
            });
            acknowledged++;
            if (onWrite) onWrite(w);
          }
          pending = pending.filter((i) => leftIds.has(this.history.keyId(i)));
          if (pending.length) await sleep(Math.min(1000, 20 * 2 ** attempt));
        }
      }
    };
    await Promise.all(Array.from({ length: this.options.concurrency ?? 4 }, worker));
    return { acknowledged, failed: 0, durationMs: this.now() - started };
  }

  /** Runs random operations until `operations` are done or `durationMs` has passed. */
  async run(options: RunOptions): Promise<RunResult> {
    if (options.operations === undefined && options.durationMs === undefined) {
      throw new Error('give operations or durationMs');
    }
    const started = this.now();
    let issued = 0;
    let acknowledged = 0;
    let failed = 0;
    const more = () =>
      (options.operations === undefined || issued < options.operations) &&
      (options.durationMs === undefined || this.now() - started < options.durationMs);
    const worker = async () => {
      while (more()) {
        const slot = issued++;
        if (options.ratePerSecond) {
          const due = started + (slot * 1000) / options.ratePerSecond;
          const wait = due - this.now();
          if (wait > 0) await sleep(wait);
        }
        try {
          const w = await this.step();
          acknowledged++;
          options.onWrite?.(w);
        } catch {
          failed++;
        }
      }
    };
    const concurrency = Math.min(this.options.concurrency ?? 4, Math.max(1, this.keyCount - 1));
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { acknowledged, failed, durationMs: this.now() - started };
  }
}
