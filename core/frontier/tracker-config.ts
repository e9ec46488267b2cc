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
  /**
   * Holds a shard's reading on while a record it returned less than this long ago is not known applied
   * yet. A record known unapplied caps its shard at its creation bound, which DynamoDB Local truncates
   * to the minute: when the sync Lambda's apply takes longer than a step, a tracker that reads on every
   * step always holds such a record when it computes `F`, and `F` moves in minute steps while writes
   * flow. Holding lets a step find everything read so far applied, so `F` reaches the last probe. Only
   * liveness: reading later never makes `F` larger (a record not read cannot be evidence; a probe not
   * made proves nothing). Past the hold the shard is read every step again (a stalled or dead-lettered
   * record must not stop the reading: late records and trims are found by reading).
   * @default 0 (read every step); DynamoDB Local 60000 (`DYNAMODB_LOCAL_TRACKER_SETTINGS`)
   */
  readonly readHoldMs?: number;
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
 * The read hold is that minute: while the sync is less than a minute behind, the tracker waits for what
 * it read to be applied instead of reading records that would cap `F` at their minute.
 */
export const DYNAMODB_LOCAL_TRACKER_SETTINGS = {
  creationGranularityMs: DYNAMODB_LOCAL_CREATION_GRANULARITY_MS,
  tipEmptyPages: 1,
  tipMinSpanMs: 0,
  readHoldMs: 60_000,
} as const;

/** What a range-checked setting must be: the check, and the words for it. */
interface SettingRule {
  readonly ok: (v: number) => boolean;
  readonly what: string;
}

const MILLISECONDS: SettingRule = {
  ok: (v) => Number.isFinite(v) && v >= 0,
  what: 'a non-negative number of milliseconds',
};

const COUNT: SettingRule = { ok: (v) => Number.isInteger(v) && v >= 1, what: 'a whole number of at least 1' };

/** The settings the frontier's safety depends on, each with its rule, in the order they are checked. */
const SETTING_RULES: ReadonlyArray<readonly [keyof TrackerConfig, SettingRule]> = [
  ['propagationMarginMs', MILLISECONDS],
  ['clockSkewMs', MILLISECONDS],
  ['itemEvidenceAfterMs', MILLISECONDS],
  ['tipMinSpanMs', MILLISECONDS],
  ['childListingWaitMs', MILLISECONDS],
  ['persistIntervalMs', MILLISECONDS],
  ['readHoldMs', MILLISECONDS],
  ['creationGranularityMs', COUNT],
  ['itemEvidencePerShard', COUNT],
  ['maxPagesPerShard', COUNT],
  ['tipEmptyPages', COUNT],
  ['readConcurrency', COUNT],
];

/**
 * Checks the settings the frontier's safety depends on (an unset one is not checked).
 *
 * @throws FrontierConfigError naming the first setting out of range
 */
export function validateTrackerConfig(config: TrackerConfig): TrackerConfig {
  for (const [name, { ok, what }] of SETTING_RULES) {
    const v = config[name];
    if (v !== undefined && !ok(v)) throw new FrontierConfigError(name, `${v} is not ${what}`);
  }
  return config;
}
