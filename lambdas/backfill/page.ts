/**
 * The `page` step, the page worker: copies pages of one Scan segment for a bounded time, advancing
 * the segment checkpoint after each page on a condition on its previous version.
 */
import { ControlConflictError, type Versioned, stripVersion } from '../../adapters/control-store';
import { type ScanPage, isThrottle } from '../../adapters/backfill-io';
import {
  CheckpointConflictError,
  type CopyCounts,
  SegmentLayoutMismatchError,
  type SegmentCheckpoint,
  advanceCheckpoint,
  controlsOf,
  countWrite,
  initialCheckpoint,
  initialRate,
  lowerRate,
  raiseRate,
  mapForBackfill,
  nextPage,
  parseForeignItems,
} from '../../core/backfill';
import { ControlKey, ForeignItems, type MigrationState, nextNotBefore, pageLimit } from '../../core/control';
import { type Item, itemFromDynamoJson, itemToDynamoJson, keyOf } from '../../core/model';
import { type BackfillDeps, type SegmentPayload, checkSegmentPayload } from './context';
import type { StoredCheckpoint } from './state-change';

/** How a `page` invocation ended. */
export const PageStatus = {
  /** The segment's Scan is exhausted. */
  DONE: 'DONE',
  /** The time budget ran out; more pages remain. */
  MORE: 'MORE',
  /** The operator paused the backfill. */
  PAUSED: 'PAUSED',
  /** Rate pacing asks for a wait longer than the time left. */
  WAIT: 'WAIT',
} as const;
export type PageStatus = (typeof PageStatus)[keyof typeof PageStatus];

/** Output of `page`. */
export interface PageResult extends CopyCounts {
  readonly status: PageStatus;
  readonly done: boolean;
  readonly pages: number;
}

