/**
 * The `repair` function of verification (the only one that can write user data): the conditional repair
 * of confirmed drift, one AUDIT item per repair in the same transaction (core/verify/repair.ts has the
 * argument against racing CDC). New is read first, then legacy; the plan decides what to write.
 */
import { randomUUID } from 'node:crypto';
import {
  RepairOutcome,
  VerifyInputError,
  awaitsRepair,
  planRepair,
  repairAudit,
  unwrittenRepair,
} from '../../core/verify';
import { itemFromDynamoJson } from '../../core/model';
import { type RunPayload, type StepResult, type VerifyDeps, stepMigration } from './contract';
import { listSuspects, saveSuspect } from './store';

/** Builds the repair handler (core/verify/repair.ts has the argument against racing CDC). */
export function makeVerifyRepairHandler(deps: VerifyDeps): (p: RunPayload) => Promise<StepResult> {
  const { m, names } = stepMigration(deps);

  return async (p) => {
    if (!p || typeof p.runId !== 'string') throw new VerifyInputError('repair needs { runId }');
    const started = deps.now();
    const actor = p.actor ?? `verify:${p.runId}`;
    const todo = (await listSuspects(deps, p.runId)).filter(awaitsRepair);
    let processed = 0;
    for (const s of todo) {
      if (processed > 0 && deps.now() - started >= deps.settings.budgetMs)
        return { done: false, processed, pending: todo.length - processed };
      const legacyKey = itemFromDynamoJson(s.legacyKey);
      let newKey = itemFromDynamoJson(s.newKey);
      if (Object.keys(newKey).length === 0) newKey = m.mapKey(legacyKey);
      // New first, then legacy (core/verify/repair.ts, "Reading new before legacy matters").
      const current = await deps.fresh.get(newKey, true);
      await deps.betweenRepairReads?.(newKey, legacyKey);
      const legacy = Object.keys(legacyKey).length ? await deps.legacy.get(legacyKey, true) : undefined;
      const now = deps.now();
      const plan = planRepair(m, names, { newKey, legacyKey, legacy, current }, now);
      if (plan.kind === 'none') {
        await saveSuspect(deps, unwrittenRepair(s, plan));
        processed++;
        continue;
      }
      await deps.beforeRepairWrite?.(newKey, legacyKey);
      const audit = repairAudit(
        plan,
        { migrationId: m.id, runId: p.runId, actor, legacyKey: s.legacyKey, newKey },
        now,
      );
      const auditId = deps.newAuditId?.() ?? randomUUID();
      const written = await deps.repairNew({ item: plan.item, condition: plan.condition, audit, auditId });
      await saveSuspect(deps, {
        ...s,
        repair: written === 'written' ? RepairOutcome.REPAIRED : RepairOutcome.LOST_TO_CDC,
      });
      processed++;
    }
    return { done: true, processed, pending: 0 };
  };
}
