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
}

/** Defaults of `TrackerConfig` other than the frontier math's. */
export const DEFAULT_TRACKER_SETTINGS = {
  clockSkewMs: 1000,
  itemEvidenceAfterMs: 5000,
  itemEvidencePerShard: 100,
  maxPagesPerShard: 20,
  tipEmptyPages: DEFAULT_TIP_SETTINGS.tipEmptyPages,
  tipMinSpanMs: DEFAULT_TIP_SETTINGS.tipMinSpanMs,
  childListingWaitMs: DEFAULT_CHILD_LISTING_WAIT_MS,
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
