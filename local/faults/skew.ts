/**
 * The `clock-skew` fault: the read API's clock (the `now` injected into the read handler, never the
 * process clock) shifted by a signed amount. The read path subtracts the migration's clock-skew margin
 * (`read.clockSkewMs`) from the frontier before it bounds a read's staleness, so a skew within the
 * margin keeps every bounded read within its budget (judged by the checker against true time). Beyond
 * the margin the bounded guarantee does not hold and the run must say so: `skewVerdict` decides, and
 * the fault table carries a `voided` entry naming the bounded reads the checker failed. Pure.
 */

/** An invariant verdict, as the rehearsal's checker gives it (local/rehearsal/checker.ts). */
export interface SkewCheck {
  readonly name: string;
  readonly checked: number;
  readonly failures: number;
  readonly examples: readonly string[];
}

/** The default skew when `clock-skew` is picked without `--clock-skew`: half the margin (within it). */
export function defaultSkewMs(marginMs: number): number {
  return Math.floor(marginMs / 2);
}

/** Whether a skew keeps the bounded guarantee, and the `voided` line when it does not. */
export interface SkewVerdict {
  readonly skewMs: number;
  readonly marginMs: number;
  readonly withinMargin: boolean;
  /** Present beyond the margin: what the run cannot promise, said plainly. */
  readonly voided?: string;
}

/**
 * Decides whether a read-API clock skew of `skewMs` (signed) is within the clock-skew margin `marginMs`.
 * A skew of exactly the margin is within it (the read path subtracts the whole margin).
 */
export function skewVerdict(skewMs: number, marginMs: number): SkewVerdict {
  const withinMargin = Math.abs(skewMs) <= marginMs;
  return {
    skewMs,
    marginMs,
    withinMargin,
    ...(withinMargin
      ? {}
      : {
          voided:
            `clock-skew: the read API's clock is ${skewMs > 0 ? '+' : ''}${skewMs} ms off, beyond the migration's ` +
            `clock-skew margin of ${marginMs} ms (read.clockSkewMs): the bounded-staleness guarantee is void ` +
            'for this run; raise read.clockSkewMs above the skew your hosts can have (NTP), or fix the clock',
        }),
  };
}

/** The name of the bounded-read check (local/rehearsal/checker.ts). */
const BOUNDED_CHECK = 'bounded-within-budget';

/**
 * The voided line with the bounded reads the checker failed (the reads the guarantee would have had to
 * cover), or undefined within the margin. Beyond the margin with no failed read, it says so too: the
 * run was lucky, not safe.
 */
export function skewVoided(verdict: SkewVerdict, checks: readonly SkewCheck[]): string | undefined {
  if (verdict.voided === undefined) return undefined;
  const bounded = checks.find((c) => c.name === BOUNDED_CHECK);
  const failed = bounded?.failures ?? 0;
  return (
    `${verdict.voided}. Bounded reads the checker failed: ${failed} of ${bounded?.checked ?? 0}` +
    (failed
      ? ` (first: ${(bounded?.examples ?? []).map((e) => e.split('\n')[0]).join(' | ')})`
      : ' (none this time; with this skew nothing guarantees it)')
  );
}
