/**
 * `MigrationFacts`: one snapshot of everything the guardrails decide on (docs/design.md §5). The
 * control plane reads it from the control table (and, on AWS, the dead-letter queue and the event
 * source mapping); the guardrails are a pure function of it, so the same facts give the same answer
 * locally and on AWS. Also the per-minute shadow counter items the read path writes
 * (`SHADOW#<yyyy-mm-ddThh:mm>`) and how a window of them adds up.
 */
import type { FrontierState, MigrationState } from './state';
import type { SurfaceCoverage } from './surface-coverage';

/** One verification run as the guardrails see it (from its `VERIFY#<runId>` report). */
export interface VerificationFact {
  readonly runId: string;
  readonly status: string;
  readonly startedAt: number;
  readonly completedAt?: number;
  /** True only for a COMPLETE run that found no drift and no mapping defect. */
  readonly clean: boolean;
}

/** One query surface's counts over the guardrail's window. */
export interface SurfaceCounts {
  /** Comparisons of the surface's pages by class (`index-lag` too). */
  readonly byClass: Readonly<Record<string, number>>;
  /** Pages of the surface served, by store (`legacy`, `new`). */
  readonly served: Readonly<Record<string, number>>;
}

/** Shadow comparisons over the guardrail's window, by class (core/read/shadow.ts). */
export interface ShadowWindow {
  /** Start of the window (epoch ms). */
  readonly since: number;
  /** Comparisons by class: `match`, `missing`, `extra`, `content`, `within-lag`, `unmappable`. */
  readonly byClass: Readonly<Record<string, number>>;
  /**
   * Per query surface (by name): its page comparisons (also counted in `byClass`) and the pages it
   * served. A surface nobody queried in the window is absent.
   */
  readonly bySurface?: Readonly<Record<string, SurfaceCounts>>;
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
  /**
   * The legacy table's indexes against the definition's query surfaces (core/control/surface-coverage.ts);
   * undefined in facts not read for a definition (then the surface guardrails are not evaluated).
   */
  readonly surfaces?: SurfaceCoverage;
  /** The staleness budget in force (definition, or the operator's override). */
  readonly stalenessBudgetMs: number;
  readonly clockSkewMs: number;
}

/** Classes of a shadow comparison that count as a mismatch (lag-explained `within-lag` excluded). */
export const MISMATCH_CLASSES: readonly string[] = ['missing', 'extra', 'content', 'unmappable'];

/**
 * Classes explained by lag, not counted as comparisons: `within-lag` (CDC), `index-lag` (a GSI's
 * propagation, surface pages only).
 */
const LAG_CLASSES: readonly string[] = ['within-lag', 'index-lag'];

/**
 * Totals of a shadow window (or one surface's counts): comparisons that count (lag excluded),
 * mismatches, and lag-explained ones (`withinLag` holds `index-lag` too).
 */
export function shadowTotals(window: Pick<ShadowWindow, 'byClass'>): {
  compared: number;
  mismatches: number;
  withinLag: number;
} {
  let compared = 0;
  let mismatches = 0;
  let withinLag = 0;
  for (const [cls, n] of Object.entries(window.byClass)) {
    if (LAG_CLASSES.includes(cls)) withinLag += n;
    else compared += n;
    if (MISMATCH_CLASSES.includes(cls)) mismatches += n;
  }
  return { compared, mismatches, withinLag };
}

/** One surface's facts over the window: pages served by store, comparisons, mismatches and their rate. */
export interface SurfaceFacts {
  readonly surface: string;
  readonly servedLegacy: number;
  readonly servedNew: number;
  /** Comparisons that count (lag-explained excluded). */
  readonly compared: number;
  readonly mismatches: number;
  /** Lag-explained comparisons (`within-lag`, `index-lag`). */
  readonly lagExplained: number;
  /** `mismatches / compared`; undefined with no comparison. */
  readonly mismatchRate?: number;
}

/** The facts of each named surface over the window (zeros for one absent from it), in the order given. */
export function surfaceFacts(window: ShadowWindow, surfaces: readonly string[]): SurfaceFacts[] {
  return surfaces.map((surface) => {
    const counts = window.bySurface?.[surface];
    const t = shadowTotals({ byClass: counts?.byClass ?? {} });
    return {
      surface,
      servedLegacy: counts?.served.legacy ?? 0,
      servedNew: counts?.served.new ?? 0,
      compared: t.compared,
      mismatches: t.mismatches,
      lagExplained: t.withinLag,
      ...(t.compared > 0 ? { mismatchRate: t.mismatches / t.compared } : {}),
    };
  });
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

/** Separates a surface's counter from its surface name (names never hold it). */
const SURFACE_SEPARATOR = '#';
/** Prefix of a surface's served-pages counter (`<surface>#served-<store>`). */
const SERVED = 'served-';

/** The counter attribute of `what` (a class, or `served-<store>`) for one surface: `<surface>#<what>`. */
export function surfaceCounter(surface: string, what: string): string {
  return `${surface}${SURFACE_SEPARATOR}${what}`;
}

const nullRecord = (): Record<string, number> => Object.create(null) as Record<string, number>;

/**
 * Adds per-minute counter items into one window: a numeric attribute per class, and per surface
 * `<surface>#<class>` and `<surface>#served-<store>` (counted under `bySurface` only).
 */
export function sumShadowCounters(
  since: number,
  minutes: ReadonlyArray<Readonly<Record<string, unknown>>>,
): ShadowWindow {
  const byClass = nullRecord();
  const bySurface: Record<string, { byClass: Record<string, number>; served: Record<string, number> }> =
    Object.create(null) as Record<
      string,
      { byClass: Record<string, number>; served: Record<string, number> }
    >;
  for (const minute of minutes)
    for (const [attr, n] of Object.entries(minute)) {
      if (typeof n !== 'number' || NOT_A_CLASS.has(attr)) continue;
      const cut = attr.indexOf(SURFACE_SEPARATOR);
      if (cut < 0) {
        byClass[attr] = (byClass[attr] ?? 0) + n;
        continue;
      }
      const surface = attr.slice(0, cut);
      const what = attr.slice(cut + 1);
      const counts = (bySurface[surface] ??= { byClass: nullRecord(), served: nullRecord() });
      const into = what.startsWith(SERVED) ? counts.served : counts.byClass;
      const name = what.startsWith(SERVED) ? what.slice(SERVED.length) : what;
      into[name] = (into[name] ?? 0) + n;
    }
  return { since, byClass, ...(Object.keys(bySurface).length ? { bySurface } : {}) };
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
