/**
 * The cutover to FINALIZED as a protocol (docs/cutover.md), pure: `decideCutover` reads the cutover's
 * progress (the `CUTOVER` control item) and one snapshot of facts, and says what to do next. The
 * adapter (adapters/cutover.ts) carries each action out, records the progress and asks again, so an
 * interrupted `dualread cutover` resumes where it stopped.
 *
 * Steps, in order (each is entered only when the one before it holds):
 *
 * 1. PRECONDITIONS — the migration is in NEW_PRIMARY and every guardrail of entering FINALIZED holds
 *    except `cdc-disabled` (soak, clean verifications, no dead letters, approval).
 * 2. FENCED — the operator has stopped legacy writes; the fence time T is recorded.
 * 3. QUIET — the legacy stream has been read to its tip at or after T + quiet window with no record
 *    written after the fence, and `F − skew > T` (every write before the fence is applied to new).
 * 4. VERIFYING — a verification started after T ran and was clean.
 * 5. CDC_DISABLED — the sync's event source mapping (local: the poller) is disabled, confirmed.
 * 6. FINALIZED — the phase change, audited with T.
 *
 * A legacy write seen after the fence, at any step before FINALIZED, aborts (naming the keys); so does
 * a verification that is not clean. The phase stays NEW_PRIMARY and CDC is enabled again if it was
 * disabled, because the application that wrote legacy would otherwise lose that write.
 */
import type { GuardrailSettings } from '../model';
import { InvalidControlRequestError } from './errors';
import type { MigrationFacts, VerificationFact } from './facts';
import { type Guardrail, guardrailsFor } from './guardrails';
import { Phase } from './state';

/** Sort key of the cutover's progress item. */
export const CUTOVER_KEY = 'CUTOVER';

/**
 * Sort key of the local CDC switch: local mode's stand-in for the sync's event source mapping being
 * enabled or disabled. The local poller (local/stream-poller.ts) obeys it; `dualread cutover` writes it.
 */
export const CDC_SWITCH_KEY = 'CDC#SWITCH';

/** The `CDC#SWITCH` item. */
export interface CdcSwitchDoc {
  readonly enabled: boolean;
  readonly at: number;
  readonly actor: string;
  readonly reason: string;
}

/** The steps of a cutover (see the module comment). */
export const CutoverStep = {
  FENCED: 'FENCED',
  QUIET: 'QUIET',
  VERIFYING: 'VERIFYING',
  CDC_DISABLED: 'CDC_DISABLED',
  FINALIZED: 'FINALIZED',
  ABORTED: 'ABORTED',
} as const;
export type CutoverStep = (typeof CutoverStep)[keyof typeof CutoverStep];

/** The `CUTOVER` control item: where a cutover stands (absent before the first fence). */
export interface CutoverProgress {
  readonly migrationId: string;
  readonly step: CutoverStep;
  /** The fence T (epoch ms): legacy writes stopped before it. */
  readonly fenceAt: number;
  readonly quietWindowMs: number;
  readonly actor: string;
  readonly startedAt: number;
  readonly updatedAt: number;
  /** The verification the cutover started after T. */
  readonly verificationRunId?: string;
  readonly cdcDisabledAt?: number;
  readonly finalizedAt?: number;
  readonly abortedAt?: number;
  readonly abortReason?: string;
  /** Keys (DynamoDB JSON) written to legacy after the fence, when that aborted the cutover. */
  readonly keysAfterFence?: readonly string[];
  /** Where the legacy stream watch stands (shard → last sequence read), so a resume reads on. */
  readonly watchPositions?: Readonly<Record<string, string>>;
  readonly version?: number;
}

/** A legacy stream record written after the fence. */
export interface WriteAfterFence {
  /** The item's key, as DynamoDB JSON. */
  readonly key: string;
  /** Its `ApproximateCreationDateTime` (epoch ms), as the stream gives it. */
  readonly at: number;
  readonly eventName: string;
}

/** What the legacy stream showed since the fence. */
export interface FenceWatch {
  /** Records written after the fence, oldest first (empty when legacy stayed quiet). */
  readonly writes: readonly WriteAfterFence[];
  /** The latest instant at which every open shard was read to its tip (epoch ms); 0 before the first. */
  readonly readToTipAt: number;
}

/** Everything a cutover decision reads, at one instant. */
export interface CutoverFacts {
  readonly migration: MigrationFacts;
  readonly watch: FenceWatch;
  /** The verification the cutover started, when it started one. */
  readonly verification?: VerificationFact;
}

/** What to do next. */
export type CutoverAction =
  | { readonly kind: 'refuse'; readonly reason: string; readonly guardrails: readonly Guardrail[] }
  | { readonly kind: 'fence'; readonly guardrails: readonly Guardrail[] }
  | { readonly kind: 'wait'; readonly step: CutoverStep; readonly reason: string }
  | { readonly kind: 'mark-quiet'; readonly reason: string }
  | { readonly kind: 'start-verification' }
  | { readonly kind: 'disable-cdc'; readonly reason: string }
  | { readonly kind: 'finalize'; readonly reason: string }
  | { readonly kind: 'done'; readonly reason: string }
  | {
      readonly kind: 'abort';
      readonly reason: string;
      readonly keys: readonly string[];
      /** CDC was disabled by this cutover: enable it again. */
      readonly reenableCdc: boolean;
    };

const iso = (ms: number): string => new Date(ms).toISOString();

/** The guardrails a cutover needs before the fence: FINALIZED's, except `cdc-disabled` (its job). */
export function cutoverPreconditions(facts: MigrationFacts, settings: GuardrailSettings): Guardrail[] {
  return guardrailsFor(Phase.FINALIZED, facts, settings).filter((g) => g.id !== 'cdc-disabled');
}

