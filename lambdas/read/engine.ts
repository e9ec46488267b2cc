/**
 * The read engine: executes routing decisions (core/read/routing.ts) against the two stores with
 * per-store timeouts, bounded retries, a hedged read to legacy, the new store's circuit breaker,
 * shadow compare and strong comparison. One `MigrationReader` per migration per execution environment.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type ItemStore, type QueryPage, StoreReadError } from '../../adapters/item-store';
import {
  type Admission,
  type BreakerOptions,
  type BreakerState,
  CircuitBreaker,
  cohortBucket,
  PageTokenError,
  decodePageToken,
  encodePageToken,
  queryFingerprint,
  type NewRead,
  type RouteDecision,
  type RouteInput,
  Store,
  decideRoute,
  hedgedToLegacy,
  ShadowClass,
  type Recheck,
  classifyDifference,
  compareItems,
} from '../../core/read';
import {
  isTombstone,
  metadataNames,
  stripMetadata,
  type ConsistencyMode,
  type Migration,
  keyNames,
  type AttributeValue,
  type Item,
  canonical,
  findLostAttribute,
  itemToDynamoJson,
  valuesEqual,
} from '../../core/model';
import { LatencyWindow, RetryBudget, backoffDelay, hedgeDelay } from '../../core/shared';
import {
  ControlCache,
  type ControlSnapshot,
  type ControlSource,
  DEFAULT_CONTROL_REFRESH_TIMEOUT_MS,
  DEFAULT_CONTROL_WAIT_MS,
} from './control-cache';
import type { ReadTelemetry } from './telemetry';
import { BadRequestError, type QueryRequest, ReadApiError } from './validation';

/** Tunables of the read engine (all have defaults; see `DEFAULT_READ_OPTIONS`). */
export interface ReadOptions {
  /** Timeout of one read of the new store, retries included. */
  readonly newTimeoutMs: number;
  /** Timeout of one read of the legacy store, retries included. */
  readonly legacyTimeoutMs: number;
  /** Fixed hedge delay; when undefined, the observed p95 of the new store (clamped below). */
  readonly hedgeAfterMs?: number;
  readonly hedgeFloorMs: number;
  readonly hedgeCeilingMs: number;
  /** Hedge delay before enough latencies are observed. */
  readonly hedgeFallbackMs: number;
  /** Attempts per store read (first attempt included), within the timeout and the retry budget. */
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryCapMs: number;
  /** Retries per first attempt allowed over 10 s (plus 10): retries cannot storm. */
  readonly retryRatio: number;
  readonly breaker: Partial<BreakerOptions>;
  /** Secret of the query page tokens (HMAC-SHA256). */
  readonly tokenSecret: string;
  /** Share of reads whose decision is logged. */
  readonly decisionLogSampleRate: number;
  /** Shadow re-check: how long to wait for the frontier to pass the legacy read, and how often to look. */
  readonly recheckMaxWaitMs: number;
  readonly recheckPollMs: number;
  /** Keys of a batch read at once. */
  readonly batchConcurrency: number;
  /** Longest a read waits for a control-state refresh before routing on the last snapshot. */
  readonly controlWaitMs: number;
  /** A control-state refresh still running after this is abandoned (the next read starts another). */
  readonly controlRefreshTimeoutMs: number;
}

/** Defaults of `ReadOptions`. */
export const DEFAULT_READ_OPTIONS: ReadOptions = {
  newTimeoutMs: 300,
  legacyTimeoutMs: 3000,
  hedgeFloorMs: 2,
  hedgeCeilingMs: 250,
  hedgeFallbackMs: 50,
  maxAttempts: 3,
  retryBaseMs: 10,
  retryCapMs: 100,
  retryRatio: 0.1,
  breaker: {},
  tokenSecret: 'dualread-page-token',
  decisionLogSampleRate: 0.01,
  recheckMaxWaitMs: 15_000,
  recheckPollMs: 250,
  batchConcurrency: 16,
  controlWaitMs: DEFAULT_CONTROL_WAIT_MS,
  controlRefreshTimeoutMs: DEFAULT_CONTROL_REFRESH_TIMEOUT_MS,
};

