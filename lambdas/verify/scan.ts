/**
 * The `scan` function of verification: one segment of one pass for a bounded time (the passes are
 * `VerifySide`, core/verify/checkpoint.ts): `sums` (checksum of `mapItem(legacy)`), `new` (checksum and
 * key census of live new items), and only when the checksums differ `legacy` (classify every legacy
 * item against the new item at its mapped key, BatchGetItem) and `extras` (look up live new items'
 * legacy origins). What a pass makes of a page is core/verify/passes.ts; this step reads the pages,
 * paced by the controls shared with backfill, does the lookups, stores the suspects and moves the
 * checkpoint (counts and checksums move with it).
 */
import { type ScanPage, runPool } from '../../adapters/backfill-io';
import { ControlConflictError, getOrCreate, stripVersion } from '../../adapters/control-store';
import { keyId } from '../../adapters/verify-io';
import { delayUntil, nextNotBefore, pageLimit, segmentShare } from '../../core/control';
import {
  ChecksumAccumulator,
  type PageSums,
  type PassContext,
  type PassPage,
  VerifyCheckpointConflictError,
  type VerifyCheckpoint,
  VerifyKey,
  VerifySide,
  advanceVerifyCheckpoint,
  censusPage,
  classifyLookedUp,
  extrasFound,
  extrasLookups,
  initialVerifyCheckpoint,
  legacyLookups,
  sumsPage,
} from '../../core/verify';
import { type Item, itemFromDynamoJson, itemToDynamoJson } from '../../core/model';
import {
  type ScanResult,
  type SegmentPayload,
  type VerifyDeps,
  checkSegment,
  stepMigration,
} from './contract';
import { expiresAt, saveSuspect } from './store';

