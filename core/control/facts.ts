/**
 * `MigrationFacts`: one snapshot of everything the guardrails decide on (docs/design.md §5). The
 * control plane reads it from the control table (and, on AWS, the dead-letter queue and the event
 * source mapping); the guardrails are a pure function of it, so the same facts give the same answer
 * locally and on AWS. Also the per-minute shadow counter items the read path writes
 * (`SHADOW#<yyyy-mm-ddThh:mm>`) and how a window of them adds up.
 */
import type { FrontierState, MigrationState } from './state';

/** One verification run as the guardrails see it (from its `VERIFY#<runId>` report). */
export interface VerificationFact {
  readonly runId: string;
  readonly status: string;
  readonly startedAt: number;
  readonly completedAt?: number;
  /** True only for a COMPLETE run that found no drift and no mapping defect. */
  readonly clean: boolean;
}

/** Shadow comparisons over the guardrail's window, by class (core/read/shadow.ts). */
export interface ShadowWindow {
  /** Start of the window (epoch ms). */
  readonly since: number;
  /** Comparisons by class: `match`, `missing`, `extra`, `content`, `within-lag`, `unmappable`. */
  readonly byClass: Readonly<Record<string, number>>;
}

/** Everything the guardrails read, at one instant. */
export interface MigrationFacts {
  /** The instant the facts describe (epoch ms). */
  readonly now: number;
  readonly state: MigrationState;
  readonly frontier?: FrontierState;
  /** True when the backfill is COMPLETE with no unresolved key (core/backfill/poison.ts). */
  readonly backfillComplete: boolean;
  /** Verification runs, newest first by start time. */
  readonly verifications: readonly VerificationFact[];
  readonly shadow: ShadowWindow;
  /** Records waiting in the CDC dead-letter queue; undefined when it could not be read. */
  readonly deadLetters?: number;
  /** Unresolved backfill poison keys. */
  readonly poison: number;
  /**
   * Is CDC consuming the legacy stream from TRIM_HORIZON and keeping up (core/cdc/consuming.ts), with
   * why; undefined when not checked.
   */
  readonly cdc?: { readonly consuming: boolean; readonly reason: string };
  /** CDC (the sync's event source mapping, or the local poller) is enabled; undefined if unknown. */
  readonly cdcEnabled?: boolean;
  /** The staleness budget in force (definition, or the operator's override). */
  readonly stalenessBudgetMs: number;
  readonly clockSkewMs: number;
}

/** Classes of a shadow comparison that count as a mismatch (lag-explained `within-lag` excluded). */
export const MISMATCH_CLASSES: readonly string[] = ['missing', 'extra', 'content', 'unmappable'];

/** Totals of a shadow window: comparisons that count (lag excluded), mismatches, and lag-explained ones. */
export function shadowTotals(window: ShadowWindow): {
  compared: number;
  mismatches: number;
  withinLag: number;
} {
  let compared = 0;
  let mismatches = 0;
  let withinLag = 0;
  for (const [cls, n] of Object.entries(window.byClass)) {
    if (cls === 'within-lag') withinLag += n;
    else compared += n;
    if (MISMATCH_CLASSES.includes(cls)) mismatches += n;
  }
  return { compared, mismatches, withinLag };
}

/** Sort-key prefix of the per-minute shadow counter items. */
export const SHADOW_COUNTER_PREFIX = 'SHADOW#';

/** Sort key of the shadow counter item of the minute holding `at` (`SHADOW#2026-12-04T17:19`). */
export function shadowCounterKey(at: number): string {
  return `${SHADOW_COUNTER_PREFIX}${new Date(at - (at % 60_000)).toISOString().slice(0, 16)}`;
}

/** How long shadow counter items live (their TTL): longer than any guardrail window. */
export const SHADOW_COUNTER_TTL_MS = 7 * 86_400_000;

/** Attributes of a counter item that are not class counts. */
const NOT_A_CLASS = new Set(['sk', 'pk', 'expiresAt', 'version']);

/** Adds per-minute counter items (one numeric attribute per class) into one window. */
export function sumShadowCounters(
  since: number,
  minutes: ReadonlyArray<Readonly<Record<string, unknown>>>,
): ShadowWindow {
  const byClass: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const minute of minutes)
    for (const [cls, n] of Object.entries(minute))
      if (typeof n === 'number' && !NOT_A_CLASS.has(cls)) byClass[cls] = (byClass[cls] ?? 0) + n;
  return { since, byClass };
}

/** The frontier lag at `now`: how far F (minus the skew margin) is behind; Infinity with no F yet. */
export function frontierLag(facts: Pick<MigrationFacts, 'now' | 'frontier' | 'clockSkewMs'>): number {
  const f = facts.frontier?.frontier ?? 0;
  return f > 0 ? Math.max(0, facts.now - (f - facts.clockSkewMs)) : Number.POSITIVE_INFINITY;
}

/** Late records and other assumption violations the frontier tracker counted (core/frontier/violations.ts). */
export function frontierViolations(frontier: FrontierState | undefined): number {
  return Object.values(frontier?.violations ?? {}).reduce((a, b) => a + b, 0);
}