/** Parses a duration such as `30s`, `10m`, `1h`, `500ms` or a bare number of seconds, into ms. */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m)
    throw new InvalidControlRequestError(
      `${what} "${text}" is not a duration: write it as 500ms, 30s, 10m or 1h`,
    );
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

function abortForWrites(watch: FenceWatch, fenceAt: number, reenableCdc: boolean): CutoverAction {
  const keys = [...new Set(watch.writes.map((w) => w.key))];
  return {
    kind: 'abort',
    keys,
    reenableCdc,
    reason:
      `${watch.writes.length} legacy write(s) after the fence ${iso(fenceAt)} on ${keys.length} key(s) ` +
      `(${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', ...' : ''}): an application still writes legacy; ` +
      'stop it, then run `dualread cutover --fence-now` again',
  };
}

/**
 * The next action of a cutover. `progress` is the `CUTOVER` item (undefined or ABORTED before a new
 * fence); `fenceNow` says the operator confirms legacy writes are stopped (`--fence-now`).
 */
export function decideCutover(
  progress: CutoverProgress | undefined,
  facts: CutoverFacts,
  settings: GuardrailSettings,
  options: { readonly fenceNow?: boolean } = {},
): CutoverAction {
  const m = facts.migration;
  const phase = m.state.phase;
  if (phase === Phase.FINALIZED)
    return { kind: 'done', reason: `migration "${m.state.migrationId}" is FINALIZED` };
  const active = progress && progress.step !== CutoverStep.ABORTED ? progress : undefined;

  if (!active) {
    const guardrails = cutoverPreconditions(m, settings);
    if (phase !== Phase.NEW_PRIMARY)
      return {
        kind: 'refuse',
        guardrails,
        reason: `the migration is in ${phase}: a cutover starts from NEW_PRIMARY (\`dualread advance\` until then)`,
      };
    const unmet = guardrails.filter((g) => !g.met);
    if (unmet.length)
      return {
        kind: 'refuse',
        guardrails,
        reason: `preconditions unmet: ${unmet.map((g) => `${g.id}: ${g.reason}`).join('; ')}`,
      };
    if (!options.fenceNow)
      return {
        kind: 'refuse',
        guardrails,
        reason:
          'preconditions met; stop every legacy write, then run `dualread cutover --fence-now` to record the fence',
      };
    return { kind: 'fence', guardrails };
  }

  // A cutover in progress. The phase can have moved under it (an alarm rolled NEW_PRIMARY back).
  const cdcOff = active.step === CutoverStep.CDC_DISABLED;
  if (phase !== Phase.NEW_PRIMARY)
    return {
      kind: 'abort',
      keys: [],
      reenableCdc: cdcOff,
      reason: `the migration left NEW_PRIMARY (now ${phase}) during the cutover: run \`dualread cutover\` again from NEW_PRIMARY`,
    };
  const T = active.fenceAt;
  if (facts.watch.writes.length) return abortForWrites(facts.watch, T, cdcOff);

  switch (active.step) {
    case CutoverStep.FENCED: {
      const quietSince = T + active.quietWindowMs;
      if (facts.watch.readToTipAt < quietSince)
        return {
          kind: 'wait',
          step: active.step,
          reason: `waiting for the legacy stream to stay quiet until ${iso(quietSince)} (read to tip at ${facts.watch.readToTipAt ? iso(facts.watch.readToTipAt) : 'never yet'})`,
        };
      const f = m.frontier?.frontier ?? 0;
      if (!(f - m.clockSkewMs > T))
        return {
          kind: 'wait',
          step: active.step,
          reason: `waiting for F − skew to pass the fence: F − skew = ${f ? iso(f - m.clockSkewMs) : 'none'}, T = ${iso(T)}`,
        };
      return {
        kind: 'mark-quiet',
        reason: `legacy quiet since the fence (read to tip at ${iso(facts.watch.readToTipAt)}) and F − skew = ${iso(f - m.clockSkewMs)} > T`,
      };
    }
    case CutoverStep.QUIET:
      return { kind: 'start-verification' };
    case CutoverStep.VERIFYING: {
      const v = facts.verification;
      if (!v || v.status === 'RUNNING' || v.status === 'UNKNOWN')
        return {
          kind: 'wait',
          step: active.step,
          reason: `waiting for verification ${active.verificationRunId ?? '?'} to finish`,
        };
      if (v.startedAt <= T)
        return {
          kind: 'abort',
          keys: [],
          reenableCdc: false,
          reason: `verification ${v.runId} started at ${iso(v.startedAt)}, not after the fence ${iso(T)}: run \`dualread cutover\` again`,
        };
      if (!v.clean)
        return {
          kind: 'abort',
          keys: [],
          reenableCdc: false,
          reason: `verification ${v.runId} after the fence is ${v.status === 'COMPLETE' ? 'not clean (differences found)' : v.status}: see its report, repair, then run \`dualread cutover\` again`,
        };
      return { kind: 'disable-cdc', reason: `verification ${v.runId} after the fence is clean` };
    }
    case CutoverStep.CDC_DISABLED:
      if (m.cdcEnabled !== false)
        return {
          kind: 'wait',
          step: active.step,
          reason: `waiting for CDC to report disabled (now ${m.cdcEnabled === undefined ? 'unknown' : 'enabled'})`,
        };
      return {
        kind: 'finalize',
        reason: `cutover: legacy writes fenced at ${iso(T)} (T=${T}), quiet for ${active.quietWindowMs} ms, F − skew past T, verification ${active.verificationRunId ?? '?'} clean, CDC disabled`,
      };
    default:
      return { kind: 'done', reason: `cutover already ${active.step}` };
  }
}