/** Builds the segment worker. */
export function makeVerifyScanHandler(deps: VerifyDeps): (p: SegmentPayload) => Promise<ScanResult> {
  const { m, names } = stepMigration(deps);

  /** The context of one page's suspects: read now, expiring with the run's working items. */
  const passContext = (runId: string): PassContext => ({
    migration: m,
    names,
    runId,
    seenAt: deps.now(),
    expiresAt: () => expiresAt(deps),
  });

  const loadCheckpoint = (p: SegmentPayload) =>
    getOrCreate<VerifyCheckpoint>(deps.store, VerifyKey.segment(p.runId, p.side, p.segment), () =>
      initialVerifyCheckpoint(p.runId, p.side, p.segment, p.totalSegments, deps.now()),
    );

  /** What the segment's pass makes of a page (`legacy` and `extras` look keys up in between). */
  async function classify(
    side: VerifySide,
    items: readonly Item[],
    sums: PageSums,
    runId: string,
  ): Promise<PassPage> {
    if (side === VerifySide.SUMS) return sumsPage(passContext(runId), items, sums);
    if (side === VerifySide.NEW) return censusPage({ migration: m, names }, items, sums);
    const ctx = passContext(runId);
    if (side === VerifySide.LEGACY) {
      const lookups = legacyLookups(ctx, items, sums);
      const found = await deps.fresh.batchGet(
        lookups.rows.map((r) => r.newKey),
        true,
      );
      return classifyLookedUp(ctx, lookups, (newKey) => found.get(keyId(newKey)), sums);
    }
    const lookups = extrasLookups(ctx, items);
    const origins = await deps.legacy.batchGet(
      lookups.rows.map((r) => r.legacyKey),
      false,
    );
    return extrasFound(ctx, lookups, (legacyKey) => origins.has(keyId(legacyKey)));
  }

  return async (p) => {
    checkSegment(p);
    const started = deps.now();
    let cp = await loadCheckpoint(p);
    const tally = { pages: 0, scanned: 0 };
    // Progress once per invocation (namespace dualread, service dualread-verify).
    const result = (status: ScanResult['status']): ScanResult => {
      if (deps.metrics) {
        deps.metrics.addMetric('VerifyItemsRead', 'Count', tally.scanned);
        deps.metrics.addMetric('VerifyPages', 'Count', tally.pages);
        deps.metrics.publishStoredMetrics();
      }
      return resultOf(status);
    };
    const resultOf = (status: ScanResult['status']): ScanResult => ({
      status,
      done: status === 'DONE',
      ...tally,
    });
    if (cp.done) return result('DONE');
    const scan = p.side === VerifySide.LEGACY || p.side === VerifySide.SUMS ? deps.scanLegacy : deps.scanNew;
    // Read-ahead: while a page is classified, the next page is already being scanned (unlimited
    // rate only; a paced segment reads page by page). The checkpoint still moves page by page.
    let ahead: { from: string; page: Promise<ScanPage> } | undefined;
    const dropAhead = () => {
      ahead?.page.catch(() => undefined);
      ahead = undefined;
    };

    for (;;) {
      // Controls shared with backfill (STATE.controls), re-read before every page.
      const state = await deps.store.getState();
      const controls = state?.controls ?? {
        paused: false,
        rateLimitPerSecond: m.backfill.rateLimitPerSecond,
      };
      if (controls.paused) {
        dropAhead();
        return result('PAUSED');
      }
      const share = segmentShare(controls.rateLimitPerSecond, p.totalSegments);
      const wait = delayUntil(cp.notBefore, deps.now());
      // A pacing wait that does not fit in the budget is left to the state machine's Wait state; with no
      // wait, every invocation reads at least one page, so a loop always progresses.
      if (wait > 0 && deps.now() + wait - started > deps.settings.budgetMs) {
        dropAhead();
        return result('WAIT');
      }
      if (wait > 0) await deps.sleep(wait);

      const pageStartedAt = deps.now();
      const limit = pageLimit(share, deps.settings.pageSize);
      const from = JSON.stringify(cp.lastEvaluatedKey ?? null);
      const page = await (ahead && ahead.from === from
        ? ahead.page
        : scan({
            segment: p.segment,
            totalSegments: p.totalSegments,
            limit,
            ...(cp.lastEvaluatedKey ? { exclusiveStartKey: itemFromDynamoJson(cp.lastEvaluatedKey) } : {}),
          }));
      ahead = undefined;
      if (page.lastEvaluatedKey && !Number.isFinite(share) && deps.now() - started < deps.settings.budgetMs) {
        const next = page.lastEvaluatedKey;
        ahead = {
          from: JSON.stringify(itemToDynamoJson(next)),
          page: scan({ segment: p.segment, totalSegments: p.totalSegments, limit, exclusiveStartKey: next }),
        };
        ahead.page.catch(() => undefined);
      }
      const sums = { content: new ChecksumAccumulator(), census: new ChecksumAccumulator() };
      const outcome = await classify(p.side, page.items, sums, p.runId);

      // Suspects first (idempotent puts keyed by legacy key), then the checkpoint.
      const room = Math.max(0, deps.settings.maxSuspectsPerSegment - cp.suspects);
      const kept = outcome.suspects.slice(0, room);
      await runPool(kept, 16, (s) => saveSuspect(deps, s));
      const next = advanceVerifyCheckpoint(
        stripVersion(cp),
        {
          ...(page.lastEvaluatedKey ? { lastEvaluatedKey: itemToDynamoJson(page.lastEvaluatedKey) } : {}),
          scanned: page.items.length,
          counts: outcome.counts,
          tombstones: outcome.tombstones,
          checksum: sums.content.value(),
          keyCensus: sums.census.value(),
          suspects: kept.length,
          suspectsDropped: outcome.suspects.length - kept.length,
          notBefore: nextNotBefore(cp.notBefore, pageStartedAt, page.items.length, share),
        },
        deps.now(),
      );
      try {
        // Working items expire with the suspects (control table TTL); the report stays.
        cp = await deps.store.put(
          VerifyKey.segment(p.runId, p.side, p.segment),
          { ...next, expiresAt: expiresAt(deps) },
          cp.version,
        );
      } catch (err) {
        dropAhead();
        if (err instanceof ControlConflictError)
          throw new VerifyCheckpointConflictError(m.id, VerifyKey.segment(p.runId, p.side, p.segment));
        throw err;
      }
      tally.pages++;
      tally.scanned += page.items.length;
      if (cp.done) return result('DONE');
      if (deps.now() - started >= deps.settings.budgetMs) {
        dropAhead();
        return result('MORE');
      }
    }
  };
}