/** One migration's stores and control source. */
export interface ReadTarget {
  readonly migration: Migration;
  readonly legacy: ItemStore;
  readonly fresh: ItemStore;
  readonly control: ControlSource;
}

/** Per-request inputs from headers and query parameters. */
export interface RequestContext {
  readonly requested?: ConsistencyMode;
  readonly readAfter?: number;
  readonly routingKey?: string;
}

/** Result of one single-key read. */
export interface KeyResult {
  readonly status: 200 | 404 | 503;
  /** The item in the legacy shape (status 200). */
  readonly item?: Item;
  readonly decision: RouteDecision;
  readonly fallback: boolean;
  readonly hedged: boolean;
  readonly message?: string;
}

/** Result of one query page. */
export interface PageResult {
  readonly status: 200 | 503;
  readonly items: readonly Item[];
  readonly nextToken?: string;
  readonly decision: RouteDecision;
  readonly fallback: boolean;
  readonly message?: string;
}

type NewOutcome =
  | { readonly kind: 'present'; readonly item: Item }
  | { readonly kind: 'tombstone' }
  | { readonly kind: 'absent' }
  | { readonly kind: 'failed'; readonly message: string }
  /** The store answered, but `unmapItem` refused its item: routed as a failure of new, counted apart. */
  | { readonly kind: 'unmappable'; readonly message: string; readonly detail: string };

/** What a routing decision learns from reading new: an unmappable item is a failure of new. */
function newReadOf(outcome: NewOutcome): NewRead {
  return outcome.kind === 'unmappable' ? 'failed' : outcome.kind;
}

type LegacyOutcome =
  { readonly ok: true; readonly item: Item | undefined } | { readonly ok: false; readonly message: string };

/** Reads of one migration. */
export class MigrationReader {
  readonly cache: ControlCache;
  readonly breaker: CircuitBreaker;
  private readonly newLatency = new LatencyWindow(512);
  private readonly retryBudgets: Record<Store, RetryBudget>;
  private readonly names;
  private readonly shadows = new Set<Promise<void>>();
  private lastBreakerState: BreakerState = 'closed';
  private hedgeCache: number | undefined;
  private hedgeComputedAt = 0;

  constructor(
    readonly target: ReadTarget,
    private readonly options: ReadOptions,
    private readonly telemetry: ReadTelemetry,
    private readonly now: () => number,
    private readonly random: () => number,
  ) {
    this.cache = new ControlCache(target.control, target.migration.read.controlCacheMs, now, {
      waitMs: options.controlWaitMs,
      refreshTimeoutMs: options.controlRefreshTimeoutMs,
    });
    this.breaker = new CircuitBreaker(options.breaker, now);
    this.retryBudgets = {
      legacy: new RetryBudget({ ratio: options.retryRatio }, now),
      new: new RetryBudget({ ratio: options.retryRatio }, now),
    };
    this.names = metadataNames(target.migration.metadataPrefix);
  }

  /** Waits for every pending shadow comparison (tests, local server shutdown). */
  async drain(): Promise<void> {
    while (this.shadows.size) await Promise.allSettled([...this.shadows]);
  }

  /** The breaker state now. */
  breakerState(): BreakerState {
    return this.breaker.state;
  }

  // ---------------------------------------------------------------------------------------------
  // Decisions
  // ---------------------------------------------------------------------------------------------

  private routeInput(
    snap: ControlSnapshot,
    ctx: RequestContext,
    routingKey: string,
    sample: number,
    breaker: RouteInput['breaker'],
  ): RouteInput {
    const { read } = this.target.migration;
    const now = this.now();
    return {
      phase: snap.state?.phase,
      rolloutPercent: snap.state?.rolloutPercent ?? 0,
      bucket: cohortBucket(read.cohortSalt, ctx.routingKey ?? routingKey),
      migrationDefault: read.defaultConsistency,
      ...(ctx.requested ? { requested: ctx.requested } : {}),
      now,
      frontier: snap.frontier,
      clockSkewMs: read.clockSkewMs,
      controlCacheAgeMs: ControlCache.ageOf(snap, now),
      stalenessBudgetMs: read.stalenessBudgetMs,
      ...(ctx.readAfter !== undefined ? { readAfter: ctx.readAfter } : {}),
      backfillComplete: snap.backfillComplete,
      newRead: 'unknown',
      breaker,
      sample,
      shadowSampleRate: read.shadowSampleRate,
    };
  }

