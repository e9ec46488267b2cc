/**
 * The `recheck` function of verification: the lag-aware re-check of suspects (core/verify/recheck.ts
 * has the argument). Batches of pending suspects: consistent legacy reads, a wait inside the invocation
 * (polling FRONTIER) until `F - clockSkew` passes them, consistent new reads, then each suspect settles
 * or goes another round; past the lag bound it is `unconfirmed-lag`.
 */
import { keyId } from '../../adapters/verify-io';
import {
  VerifyInputError,
  frontierCovers,
  frontierWaitUntil,
  isPendingSuspect,
  lagTimeout,
  recheckRound,
} from '../../core/verify';
import { metadataNames, type Item, itemFromDynamoJson } from '../../core/model';
import type { RunPayload, StepResult, VerifyDeps } from './contract';
import { listSuspects, saveSuspect } from './store';

/** Builds the re-check handler (core/verify/recheck.ts has the argument). */
export function makeVerifyRecheckHandler(deps: VerifyDeps): (p: RunPayload) => Promise<StepResult> {
  const m = deps.migration;
  const names = metadataNames(m.metadataPrefix);
  const skew = deps.settings.clockSkewMs ?? m.read.clockSkewMs;

  /** Polls FRONTIER until it covers `readAt` or the deadline passes. */
  async function waitForFrontier(readAt: number, deadline: number): Promise<boolean> {
    for (;;) {
      const f = await deps.store.getFrontier();
      if (f && frontierCovers(f.frontier, skew, readAt)) return true;
      if (deps.now() + deps.settings.frontierPollMs > deadline) return false;
      await deps.sleep(deps.settings.frontierPollMs);
    }
  }

  return async (p) => {
    if (!p || typeof p.runId !== 'string') throw new VerifyInputError('recheck needs { runId }');
    const started = deps.now();
    const deadline = started + deps.settings.budgetMs;
    let processed = 0;
    for (;;) {
      const pending = (await listSuspects(deps, p.runId)).filter(isPendingSuspect);
      if (pending.length === 0) return { done: true, processed, pending: 0 };
      if (processed > 0 && deps.now() >= deadline) return { done: false, processed, pending: pending.length };
      const batch = pending.slice(0, deps.settings.recheckBatch);

      // 2. Consistent legacy reads; t1 = when they returned.
      const legacyKeys = batch.map((s) => itemFromDynamoJson(s.legacyKey));
      const legacy = await deps.legacy.batchGet(
        legacyKeys.filter((k) => Object.keys(k).length > 0),
        true,
      );
      const t1 = deps.now();

      // 3. Wait for the frontier to pass t1: no longer than the budget, nor than the lag bound of the
      //    suspect that has waited longest.
      const waitUntil = frontierWaitUntil(batch, started, deadline, deps.settings.maxLagWaitMs);
      if (!(await waitForFrontier(t1, waitUntil))) {
        const timeout = lagTimeout(batch, started, deps.now(), deps.settings.maxLagWaitMs);
        await Promise.all(timeout.updates.map((s) => saveSuspect(deps, s)));
        return {
          done: timeout.left === 0 && pending.length === batch.length,
          processed,
          pending: timeout.left,
        };
      }

      // 4-6. Consistent new reads; classify; settle or go another round.
      const newKeys = batch.map((s) => itemFromDynamoJson(s.newKey));
      const fresh = await deps.fresh.batchGet(
        newKeys.filter((k) => Object.keys(k).length > 0),
        true,
      );
      const now = deps.now();
      await Promise.all(
        batch.map((s, i) => {
          const lk = legacyKeys[i] as Item;
          const nk = newKeys[i] as Item;
          const reads = {
            legacy: Object.keys(lk).length ? legacy.get(keyId(lk)) : undefined,
            fresh: Object.keys(nk).length ? fresh.get(keyId(nk)) : undefined,
          };
          return saveSuspect(deps, recheckRound(m, names, s, reads, deps.settings.maxRecheckRounds, now));
        }),
      );
      processed += batch.length;
    }
  };
}
