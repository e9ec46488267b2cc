/**
 * The `recheck` function of verification: the lag-aware re-check of suspects (core/verify/recheck.ts
 * has the argument). Batches of pending suspects: consistent legacy reads, then consistent new reads at
 * once (a suspect whose stores agree now is resolved, step 2b), a wait inside the invocation (polling
 * FRONTIER) until `F - clockSkew` passes the others, consistent new reads, then each suspect settles
 * or goes another round; past the lag bound it is `unconfirmed-lag`, with how far F was short.
 */
import { keyId } from '../../adapters/verify-io';
import {
  type Suspect,
  VerifyInputError,
  agreesNow,
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

  /** Polls FRONTIER until it covers `readAt` or the deadline passes; the last F read, if any. */
  async function waitForFrontier(
    readAt: number,
    deadline: number,
  ): Promise<{ readonly covered: boolean; readonly frontier: number | undefined }> {
    for (;;) {
      const f = await deps.store.getFrontier();
      if (f && frontierCovers(f.frontier, skew, readAt)) return { covered: true, frontier: f.frontier };
      if (deps.now() + deps.settings.frontierPollMs > deadline)
        return { covered: false, frontier: f?.frontier };
      await deps.sleep(deps.settings.frontierPollMs);
    }
  }

  /** Consistent reads of the batch's keys on one side; undefined for an empty key (origin unknown). */
  async function readKeys(side: 'legacy' | 'fresh', keys: readonly Item[]): Promise<(Item | undefined)[]> {
    const found = await deps[side].batchGet(
      keys.filter((k) => Object.keys(k).length > 0),
      true,
    );
    return keys.map((k) => (Object.keys(k).length ? found.get(keyId(k)) : undefined));
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
      const legacy = await readKeys(
        'legacy',
        batch.map((s) => itemFromDynamoJson(s.legacyKey)),
      );
      const t1 = deps.now();

      // 2b. Consistent new reads at once: a suspect whose stores agree now is resolved without the
      //     frontier; the others wait for it.
      const early = await readKeys(
        'fresh',
        batch.map((s) => itemFromDynamoJson(s.newKey)),
      );
      const agreed = deps.now();
      const waiting: Suspect[] = [];
      const waitingLegacy: (Item | undefined)[] = [];
      const settled: Suspect[] = [];
      batch.forEach((s, i) => {
        const reads = { legacy: legacy[i], fresh: early[i] };
        if (agreesNow(m, names, reads))
          settled.push(recheckRound(m, names, s, reads, deps.settings.maxRecheckRounds, agreed));
        else {
          waiting.push(s);
          waitingLegacy.push(legacy[i]);
        }
      });
      await Promise.all(settled.map((s) => saveSuspect(deps, s)));
      processed += settled.length;
      if (waiting.length === 0) continue;

      // 3. Wait for the frontier to pass t1: no longer than the budget, nor than the lag bound of the
      //    suspect that has waited longest.
      const waitUntil = frontierWaitUntil(waiting, started, deadline, deps.settings.maxLagWaitMs);
      const wait = await waitForFrontier(t1, waitUntil);
      if (!wait.covered) {
        const timeout = lagTimeout(waiting, started, deps.now(), {
          frontier: wait.frontier,
          readAt: t1,
          clockSkewMs: skew,
          maxLagWaitMs: deps.settings.maxLagWaitMs,
        });
        await Promise.all(timeout.updates.map((s) => saveSuspect(deps, s)));
        const unbatched = pending.length - batch.length;
        return { done: timeout.left === 0 && unbatched === 0, processed, pending: timeout.left + unbatched };
      }

      // 4-6. Consistent new reads; classify; settle or go another round.
      const fresh = await readKeys(
        'fresh',
        waiting.map((s) => itemFromDynamoJson(s.newKey)),
      );
      const now = deps.now();
      await Promise.all(
        waiting.map((s, i) =>
          saveSuspect(
            deps,
            recheckRound(
              m,
              names,
              s,
              { legacy: waitingLegacy[i], fresh: fresh[i] },
              deps.settings.maxRecheckRounds,
              now,
            ),
          ),
        ),
      );
      processed += waiting.length;
    }
  };
}