  /**
   * First decision with breaker admission: a half-open breaker admits a limited number of probes; a
   * request it does not admit is decided again as if the breaker were open.
   */
  private admit(input: RouteInput): { decision: RouteDecision; admission: Admission; input: RouteInput } {
    const state = this.breaker.state;
    if (state === 'closed')
      return { decision: decideRoute({ ...input, breaker: 'closed' }), admission: 'closed', input };
    const open = { ...input, breaker: 'open' as const };
    if (state === 'open') return { decision: decideRoute(open), admission: 'open', input: open };
    const tentative = decideRoute({ ...input, breaker: 'half-open' });
    if (!tentative.touchesNew) return { decision: tentative, admission: 'open', input: open };
    const admission = this.breaker.admit();
    if (admission === 'half-open')
      return { decision: tentative, admission, input: { ...input, breaker: 'half-open' } };
    return { decision: decideRoute(open), admission: 'open', input: open };
  }

  private noteBreaker(): void {
    const state = this.breaker.state;
    if (state !== this.lastBreakerState) {
      this.telemetry.breakerChanged(this.target.migration.id, this.lastBreakerState, state);
      this.lastBreakerState = state;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Store access: timeout, retries, breaker, latency
  // ---------------------------------------------------------------------------------------------

  private async withRetry<T>(store: Store, op: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeout = store === Store.NEW ? this.options.newTimeoutMs : this.options.legacyTimeoutMs;
    // A plain controller and timer, cleared on completion: AbortSignal.timeout and an aborted
    // timers/promises sleep both cost far more per request (a DOMException each) on the hot path.
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new StoreReadError(store, false, true, `timed out after ${timeout} ms`)),
      timeout,
    );
    const { signal } = controller;
    const budget = this.retryBudgets[store];
    budget.recordAttempt();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await op(signal);
        } catch (err) {
          const retryable = err instanceof StoreReadError && err.retryable && !err.timedOut;
          if (!retryable || attempt >= this.options.maxAttempts || signal.aborted || !budget.tryRetry())
            throw err;
          const delay = backoffDelay(
            attempt,
            this.options.retryBaseMs,
            this.options.retryCapMs,
            this.random(),
          );
          try {
            await sleep(delay, undefined, { signal });
          } catch {
            throw new StoreReadError(store, false, true, err);
          }
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** The hedge delay: fixed, or the observed p95 of new, recomputed every 64 reads (not per request). */
  private hedgeAfter(): number {
    if (this.options.hedgeAfterMs !== undefined) return this.options.hedgeAfterMs;
    if (this.hedgeCache === undefined || this.newLatency.recorded - this.hedgeComputedAt >= 64) {
      this.hedgeCache = hedgeDelay(this.newLatency, {
        fallbackMs: this.options.hedgeFallbackMs,
        floorMs: this.options.hedgeFloorMs,
        ceilingMs: this.options.hedgeCeilingMs,
        minSamples: 50,
      });
      this.hedgeComputedAt = this.newLatency.recorded;
    }
    return this.hedgeCache;
  }

  private failureMessage(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
  }

  /**
   * A request DynamoDB refused as invalid, as a 400 that says what is wrong with it, never which table
   * refused it or DynamoDB's raw message (both stay in the log through `detail`).
   */
  private invalidRequest(store: Store, err: StoreReadError): BadRequestError {
    const raw = this.failureMessage(err);
    const what =
      store === Store.LEGACY
        ? 'the key is not a valid key of the legacy table'
        : "the key, mapped by the migration's mapKey, is not a valid key of the new table";
    const why = /size|exceed|too large|limit/i.test(raw)
      ? 'a key value is larger than DynamoDB allows (partition key 2048 bytes, sort key 1024)'
      : /empty/i.test(raw)
        ? 'a key value is empty'
        : /schema|key element|type/i.test(raw)
          ? "its attributes do not match the table's key schema"
          : 'DynamoDB refused it as invalid';
    return new BadRequestError(`${what}: ${why}`, raw);
  }

  /** What a client is told when a store cannot answer (no table names, no raw errors: those are logged). */
  private unavailable(store: Store, err: unknown): string {
    const timedOut = err instanceof StoreReadError && err.timedOut;
    const throttled =
      err instanceof StoreReadError &&
      err.retryable &&
      /throttl|exceeded|limit/i.test(this.failureMessage(err));
    return `${store} store unavailable: ${timedOut ? 'the read timed out' : throttled ? 'the read was throttled' : 'the read failed'}; retry later`;
  }

  private async readLegacy(key: Item): Promise<LegacyOutcome> {
    try {
      const item = await this.withRetry(Store.LEGACY, (s) => this.target.legacy.get(key, s));
      return { ok: true, item };
    } catch (err) {
      if (err instanceof StoreReadError && err.invalid) throw this.invalidRequest(Store.LEGACY, err);
      this.telemetry.storeFailure(
        this.target.migration.id,
        Store.LEGACY,
        err instanceof StoreReadError && err.timedOut,
        this.failureMessage(err),
      );
      return { ok: false, message: this.unavailable(Store.LEGACY, err) };
    }
  }

  /** Reads the key in new, in the legacy shape; records the outcome in the breaker. */
  private async readNew(newKey: Item, admission: Admission): Promise<NewOutcome> {
    const started = performance.now();
    let raw: Item | undefined;
    try {
      raw = await this.withRetry(Store.NEW, (s) => this.target.fresh.get(newKey, s));
    } catch (err) {
      if (err instanceof StoreReadError && err.invalid) throw this.invalidRequest(Store.NEW, err);
      const timedOut = err instanceof StoreReadError && err.timedOut;
      this.breaker.record(timedOut ? 'timeout' : 'failure', admission);
      this.noteBreaker();
      this.telemetry.storeFailure(this.target.migration.id, Store.NEW, timedOut, this.failureMessage(err));
      return { kind: 'failed', message: this.unavailable(Store.NEW, err) };
    }
    this.newLatency.record(performance.now() - started);
    this.breaker.record('success', admission);
    this.noteBreaker();
    if (raw === undefined) return { kind: 'absent' };
    if (isTombstone(raw, this.names)) return { kind: 'tombstone' };
    try {
      const item = this.target.migration.unmapItem(stripMetadata(raw, this.names));
      // A result that lost an attribute (assigned "__proto__") must not be served without it.
      const lost = findLostAttribute(item, 'unmapItem result');
      if (lost) throw lost;
      return { kind: 'present', item };
    } catch (err) {
      // The store is fine, the data is not: legacy answers; shadow compare counts it as `unmappable`.
      return {
        kind: 'unmappable',
        message: 'new store unavailable: its item cannot be read back (unmapItem)',
        detail: `unmapItem failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
      };
    }
  }

  private newKeyOf(legacyKey: Item): Item {
    try {
      return this.target.migration.mapKey(legacyKey);
    } catch (err) {
      throw new BadRequestError(
        `the key cannot be mapped to the new table's key: ${this.failureMessage(err)}`,
      );
    }
  }

  private routingKeyOf(legacyKey: Item): string {
    const pk = legacyKey[this.target.migration.legacyTable.key.partitionKey.name] as AttributeValue;
    return canonical(pk);
  }

  // ---------------------------------------------------------------------------------------------
  // Single-key reads
  // ---------------------------------------------------------------------------------------------

  /** Reads one key by the routing decision. Never throws for store failures (503 when legacy cannot answer). */
  async get(legacyKey: Item, ctx: RequestContext): Promise<KeyResult> {
    const snap = await this.cache.get();
    const input0 = this.routeInput(snap, ctx, this.routingKeyOf(legacyKey), this.random(), 'closed');
    const { decision, admission, input } = this.admit(input0);
    const newKey = decision.touchesNew ? this.newKeyOf(legacyKey) : undefined;

    if (decision.readBoth) return this.strong(legacyKey, newKey as Item, decision, admission, input);
    if (decision.route === Store.LEGACY) {
      const legacyReadAt = this.now();
      // The authority's request is sent first; the shadow read follows on the next turn of the event
      // loop, so its request building never delays the answer (both are then in flight together).
      const legacyP = this.readLegacy(legacyKey);
      const newP = decision.shadow
        ? new Promise<NewOutcome>((resolve) =>
            setImmediate(() => resolve(this.readNew(newKey as Item, admission))),
          )
        : undefined;
      const legacy = await legacyP;
      if (newP) this.track(this.shadowCompare(legacyKey, newKey as Item, legacyReadAt, legacy, newP));
      return this.fromLegacy(legacy, decision, false, false);
    }
    return this.serveNew(legacyKey, newKey as Item, decision, admission, input);
  }

  private fromLegacy(
    legacy: LegacyOutcome,
    decision: RouteDecision,
    fallback: boolean,
    hedged: boolean,
  ): KeyResult {
    if (!legacy.ok)
      return {
        status: 503,
        decision,
        fallback,
        hedged,
        message: legacy.message,
      };
    if (legacy.item === undefined) return { status: 404, decision, fallback, hedged };
    return { status: 200, item: legacy.item, decision, fallback, hedged };
  }

  private fromNew(outcome: NewOutcome, decision: RouteDecision): KeyResult {
    if (outcome.kind === 'present')
      return { status: 200, item: outcome.item, decision, fallback: false, hedged: false };
    if (outcome.kind === 'failed' || outcome.kind === 'unmappable')
      return {
        status: 503,
        decision,
        fallback: false,
        hedged: false,
        message: outcome.message,
      };
    return { status: 404, decision, fallback: false, hedged: false };
  }

  private async serveNew(
    legacyKey: Item,
    newKey: Item,
    first: RouteDecision,
    admission: Admission,
    input: RouteInput,
  ): Promise<KeyResult> {
    const newP = this.readNew(newKey, admission);
    let legacyP: Promise<LegacyOutcome> | undefined;
    if (first.hedge) {
      const delay = this.hedgeAfter();
      let timer: NodeJS.Timeout | undefined;
      const elapsed = new Promise<'timer'>((resolve) => {
        timer = setTimeout(() => resolve('timer'), delay);
      });
      const winner = await Promise.race([newP.then(() => 'new' as const), elapsed]);
      clearTimeout(timer);
      if (winner === 'timer') {
        legacyP = this.readLegacy(legacyKey);
        // Whichever gives a usable answer first: new if it is servable, else legacy.
        const raced = await Promise.race([
          newP.then((o) => ({ from: 'new' as const, o })),
          legacyP.then((l) => ({ from: 'legacy' as const, l })),
        ]);
        if (raced.from === 'legacy' && raced.l.ok) {
          return this.fromLegacy(raced.l, hedgedToLegacy(first), true, true);
        }
      }
    }
    const outcome = await newP;
    const decision = decideRoute({ ...input, newRead: newReadOf(outcome) });
    if (decision.route === Store.NEW) return this.fromNew(outcome, decision);
    legacyP ??= this.readLegacy(legacyKey);
    return this.fromLegacy(await legacyP, decision, true, false);
  }

  private async strong(
    legacyKey: Item,
    newKey: Item,
    first: RouteDecision,
    admission: Admission,
    input: RouteInput,
  ): Promise<KeyResult> {
    const [legacy, fresh] = await Promise.all([this.readLegacy(legacyKey), this.readNew(newKey, admission)]);
    if (!legacy.ok) return this.fromLegacy(legacy, first, false, false);
    if (fresh.kind === 'failed' || fresh.kind === 'unmappable')
      return this.fromLegacy(legacy, decideRoute({ ...input, newRead: 'failed' }), true, false);
    const freshItem = fresh.kind === 'present' ? fresh.item : undefined;
    const equal = compareItems(legacy.item, freshItem) === 'match';
    const decision = decideRoute({
      ...input,
      newRead: fresh.kind,
      comparison: equal ? 'equal' : 'different',
    });
    if (decision.route === Store.NEW) return this.fromNew(fresh, decision);
    return this.fromLegacy(legacy, decision, false, false);
  }

  // ---------------------------------------------------------------------------------------------
  // Shadow compare
  // ---------------------------------------------------------------------------------------------

  private track(p: Promise<void>): void {
    const tracked = p.catch(() => undefined).finally(() => this.shadows.delete(tracked));
    this.shadows.add(tracked);
  }

  private async shadowCompare(
    legacyKey: Item,
    newKey: Item,
    legacyReadAt: number,
    legacy: LegacyOutcome,
    newP: Promise<NewOutcome>,
  ): Promise<void> {
    const fresh = await newP;
    if (!legacy.ok || fresh.kind === 'failed') return;
    const first =
      fresh.kind === 'unmappable'
        ? ShadowClass.UNMAPPABLE
        : compareItems(legacy.item, fresh.kind === 'present' ? fresh.item : undefined);
    let recheck: Recheck | undefined;
    if (first !== ShadowClass.MATCH && first !== ShadowClass.UNMAPPABLE)
      recheck = await this.recheck(legacyKey, newKey, legacyReadAt, legacy.item);
    const result = classifyDifference(first, recheck);
    this.telemetry.comparison({
      migrationId: this.target.migration.id,
      class: result.class,
      first: result.first,
      key: itemToDynamoJson(legacyKey),
      legacyReadAt,
      frontier: this.cache.peekFrontier(),
      ...(fresh.kind === 'unmappable' ? { detail: fresh.detail } : {}),
    });
  }

  /** Waits for F − skew to pass the legacy read, then reads both again (see core/read/shadow.ts). */
  private async recheck(
    legacyKey: Item,
    newKey: Item,
    legacyReadAt: number,
    legacyItem: Item | undefined,
  ): Promise<Recheck> {
    const { clockSkewMs } = this.target.migration.read;
    const deadline = this.now() + this.options.recheckMaxWaitMs;
    for (;;) {
      const snap = await this.cache.refresh();
      if (snap.frontier - clockSkewMs > legacyReadAt) break;
      if (this.now() >= deadline) return { kind: 'frontier-not-reached' };
      await sleep(this.options.recheckPollMs);
    }
    const admission = this.breaker.admit();
    if (admission === 'open') return { kind: 'frontier-not-reached' };
    const legacy = await this.readLegacy(legacyKey);
    const fresh = await this.readNew(newKey, admission);
    if (!legacy.ok || fresh.kind === 'failed' || fresh.kind === 'unmappable')
      return { kind: 'frontier-not-reached' };
    return {
      kind: 'done',
      legacyChanged: compareItems(legacyItem, legacy.item) !== 'match',
      second: compareItems(legacy.item, fresh.kind === 'present' ? fresh.item : undefined),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Queries
  // ---------------------------------------------------------------------------------------------

  /**
   * Whether a legacy query maps onto the new table for this partition: the new partition value does
   * not depend on the legacy sort key, and the new sort key carries the legacy sort key unchanged
   * (so sort order, conditions and page keys translate one to one). Probed with two sort values.
   */
  private queryMapping(partitionValue: AttributeValue): { newPartition: AttributeValue } | undefined {
    const { legacyTable, newTable } = this.target.migration;
    const lsk = legacyTable.key.sortKey;
    const nsk = newTable.key.sortKey;
    if (!lsk || !nsk || nsk.type !== lsk.type) return undefined;
    const probe = (v: AttributeValue): Item | undefined => {
      try {
        return this.newKeyOf({ [legacyTable.key.partitionKey.name]: partitionValue, [lsk.name]: v });
      } catch {
        return undefined;
      }
    };
    const samples: AttributeValue[] =
      lsk.type === 'S'
        ? [{ S: 'a' }, { S: 'zz' }]
        : lsk.type === 'N'
          ? [{ N: '1' }, { N: '2' }]
          : [{ B: new Uint8Array([1]) }, { B: new Uint8Array([2, 2]) }];
    const [a, b] = samples.map(probe);
    if (!a || !b) return undefined;
    const npk = newTable.key.partitionKey.name;
    const pa = a[npk];
    const pb = b[npk];
    if (!pa || !pb || !valuesEqual(pa, pb)) return undefined;
    if (!valuesEqual(a[nsk.name] as AttributeValue, samples[0] as AttributeValue)) return undefined;
    if (!valuesEqual(b[nsk.name] as AttributeValue, samples[1] as AttributeValue)) return undefined;
    return { newPartition: pa };
  }

  /** Reads one query page. A legacy table without a sort key is queried as a single-key read. */
  async query(q: QueryRequest, ctx: RequestContext): Promise<PageResult> {
    const { migration } = this.target;
    const lk = migration.legacyTable.key;
    if (!lk.sortKey) {
      if (q.nextToken)
        throw new BadRequestError('nextToken: a query of a table without sort key has a single page');
      const r = await this.get({ [lk.partitionKey.name]: q.partitionValue }, ctx);
      if (r.status === 503)
        return {
          status: 503,
          items: [],
          decision: r.decision,
          fallback: r.fallback,
          ...(r.message ? { message: r.message } : {}),
        };
      return { status: 200, items: r.item ? [r.item] : [], decision: r.decision, fallback: r.fallback };
    }
    const fingerprint = queryFingerprint({
      p: canonical(q.partitionValue),
      s: q.sort ? [q.sort.op, canonical(q.sort.value), 'to' in q.sort ? canonical(q.sort.to) : null] : null,
      f: q.forward,
    });
    let pinned: Store | undefined;
    let startKey: Item | undefined;
    if (q.nextToken) {
      try {
        const token = decodePageToken(q.nextToken, this.options.tokenSecret, migration.id, fingerprint);
        pinned = token.store;
        startKey = token.startKey;
      } catch (err) {
        if (err instanceof PageTokenError) throw new BadRequestError(`bad nextToken: ${err.message}`);
        throw err;
      }
    }
    const mapping = this.queryMapping(q.partitionValue);
    const snap = await this.cache.get();
    const base = {
      ...this.routeInput(snap, ctx, canonical(q.partitionValue), this.random(), 'closed'),
      kind: 'query' as const,
      queryMappable: mapping !== undefined,
      ...(pinned ? { pinned } : {}),
    };
    const { decision, admission, input } = this.admit(base);
    if (startKey) this.checkStartKey(startKey, pinned as Store, q.partitionValue, mapping?.newPartition);

    if (decision.route === Store.NEW && mapping) {
      const start =
        startKey && pinned === Store.LEGACY ? this.toNewStart(startKey, mapping.newPartition) : startKey;
      try {
        const page = await this.withRetry(Store.NEW, (s) =>
          this.target.fresh.query(
            {
              partitionName: migration.newTable.key.partitionKey.name,
              partitionValue: mapping.newPartition,
              sortName: migration.newTable.key.sortKey?.name as string,
              ...(q.sort ? { sort: q.sort } : {}),
              limit: q.limit,
              forward: q.forward,
              ...(start ? { startKey: start } : {}),
            },
            s,
          ),
        );
        this.breaker.record('success', admission);
        this.noteBreaker();
        const items = page.items
          .filter((i) => !isTombstone(i, this.names))
          .map((i) => migration.unmapItem(stripMetadata(i, this.names)));
        return { status: 200, items, ...this.token(Store.NEW, page, fingerprint), decision, fallback: false };
      } catch (err) {
        if (err instanceof StoreReadError && err.invalid) throw this.invalidRequest(Store.NEW, err);
        if (err instanceof ReadApiError) throw err;
        const timedOut = err instanceof StoreReadError && err.timedOut;
        this.breaker.record(timedOut ? 'timeout' : 'failure', admission);
        this.noteBreaker();
        this.telemetry.storeFailure(migration.id, Store.NEW, timedOut, this.failureMessage(err));
        const after = decideRoute({ ...input, newRead: 'failed' });
        if (after.route === Store.NEW) {
          return {
            status: 503,
            items: [],
            decision: after,
            fallback: false,
            message: this.unavailable(Store.NEW, err),
          };
        }
        const legacyStart = start ? this.toLegacyStart(start, q.partitionValue) : undefined;
        return this.legacyPage(q, legacyStart, fingerprint, after, true);
      }
    }
    const legacyStart =
      startKey && pinned === Store.NEW ? this.toLegacyStart(startKey, q.partitionValue) : startKey;
    return this.legacyPage(q, legacyStart, fingerprint, decision, false);
  }

  private async legacyPage(
    q: QueryRequest,
    startKey: Item | undefined,
    fingerprint: string,
    decision: RouteDecision,
    fallback: boolean,
  ): Promise<PageResult> {
    const lk = this.target.migration.legacyTable.key;
    try {
      const page = await this.withRetry(Store.LEGACY, (s) =>
        this.target.legacy.query(
          {
            partitionName: lk.partitionKey.name,
            partitionValue: q.partitionValue,
            sortName: lk.sortKey?.name as string,
            ...(q.sort ? { sort: q.sort } : {}),
            limit: q.limit,
            forward: q.forward,
            ...(startKey ? { startKey } : {}),
          },
          s,
        ),
      );
      return {
        status: 200,
        items: page.items,
        ...this.token(Store.LEGACY, page, fingerprint),
        decision,
        fallback,
      };
    } catch (err) {
      if (err instanceof StoreReadError && err.invalid) throw this.invalidRequest(Store.LEGACY, err);
      this.telemetry.storeFailure(
        this.target.migration.id,
        Store.LEGACY,
        err instanceof StoreReadError && err.timedOut,
        this.failureMessage(err),
      );
      return {
        status: 503,
        items: [],
        decision,
        fallback,
        message: this.unavailable(Store.LEGACY, err),
      };
    }
  }

  private token(store: Store, page: QueryPage, query: string): { nextToken?: string } {
    if (!page.lastKey) return {};
    return {
      nextToken: encodePageToken(
        { migrationId: this.target.migration.id, store, query, startKey: page.lastKey },
        this.options.tokenSecret,
      ),
    };
  }

  /** A token's start key must be a key of the query's partition in its store's key space. */
  private checkStartKey(
    key: Item,
    store: Store,
    partition: AttributeValue,
    newPartition: AttributeValue | undefined,
  ): void {
    const schema =
      store === Store.LEGACY ? this.target.migration.legacyTable.key : this.target.migration.newTable.key;
    const names = keyNames(schema);
    const ok =
      Object.keys(key).length === names.length &&
      names.every((n) => key[n] !== undefined) &&
      (store === Store.LEGACY
        ? valuesEqual(key[schema.partitionKey.name] as AttributeValue, partition)
        : newPartition !== undefined &&
          valuesEqual(key[schema.partitionKey.name] as AttributeValue, newPartition));
    if (!ok) throw new BadRequestError('bad nextToken: its start key does not belong to this query');
  }

  private toNewStart(legacyKey: Item, newPartition: AttributeValue): Item {
    const { legacyTable, newTable } = this.target.migration;
    return {
      [newTable.key.partitionKey.name]: newPartition,
      [newTable.key.sortKey?.name as string]: legacyKey[
        legacyTable.key.sortKey?.name as string
      ] as AttributeValue,
    };
  }

  private toLegacyStart(newKey: Item, partition: AttributeValue): Item {
    const { legacyTable, newTable } = this.target.migration;
    return {
      [legacyTable.key.partitionKey.name]: partition,
      [legacyTable.key.sortKey?.name as string]: newKey[
        newTable.key.sortKey?.name as string
      ] as AttributeValue,
    };
  }
}
