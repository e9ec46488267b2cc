/**
 * Freshness of the read path (docs/correctness.md "Read safety"): the sane range of an X-Read-After
 * value, and the staleness bound of a state served from new, `now − (F − skew) + controlCacheAge`,
 * with the bound a read can prove outside bounded mode. The routing decision (`routing.ts`) checks
 * these against the budget.
 */

/** What reading the key in new found (`unknown` before reading it). */
export type NewRead = 'unknown' | 'present' | 'tombstone' | 'absent' | 'failed';

/** The terms of the staleness bound (fields of the routing input, `RouteInput`). */
export interface BoundTerms {
  /** Decision time, epoch ms. */
  readonly now: number;
  /** Frontier F, epoch ms (0 = none published). */
  readonly frontier: number;
  readonly clockSkewMs: number;
  /** Age of the cached control state (STATE and FRONTIER). */
  readonly controlCacheAgeMs: number;
  /**
   * Reads served from a GSI: how long a write may take to reach the index after the table write
   * (`read.indexPropagationMarginMs`). @default 0
   */
  readonly indexMarginMs?: number;
}

/** The earliest X-Read-After accepted: 2000-01-01T00:00:00Z in epoch ms. */
export const READ_AFTER_MIN_MS = 946_684_800_000;

/**
 * How far past this reader's clock plus the clock-skew margin an X-Read-After may lie. A client's
 * write started before it sent the request, so its start time is at most `now + skew` in this
 * reader's clock; the slack only absorbs rounding of ISO dates and the time the request took.
 */
export const READ_AFTER_FUTURE_SLACK_MS = 1_000;

/**
 * What is wrong with an X-Read-After value (epoch ms), or undefined if it is in the sane range
 * `[2000-01-01, now + clockSkew + slack]`. A value before 2000 is almost surely epoch seconds (any
 * time since 2001-09-09 is below 10^12 ms only in seconds); a value beyond the clock cannot be the
 * start of a write the client already made, and would hold the read on legacy forever.
 */
export function readAfterProblem(readAfter: number, now: number, clockSkewMs: number): string | undefined {
  if (!Number.isFinite(readAfter)) return 'is not a time';
  if (readAfter < READ_AFTER_MIN_MS) {
    const asSeconds = readAfter * 1000;
    const hint =
      asSeconds >= READ_AFTER_MIN_MS && asSeconds <= now + clockSkewMs + READ_AFTER_FUTURE_SLACK_MS
        ? ` (as epoch seconds it would be ${new Date(asSeconds).toISOString()})`
        : '';
    return (
      `is before 2000-01-01${hint}; it looks like epoch seconds: send epoch milliseconds ` +
      'or an ISO-8601 date-time with zone'
    );
  }
  const ahead = readAfter - now;
  if (ahead > clockSkewMs + READ_AFTER_FUTURE_SLACK_MS) {
    return (
      `is ${ahead} ms after this server's clock (at most ${clockSkewMs + READ_AFTER_FUTURE_SLACK_MS} ms, the ` +
      'clock-skew margin plus 1 s, is accepted); send the time your write started, in epoch milliseconds'
    );
  }
  return undefined;
}

/** Age bound of a state served from new now: now − (F − skew) + cache age (+ index margin for a GSI). */
export function stalenessBound(input: BoundTerms): number {
  return (
    input.now - (input.frontier - input.clockSkewMs) + input.controlCacheAgeMs + (input.indexMarginMs ?? 0)
  );
}

/**
 * The staleness bound a read served from new can prove outside bounded mode (mode `new`, FINALIZED),
 * where no budget is checked: the frontier bound, when a frontier exists and the key's state in new
 * is proven (backfill complete, or its item or tombstone was found — the conditions of invariant 5);
 * otherwise null ("unbounded"), never a number the read cannot back.
 */
export function provenBound(
  input: BoundTerms & { readonly backfillComplete: boolean; readonly newRead: NewRead },
): number | null {
  if (input.frontier <= 0 || input.newRead === 'failed') return null;
  const keyProven = input.backfillComplete || input.newRead === 'present' || input.newRead === 'tombstone';
  return keyProven ? stalenessBound(input) : null;
}