/** Builds the page worker. */
export function makePageHandler(deps: BackfillDeps): (p: SegmentPayload) => Promise<PageResult> {
  const m = deps.migration;

  /** Records a poison item once (a page rescanned after a crash meets it again): 1 if this call did. */
  const recordPoison = (segment: number, runId: string, legacy: Item, reason: string): Promise<number> =>
    deps.poison.record(segment, runId, keyOf(legacy, m.legacyTable.key), reason, deps.now());

  async function loadCheckpoint(p: SegmentPayload): Promise<StoredCheckpoint> {
    const sk = ControlKey.segment(p.segment);
    const existing = await deps.store.get<StoredCheckpoint>(sk);
    if (existing) return existing;
    try {
      return await deps.store.put(sk, initialCheckpoint(p.segment, p.totalSegments, p.runId, deps.now()), 0);
    } catch (err) {
      if (!(err instanceof ControlConflictError)) throw err;
      const winner = await deps.store.get<StoredCheckpoint>(sk);
      if (!winner) throw err;
      return winner;
    }
  }

  /**
   * Maps a page's items (checking no key moved), then writes them only where nothing exists (rule 3);
   * poison is recorded, never dropped. Returns the page's counts.
   */
  async function copyPage(
    p: SegmentPayload,
    items: readonly Item[],
    foreignItems: ForeignItems,
    scanTime: number,
  ): Promise<{ copied: number; skippedExists: number; poison: number; keptForeign: number }> {
    const counts = { copied: 0, skippedExists: 0, poison: 0, keptForeign: 0 };
    const toWrite: Array<{ item: Item; key: Item; legacy: Item }> = [];
    for (const legacy of items) {
      const mapped = mapForBackfill(m, legacy, scanTime);
      if ('reason' in mapped) counts.poison += await recordPoison(p.segment, p.runId, legacy, mapped.reason);
      else toWrite.push({ ...mapped, legacy });
    }
    const outcomes = await deps.writer.writeAll(
      toWrite.map((w) => w.item),
      foreignItems,
    );
    for (const [i, o] of outcomes.entries()) {
      const w = toWrite[i] as { item: Item; key: Item; legacy: Item };
      const written = countWrite(o, foreignItems, w.key);
      if ('poison' in written)
        counts.poison += await recordPoison(p.segment, p.runId, w.legacy, written.poison);
      else counts[written.count]++;
    }
    return counts;
  }

  /**
   * Adapts the run's rate after a page (core/backfill/rate.ts): lowered when the page met throttling,
   * raised after a clean stretch. Stored in STATE on the version the page started from: when another
   * segment changed STATE meanwhile, this change is dropped (that segment saw the same load). Logged.
   */
  async function adaptRate(
    state: MigrationState | undefined,
    p: SegmentPayload,
    throttled: number,
    observedRate: number,
  ): Promise<void> {
    if (!state) return;
    const now = deps.now();
    const rate = state.backfill.rate ?? initialRate(0, 'no ceiling recorded', now);
    const tuning = deps.settings.rateTuning;
    const next = throttled > 0 ? lowerRate(rate, observedRate, now, tuning) : raiseRate(rate, now, tuning);
    if (!next) return;
    try {
      await deps.store.put(
        ControlKey.STATE,
        { ...stripVersion(state as Versioned<MigrationState>), backfill: { ...state.backfill, rate: next } },
        state.version,
      );
    } catch (err) {
      if (err instanceof ControlConflictError) return;
      throw err;
    }
    const detail = {
      runId: p.runId,
      segment: p.segment,
      rateInForce: next.inForce,
      rateCeiling: next.ceiling,
      throttledRetries: throttled,
      throttles: next.throttles,
    };
    if (throttled > 0) deps.log?.warn('backfill rate lowered: throttling', detail);
    else deps.log?.info('backfill rate raised', detail);
  }

  return async (p) => {
    checkSegmentPayload(p);
    const started = deps.now();
    let cp = await loadCheckpoint(p);
    if (cp.totalSegments !== p.totalSegments)
      throw new SegmentLayoutMismatchError(m.id, p.totalSegments, cp.totalSegments);
    const tally = {
      pages: 0,
      scanned: 0,
      copied: 0,
      skippedExists: 0,
      poison: 0,
      keptForeign: 0,
      throttledRetries: 0,
    };
    let rateInForce = 0;
    // Progress metrics once per invocation (namespace dualread, service dualread-backfill): a RUNNING
    // backfill whose BackfillItemsScanned stays 0 is stuck (paused, waiting or failing: the alarm's cue).
    const result = (status: PageStatus): PageResult => {
      const metrics = deps.metrics;
      if (metrics) {
        metrics.addMetric('BackfillItemsScanned', 'Count', tally.scanned);
        metrics.addMetric('BackfillItemsCopied', 'Count', tally.copied);
        metrics.addMetric('BackfillPages', 'Count', tally.pages);
        metrics.addMetric('BackfillPoisonItems', 'Count', tally.poison);
        metrics.addMetric('BackfillThrottledRetries', 'Count', tally.throttledRetries);
        metrics.addMetric('BackfillRateInForce', 'Count/Second', rateInForce);
        metrics.publishStoredMetrics();
      }
      const { throttledRetries: _t, ...counts } = tally;
      return { status, done: status === PageStatus.DONE, ...counts };
    };
    if (cp.done) return result(PageStatus.DONE);

    // The next page is read while the current one is written (prefetch): the Scan's latency hides
    // behind the writes. A prefetched page is only ever the one right after the stored checkpoint.
    const scanFrom = (startKey: SegmentCheckpoint['lastEvaluatedKey'], limit: number) =>
      deps.scanPage({
        segment: p.segment,
        totalSegments: p.totalSegments,
        limit,
        ...(startKey ? { exclusiveStartKey: itemFromDynamoJson(startKey) } : {}),
      });
    let ahead: Promise<ScanPage> | undefined;
    // Controls are re-read before every page (the read for the next page runs alongside the
    // checkpoint write of the previous one, after its items were written): a pause or a new rate
    // set while a page is being written takes effect at the next page.
    let nextState: Promise<MigrationState | undefined> = deps.store.getState();
    for (;;) {
      const current = ahead;
      ahead = undefined;
      const state = await nextState;
      rateInForce = controlsOf(state, m.backfill.rateLimitPerSecond).rateLimitPerSecond;
      // A pause, or a rate wait that would outlast the budget (a Wait state does it), ends the invocation.
      const next = nextPage(
        controlsOf(state, m.backfill.rateLimitPerSecond),
        {
          totalSegments: p.totalSegments,
          notBefore: cp.notBefore,
          startedAt: started,
          budgetMs: deps.settings.pageBudgetMs,
        },
        deps.now(),
      );
      if ('stop' in next) {
        current?.catch(() => undefined);
        return result(next.stop);
      }
      const { share, waitMs: wait } = next;
      const pageRead = current ?? scanFrom(cp.lastEvaluatedKey, pageLimit(share, m.backfill.pageSize));
      if (wait > 0) await deps.sleep(wait);

      const pageStartedAt = deps.now();
      let page: ScanPage;
      let counts: Awaited<ReturnType<typeof copyPage>>;
      // A foreign item (not written by dualread) holding a key is treated as the run was started to.
      const foreignItems = parseForeignItems(state?.backfill.foreignItems, ForeignItems.REFUSE);
      try {
        page = await pageRead;
        const timeLeft = deps.settings.pageBudgetMs - (deps.now() - started);
        if (page.lastEvaluatedKey && timeLeft > 0) {
          ahead = scanFrom(itemToDynamoJson(page.lastEvaluatedKey), pageLimit(share, m.backfill.pageSize));
          ahead.catch(() => undefined);
        }
        counts = await copyPage(p, page.items, foreignItems, pageStartedAt);
      } catch (err) {
        // Retries ran out under throttling: lower the rate before the state machine retries the page.
        const throttled = (deps.throttles?.take() ?? 0) + (isThrottle(err) ? 1 : 0);
        tally.throttledRetries += throttled;
        result(PageStatus.MORE); // publishes what the invocation did before it fails
        if (throttled > 0) await adaptRate(state, p, throttled, 0).catch(() => undefined);
        throw err;
      }
      const pageSeconds = Math.max(0.001, (deps.now() - pageStartedAt) / 1000);
      const throttled = deps.throttles?.take() ?? 0;
      tally.throttledRetries += throttled;
      await adaptRate(state, p, throttled, (page.items.length / pageSeconds) * p.totalSegments);

      // Advance the checkpoint only after the page is settled, on the version it started from.
      const advanced = advanceCheckpoint(
        stripVersion(cp),
        {
          ...(page.lastEvaluatedKey ? { lastEvaluatedKey: itemToDynamoJson(page.lastEvaluatedKey) } : {}),
          scanned: page.items.length,
          ...counts,
          notBefore: nextNotBefore(cp.notBefore, pageStartedAt, page.items.length, share),
        },
        p.runId,
        deps.now(),
      );
      nextState = deps.store.getState();
      nextState.catch(() => undefined);
      try {
        cp = await deps.store.put(ControlKey.segment(p.segment), advanced, cp.version);
      } catch (err) {
        if (err instanceof ControlConflictError)
          throw new CheckpointConflictError(m.id, p.segment, cp.version);
        throw err;
      }
      tally.pages++;
      tally.scanned += page.items.length;
      tally.copied += counts.copied;
      tally.skippedExists += counts.skippedExists;
      tally.poison += counts.poison;
      tally.keptForeign += counts.keptForeign;
      if (cp.done) return result(PageStatus.DONE);
      if (deps.now() - started >= deps.settings.pageBudgetMs) {
        ahead?.catch(() => undefined);
        return result(PageStatus.MORE);
      }
    }
  };
}
