/**
 * The forward guardrails of docs/design.md §5, as a pure function of one `MigrationFacts` snapshot
 * and the migration's `GuardrailSettings`. Each guardrail is met or unmet with a one-line reason a
 * person can act on (what is wrong and the command that fixes it). Only `cdc-disabled` (entering
 * FINALIZED) cannot be forced: with CDC still applying legacy records, a late record could overwrite
 * what applications write to new.
 */
import type { GuardrailSettings } from '../model';
import { type MigrationFacts, type VerificationFact, frontierLag, shadowTotals, surfaceFacts } from './facts';
import { Phase } from './state';
import { indexCoverage, surfacesOfMissingIndexes } from './surface-coverage';

/** One guardrail of a forward move. */
export interface Guardrail {
  /** Stable identifier (`cdc-consuming`, `backfill-complete`, `verification-clean`, ...). */
  readonly id: string;
  readonly met: boolean;
  /** One line: why it is met, or what is wrong and what to run. */
  readonly reason: string;
  /** `--force --reason` may override it. */
  readonly forcible: boolean;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const minutes = (ms: number): string => `${Math.round(ms / 60_000)} min`;
const seconds = (ms: number): string =>
  Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'unbounded (no frontier published yet)';

function g(id: string, met: boolean, reason: string, forcible = true): Guardrail {
  return { id, met, reason, forcible };
}

/** Finished runs (COMPLETE or FAILED), newest first. */
function finished(facts: MigrationFacts): VerificationFact[] {
  return facts.verifications.filter((v) => v.status !== 'RUNNING').sort((a, b) => b.startedAt - a.startedAt);
}

/** Clean verifications in a row, newest first, counting only runs started after the backfill completed. */
export function consecutiveCleanVerifications(facts: MigrationFacts): number {
  const after = facts.state.backfill.completedAt ?? Number.POSITIVE_INFINITY;
  let n = 0;
  for (const v of finished(facts)) {
    if (!v.clean || v.startedAt < after) break;
    n += 1;
  }
  return n;
}

function verificationsGuardrail(facts: MigrationFacts, needed: number): Guardrail {
  const id = needed <= 1 ? 'verification-clean' : 'clean-verifications';
  if (needed <= 0) return g(id, true, 'no clean verification required by this migration');
  const runs = finished(facts);
  const last = runs[0];
  const have = consecutiveCleanVerifications(facts);
  if (have >= needed)
    return g(
      id,
      true,
      `${have} consecutive clean verification(s), last ${last?.runId} started ${iso(last?.startedAt ?? 0)}`,
    );
  if (!last) return g(id, false, 'no verification has run: run `dualread verify`');
  const completedAt = facts.state.backfill.completedAt;
  if (last.clean && completedAt !== undefined && last.startedAt < completedAt)
    return g(id, false, 'last clean verification started before backfill completed: run `dualread verify`');
  if (!last.clean)
    return g(
      id,
      false,
      last.status === 'FAILED'
        ? `last verification ${last.runId} failed: see \`dualread status\`, fix its cause and run \`dualread verify\``
        : `last verification ${last.runId} found differences: run \`dualread verify --repair\`, then \`dualread verify\``,
    );
  return g(id, false, `${have} of ${needed} consecutive clean verifications: run \`dualread verify\` again`);
}

function approvalGuardrail(facts: MigrationFacts, to: Phase): Guardrail {
  const approval = (facts.state.approvals ?? []).find((a) => a.phase === to);
  return approval
    ? g('approval', true, `approved by ${approval.actor} at ${iso(approval.at)}: ${approval.reason}`)
    : g('approval', false, `${to} needs a named approval: \`dualread approve --phase ${to} --reason "..."\``);
}

function deadLettersGuardrail(facts: MigrationFacts): Guardrail {
  if (facts.deadLetters === undefined)
    return g(
      'dead-letters-empty',
      false,
      'the dead-letter depth could not be read: check access to the queue, then retry',
    );
  return facts.deadLetters === 0
    ? g('dead-letters-empty', true, 'no CDC record is dead-lettered')
    : g(
        'dead-letters-empty',
        false,
        `${facts.deadLetters} CDC record(s) dead-lettered: \`dualread dlq list\`, then replay or waive them`,
      );
}

function frontierGuardrail(facts: MigrationFacts, settings: GuardrailSettings): Guardrail {
  const lag = frontierLag(facts);
  const limit = settings.maxFrontierLagMs > 0 ? settings.maxFrontierLagMs : facts.stalenessBudgetMs;
  return lag <= limit
    ? g('frontier-lag', true, `frontier lag ${seconds(lag)} within ${seconds(limit)}`)
    : g(
        'frontier-lag',
        false,
        `frontier lag ${seconds(lag)} over ${seconds(limit)}: check CDC (\`dualread status\`: iterator age, dead letters) and wait for F to catch up`,
      );
}

function shadowGuardrail(facts: MigrationFacts, settings: GuardrailSettings): Guardrail {
  const { compared, mismatches, withinLag } = shadowTotals(facts.shadow);
  const window = `since ${iso(facts.shadow.since)}`;
  if (compared < settings.shadowMinComparisons)
    return g(
      'shadow-mismatch-rate',
      false,
      `${compared} shadow comparisons ${window}, ${settings.shadowMinComparisons} needed: send more reads through the API or raise the sample rate (\`dualread settings --shadow-sample-rate\`)`,
    );
  const rate = mismatches / compared;
  const pct = (r: number): string => `${(r * 100).toFixed(3)} %`;
  return rate <= settings.shadowMaxMismatchRate
    ? g(
        'shadow-mismatch-rate',
        true,
        `${pct(rate)} mismatches over ${compared} comparisons ${window} (${withinLag} lag-explained excluded)`,
      )
    : g(
        'shadow-mismatch-rate',
        false,
        `${pct(rate)} mismatches (${mismatches}/${compared}) ${window} over ${pct(settings.shadowMaxMismatchRate)}: run \`dualread verify\` to find the drift`,
      );
}

/**
 * The query-surface guardrails of leaving SHADOW (issue 16): every legacy index mapped by a surface or
 * declared unused (`legacy-indexes-covered`), and each declared surface's own shadow mismatch rate,
 * over at least `surfaceMinComparisons` of its page comparisons (`surface-shadow:<name>`). The
 * inferred `base` surface is covered by `shadow-mismatch-rate` (key comparisons of the base table).
 * None when the facts carry no coverage.
 */
export function surfaceGuardrails(facts: MigrationFacts, settings: GuardrailSettings): Guardrail[] {
  const c = facts.surfaces;
  if (!c) return [];
  const out: Guardrail[] = [];
  if (!c.legacyIndexes)
    out.push(
      g(
        'legacy-indexes-covered',
        false,
        `the legacy table's indexes could not be read (${c.legacyIndexesError ?? 'unknown error'}): check DescribeTable access to the legacy table, then retry`,
      ),
    );
  else {
    const coverage = indexCoverage(c);
    const unmapped = coverage.filter((i) => i.status === 'unmapped');
    const missing = surfacesOfMissingIndexes(c);
    const from =
      c.legacyIndexesSource === 'definition' ? ' (declared indexes; the table was not described)' : '';
    if (unmapped.length)
      out.push(
        g(
          'legacy-indexes-covered',
          false,
          unmapped
            .map(
              (i) =>
                `legacy index "${i.index}" (${i.kind === 'local' ? 'LSI' : 'GSI'}) is not mapped by any query surface: map it in \`queries\` or declare it in \`legacyTable.unusedIndexes\` with a reason`,
            )
            .join('; '),
        ),
      );
    else if (missing.length)
      out.push(
        g(
          'legacy-indexes-covered',
          false,
          missing
            .map(
              (m) =>
                `query surface "${m.surface}" reads legacy index "${m.index}", which the legacy table does not have: fix \`queries["${m.surface}"].legacyIndex\` or create the index`,
            )
            .join('; '),
        ),
      );
    else {
      const mapped = coverage.filter((i) => i.status === 'mapped').length;
      const unused = coverage.length - mapped;
      out.push(
        g(
          'legacy-indexes-covered',
          true,
          coverage.length === 0
            ? `the legacy table has no secondary index${from}`
            : `${coverage.length} legacy index(es)${from}: ${mapped} mapped by a query surface, ${unused} declared unused`,
        ),
      );
    }
  }
  const declared = c.surfaces.filter((s) => !s.inferred).map((s) => s.name);
  const pct = (r: number): string => `${(r * 100).toFixed(3)} %`;
  const window = `since ${iso(facts.shadow.since)}`;
  for (const f of surfaceFacts(facts.shadow, declared)) {
    const id = `surface-shadow:${f.surface}`;
    if (f.compared < settings.surfaceMinComparisons)
      out.push(
        g(
          id,
          false,
          `query surface "${f.surface}": ${f.compared} shadow comparisons of its pages ${window}, ${settings.surfaceMinComparisons} needed: send its queries through the API (\`POST|GET .../query?surface=${f.surface}\`) in SHADOW`,
        ),
      );
    else {
      const rate = f.mismatchRate ?? 0;
      out.push(
        rate <= settings.shadowMaxMismatchRate
          ? g(
              id,
              true,
              `query surface "${f.surface}": ${pct(rate)} mismatches over ${f.compared} page comparisons ${window} (${f.lagExplained} lag-explained excluded)`,
            )
          : g(
              id,
              false,
              `query surface "${f.surface}": ${pct(rate)} mismatches (${f.mismatches}/${f.compared}) ${window} over ${pct(settings.shadowMaxMismatchRate)}: check its partition, sort and filter transforms and the new index (\`dualread surfaces\`), then run \`dualread verify\``,
            ),
      );
    }
  }
  return out;
}

/**
 * FINALIZED makes new the only store, and a key pinned to legacy is served by legacy because new does
 * not hold it: with pins left, finalizing would answer them from new (absent, or an older state).
 * Not forcible. No other phase looks at pins.
 */
export function pinsGuardrail(state: MigrationFacts['state']): Guardrail {
  const pinned = Math.max(state.backfill.pinned ?? 0, state.pins?.keys.length ?? 0);
  return pinned === 0
    ? g('no-pinned-keys', true, 'no key is pinned to legacy', false)
    : g(
        'no-pinned-keys',
        false,
        `${pinned} key(s) pinned to legacy (\`dualread backfill poison list\`): new does not hold them and legacy ` +
          'will no longer serve them. For each: fix the mapping, then `dualread backfill poison retry` / `dualread dlq replay`; ' +
          'or remove the item from legacy, then `dualread backfill poison retry` (settles it absent-in-legacy); ' +
          'or `dualread dlq waive --key` (accept that the key will be absent from new)',
        false,
      );
}

/**
 * The guardrails of moving forward INTO `to` (from the phase before it), evaluated on `facts`.
 * LEGACY_ONLY has none (it is never entered forward).
 */
export function guardrailsFor(to: Phase, facts: MigrationFacts, settings: GuardrailSettings): Guardrail[] {
  const out: Guardrail[] = [];
  const { state, now } = facts;
  switch (to) {
    case Phase.LEGACY_ONLY:
      return out;
    case Phase.BACKFILLING:
      if (facts.cdc) out.push(g('cdc-consuming', facts.cdc.consuming, facts.cdc.reason));
      else
        out.push(
          state.cdcConsumingSince !== undefined
            ? g(
                'cdc-consuming',
                true,
                `CDC consuming the legacy stream since ${iso(state.cdcConsumingSince)}`,
              )
            : g(
                'cdc-consuming',
                false,
                'CDC is not known to consume the legacy stream from TRIM_HORIZON: enable the sync function (local: start the poller) and wait for its first batch',
              ),
        );
      break;
    case Phase.SHADOW: {
      const b = state.backfill;
      let reason = `backfill complete at ${iso(b.completedAt ?? 0)} (${b.copied ?? 0} copied)`;
      if (!facts.backfillComplete) {
        if (b.status === 'NOT_STARTED') reason = 'backfill not started: run `dualread backfill start`';
        else if (b.status === 'RUNNING')
          reason = `backfill running (${b.copied ?? 0} copied): wait, watch \`dualread backfill status\``;
        else if (b.status === 'FAILED')
          reason = 'backfill failed: see `dualread backfill status`, fix, then `dualread backfill resume`';
        else
          reason = `${facts.poison || b.unresolved || b.poison || 0} backfill key(s) unresolved: \`dualread backfill status\`, then retry or waive them`;
      }
      out.push(g('backfill-complete', facts.backfillComplete, reason));
      break;
    }
    case Phase.DUAL_READ:
      out.push(
        verificationsGuardrail(facts, 1),
        shadowGuardrail(facts, settings),
        ...surfaceGuardrails(facts, settings),
        deadLettersGuardrail(facts),
      );
      break;
    case Phase.NEW_PRIMARY: {
      const since = state.rolloutSince ?? state.phaseSince ?? now;
      const soaked = state.rolloutPercent === 100 ? now - since : 0;
      out.push(
        state.rolloutPercent === 100
          ? g('rollout-100', true, 'rollout at 100 %')
          : g(
              'rollout-100',
              false,
              `rollout at ${state.rolloutPercent} %: \`dualread rollout --percent 100\``,
            ),
        soaked >= settings.soakMs
          ? g('soak', true, `${minutes(soaked)} at 100 % rollout (≥ ${minutes(settings.soakMs)})`)
          : g(
              'soak',
              false,
              `${minutes(soaked)} at 100 % rollout, ${minutes(settings.soakMs)} needed: wait until ${iso((state.rolloutPercent === 100 ? since : now) + settings.soakMs)}`,
            ),
        frontierGuardrail(facts, settings),
        verificationsGuardrail(facts, settings.cleanVerifications),
        deadLettersGuardrail(facts),
      );
      break;
    }
    case Phase.FINALIZED: {
      const soaked = now - (state.phaseSince ?? now);
      out.push(
        soaked >= settings.soakMs
          ? g('soak', true, `${minutes(soaked)} in NEW_PRIMARY (≥ ${minutes(settings.soakMs)})`)
          : g(
              'soak',
              false,
              `${minutes(soaked)} in NEW_PRIMARY, ${minutes(settings.soakMs)} needed: wait until ${iso((state.phaseSince ?? now) + settings.soakMs)}`,
            ),
        verificationsGuardrail(facts, settings.cleanVerifications),
        deadLettersGuardrail(facts),
        pinsGuardrail(state),
        facts.cdcEnabled === false
          ? g('cdc-disabled', true, 'CDC is disabled (legacy writes fenced by the cutover)', false)
          : g(
              'cdc-disabled',
              false,
              `CDC is ${facts.cdcEnabled === undefined ? 'in an unknown state' : 'still enabled'}: a late legacy record could overwrite what applications write to new; run \`dualread cutover\``,
              false,
            ),
      );
      break;
    }
  }
  if (settings.approvalFor.includes(to)) out.push(approvalGuardrail(facts, to));
  const gap = facts.frontier?.gap;
  if (gap && gap.closedAt === undefined)
    // Not forcible: writes of the lost records may be missing, stale or resurrected in new.
    out.push(
      g(
        'stream-gap',
        false,
        `stream records trimmed before CDC read them (gap open since ${iso(gap.openedAt)} on ${gap.shards.join(', ')}): new may miss or hold stale writes; run \`dualread recover stream-gap\` (docs/runbook.md "Stream gap")`,
        false,
      ),
    );
  return out;
}
