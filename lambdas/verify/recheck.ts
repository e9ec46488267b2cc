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
  type Waiting,
  waitTarget,
} from '../../core/verify';
import { recheckFrontier } from '../../core/frontier';
import { type Item, itemFromDynamoJson } from '../../core/model';
import { type RunPayload, type StepResult, type VerifyDeps, stepMigration } from './contract';
import { listSuspects, saveSuspect } from './store';

/** Builds the re-check handler (core/verify/recheck.ts has the argument). */
export function makeVerifyRecheckHandler(deps: VerifyDeps): (p: RunPayload) => Promise<StepResult> {
  const { m, names } = stepMigration(deps);
  const skew = deps.settings.clockSkewMs ?? m.read.clockSkewMs;

  /** Polls FRONTIER until it covers every `readAt` or the deadline passes; the last F read, if any. */
  async function waitForFrontier(readAts: readonly number[], deadline: number): Promise<number | undefined> {
    const latest = Math.max(...readAts);
    for (;;) {
      const f = await deps.store.getFrontier();
      // While a stream gap is open F is frozen; the F of the records after the trim horizon decides
      // here, so what the lost records left is confirmed drift (repaired) rather than lag.
      const frontier = f ? recheckFrontier(f) : undefined;
      if (frontier !== undefined && frontierCovers(frontier, skew, latest)) return frontier;
      if (deps.now() + deps.settings.frontierPollMs > deadline) return frontier;
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

  /**
   * Steps 2 and 2b: consistent legacy reads (returned at `t1`), then consistent new reads at once. The
   * suspects whose stores agree are `resolved` (stored here); the others, with their legacy reads and
   * the legacy read each waits on (step 3b), wait.
   */
  async function readBoth(suspects: readonly Suspect[]) {
    const legacy = await readKeys(
      'legacy',
      suspects.map((s) => itemFromDynamoJson(s.legacyKey)),
    );
    const t1 = deps.now();
    const fresh = await readKeys(
      'fresh',
      suspects.map((s) => itemFromDynamoJson(s.newKey)),
    );
    const at = deps.now();
    const waiting: (Waiting & { legacy: Item | undefined })[] = [];
    const resolved: Suspect[] = [];
    suspects.forEach((s, i) => {
      const reads = { legacy: legacy[i], fresh: fresh[i] };
      if (agreesNow(m, names, reads))
        resolved.push(recheckRound(m, names, s, reads, deps.settings.maxRecheckRounds, at));
      else waiting.push({ suspect: s, legacy: legacy[i], target: waitTarget(s, legacy[i], t1) });
    });
    await Promise.all(resolved.map((s) => saveSuspect(deps, s)));
    return { t1, waiting, resolved: resolved.length };
  }

  return async (p) => {
    if (!p || typeof p.runId !== 'string') throw new VerifyInputError('recheck needs { runId }');
    const started = deps.now();
    const deadline = started + deps.settings.budgetMs;
    const bound = deps.settings.maxLagWaitMs;
    let processed = 0;
    for (;;) {
      const pending = (await listSuspects(deps, p.runId)).filter(isPendingSuspect);
      if (pending.length === 0) return { done: true, processed, pending: 0 };
      if (processed > 0 && deps.now() >= deadline) return { done: false, processed, pending: pending.length };
      const batch = pending.slice(0, deps.settings.recheckBatch);

      // 2, 2b. Consistent legacy reads (t1), consistent new reads at once: agreeing suspects resolve.
      const { t1, waiting, resolved } = await readBoth(batch);
      processed += resolved;
      if (waiting.length === 0) continue;

      // 3, 3b. Wait for the frontier to pass the legacy read each suspect waits on (this one, or an
      //    earlier read of the same content): no longer than the budget, nor than the lag bound of the
      //    suspect that has waited longest.
      const frontier = await waitForFrontier(
        waiting.map((w) => w.target.readAt),
        frontierWaitUntil(
          waiting.map((w) => w.suspect),
          started,
          deadline,
          bound,
        ),
      );
      const covered = (w: Waiting) =>
        frontier !== undefined && frontierCovers(frontier, skew, w.target.readAt);

      // 4-6. Consistent new reads of the covered suspects; classify; settle or go another round.
      const ready = waiting.filter(covered);
      const fresh = await readKeys(
        'fresh',
        ready.map((w) => itemFromDynamoJson(w.suspect.newKey)),
      );
      const now = deps.now();
      await Promise.all(
        ready.map((w, i) =>
          saveSuspect(
            deps,
            recheckRound(
              m,
              names,
              w.suspect,
              { legacy: w.legacy, fresh: fresh[i] },
              deps.settings.maxRecheckRounds,
              now,
            ),
          ),
        ),
      );
      processed += ready.length;
      if (ready.length === waiting.length) continue;

      // The others: past the lag bound they are unconfirmed, the rest wait on in the next invocation.
      // The bound usually runs out right after the next invocation's own reads (2, 2b) disagreed: a wait
      // stops short of the bound at the end of an invocation. Unconfirmed is never clean anyway.
      const timeout = lagTimeout(
        waiting.filter((w) => !covered(w)),
        started,
        deps.now(),
        { frontier, readAt: t1, clockSkewMs: skew, maxLagWaitMs: bound },
      );
      await Promise.all(timeout.updates.map((s) => saveSuspect(deps, s)));
      const unbatched = pending.length - batch.length;
      return { done: timeout.left === 0 && unbatched === 0, processed, pending: timeout.left + unbatched };
    }
  };
}
