/**
 * `MigrationReader`: the read engine of one migration, one per execution environment. It executes
 * routing decisions (core/read) against the two stores: it owns the control cache, the store access
 * (`stores.ts`: timeouts, retries, the new store's breaker, hedge delay) and the pending shadow
 * comparisons (`shadow.ts`), and hands each request to its path: `get.ts` (one key, with `strong.ts`),
 * `batch-get.ts` (many keys), `query.ts` (one query page).
 */
import type { Item } from '../../../core/model';
import type { BreakerState, CircuitBreaker } from '../../../core/read';
import type { QueryRequest } from '../validation';
import { ControlCache } from '../control-cache';
import type { ReadTelemetry } from '../telemetry';
import { readKeys } from './batch-get';
import type { ReaderParts } from './decision';
import { readKey } from './get';
import { readPage } from './query';
import { ShadowCompare } from './shadow';
import { ReadStores } from './stores';
import type { KeyResult, PageResult, ReadOptions, ReadTarget, RequestContext } from './types';

/** Reads of one migration. */
export class MigrationReader {
  readonly cache: ControlCache;
  readonly breaker: CircuitBreaker;
  private readonly parts: ReaderParts;

  constructor(
    readonly target: ReadTarget,
    options: ReadOptions,
    telemetry: ReadTelemetry,
    now: () => number,
    random: () => number,
  ) {
    this.cache = new ControlCache(target.control, target.migration.read.controlCacheMs, now, {
      waitMs: options.controlWaitMs,
      refreshTimeoutMs: options.controlRefreshTimeoutMs,
    });
    const stores = new ReadStores(target, options, telemetry, now, random);
    this.breaker = stores.breaker;
    const shadow = new ShadowCompare(target, stores, this.cache, telemetry, options, now);
    this.parts = { target, options, now, random, cache: this.cache, stores, shadow };
  }

  /** Waits for every pending shadow comparison (tests, local server shutdown). */
  drain(): Promise<void> {
    return this.parts.shadow.drain();
  }

  /** The breaker state now. */
  breakerState(): BreakerState {
    return this.breaker.state;
  }

  /** Reads one key by the routing decision. Never throws for store failures (503 when legacy cannot answer). */
  get(legacyKey: Item, ctx: RequestContext): Promise<KeyResult> {
    return readKey(this.parts, legacyKey, ctx);
  }

  /** Reads the keys of a batch, each by its own routing decision; results in the order of `keys`. */
  getMany(keys: readonly Item[], ctx: RequestContext): Promise<KeyResult[]> {
    return readKeys((key) => readKey(this.parts, key, ctx), keys, this.parts.options.batchConcurrency);
  }

  /** Reads one query page. A legacy table without a sort key is queried as a single-key read. */
  query(q: QueryRequest, ctx: RequestContext): Promise<PageResult> {
    return readPage(this.parts, q, ctx);
  }
}
