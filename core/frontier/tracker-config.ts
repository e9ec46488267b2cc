/**
 * The frontier tracker's settings: what they mean, their defaults for AWS and for DynamoDB Local, and
 * the range check the frontier's safety depends on.
 */
import { DYNAMODB_LOCAL_CREATION_GRANULARITY_MS, type FrontierConfig } from './math';
import { DEFAULT_CHILD_LISTING_WAIT_MS } from './ledger';
import { FrontierConfigError } from './errors';
import { DEFAULT_TIP_SETTINGS, type TipSettings } from './tip';

/** Settings of the tracker. */
export interface TrackerConfig extends FrontierConfig, Partial<TipSettings> {
  readonly clockSkewMs: number;
  /** Look a record up in the new table once it has waited this long for a marker. @default 5000 */
  readonly itemEvidenceAfterMs: number;
  /** Records per shard per step looked up in the new table. @default 100 */
  readonly itemEvidencePerShard: number;
  /** GetRecords pages per shard per step (bounds one step on a long backlog). @default 20 */
  readonly maxPagesPerShard: number;
  /** See `FrontierLedger`: at least the sync Lambda's batch size. @default 1000 */
  readonly markerLookbackRecords?: number;
  /** Shards read at the same time. @default 8 */
  readonly readConcurrency?: number;
  /**
   * How long a closed shard none of whose children DescribeStream lists yet keeps constraining `F`
   * (DescribeStream may list a closed parent before its children). @default 300000 ms
   */
  readonly childListingWaitMs?: number;
  /**
   * Save the `SHARD#` items at most this often (they change every step while records flow). Safe to
   * space out: every fact a saved item holds (applied prefix, probe bound, the cap of a record read
   * unapplied) stays true once true, so a restart from an older item only knows less and re-reads
   * more. @default 0 (every step); the deployed tracker saves every 5 s
   */
  readonly persistIntervalMs?: number;
}

/**
 * Time between two steps of the deployed tracker loop (`LOOP_INTERVAL_MS`, construct prop
 * `loopInterval`). `F` trails a write by about the propagation margin plus one or two steps (a probe
 * after the write's margin, then a step that finds its records applied), so this is the knob of
 * frontier lag. 250 ms keeps the p99 near 1.5 s with the 1 s margin, for four DescribeStream calls a
 * second (the API allows 10 per second) and one GetRecords per shard per step (docs/correctness.md
 * "Frontier lag").
 */
export const DEFAULT_FRONTIER_LOOP_INTERVAL_MS = 250;

/** Defaults of `TrackerConfig` other than the frontier math's. */
export const DEFAULT_TRACKER_SETTINGS = {
  clockSkewMs: 1000,
  itemEvidenceAfterMs: 5000,
  itemEvidencePerShard: 100,
  maxPagesPerShard: 20,
  tipEmptyPages: DEFAULT_TIP_SETTINGS.tipEmptyPages,
  tipMinSpanMs: DEFAULT_TIP_SETTINGS.tipMinSpanMs,
  childListingWaitMs: DEFAULT_CHILD_LISTING_WAIT_MS,
  persistIntervalMs: 5000,
} as const;

/**
 * Settings for DynamoDB Local: it truncates `ApproximateCreationDateTime` to the minute, and serves
 * every visible record from the iterator's position on the first call (an empty page is its tip;
 * checked by test/integration/frontier/frontier.test.ts), so one empty page may count as the tip there.
 */
export const DYNAMODB_LOCAL_TRACKER_SETTINGS = {
  creationGranularityMs: DYNAMODB_LOCAL_CREATION_GRANULARITY_MS,
  tipEmptyPages: 1,
  tipMinSpanMs: 0,
} as const;

/**
 * Checks the settings the frontier's safety depends on.
 *
 * @throws FrontierConfigError naming the first setting out of range
 */
export function validateTrackerConfig(config: TrackerConfig): TrackerConfig {
  /** Throws for the first of `settings` that is set and not `ok`, saying it is not `what`. */
  const check = (
    settings: Array<[string, number | undefined]>,
    ok: (v: number) => boolean,
    what: string,
  ): void => {
    for (const [name, v] of settings) {
      if (v !== undefined && !ok(v)) throw new FrontierConfigError(name, `${v} is not ${what}`);
    }
  };
  check(
    [
      ['propagationMarginMs', config.propagationMarginMs],
      ['clockSkewMs', config.clockSkewMs],
      ['itemEvidenceAfterMs', config.itemEvidenceAfterMs],
      ['tipMinSpanMs', config.tipMinSpanMs],
      ['childListingWaitMs', config.childListingWaitMs],
      ['persistIntervalMs', config.persistIntervalMs],
    ],
    (v) => Number.isFinite(v) && v >= 0,
    'a non-negative number of milliseconds',
  );
  check(
    [
      ['creationGranularityMs', config.creationGranularityMs],
      ['itemEvidencePerShard', config.itemEvidencePerShard],
      ['maxPagesPerShard', config.maxPagesPerShard],
      ['tipEmptyPages', config.tipEmptyPages],
      ['readConcurrency', config.readConcurrency],
    ],
    (v) => Number.isInteger(v) && v >= 1,
    'a whole number of at least 1',
  );
  return config;
}
