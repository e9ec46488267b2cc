/**
 * The backfill's rate: a safe default from the tables' capacity, and adaptive backoff on throttling
 * (additive increase, multiplicative decrease — the way gh-ost and Ghostferry throttle on load).
 *
 * Two limits apply to every page, the lower one wins:
 * - the operator's cap `STATE.controls.rateLimitPerSecond` (0 = no cap; shared with verification), and
 * - the run's adaptive rate `STATE.backfill.rate.inForce`, which starts at its `ceiling` (from the legacy
 *   table's read capacity and, when provisioned, the new table's write capacity: `defaultBackfillRate`),
 *   is halved when a page meets throttling of the legacy Scan or the new-table writes, and climbs back by a
 *   tenth of the ceiling for every `increaseEveryMs` without throttling.
 *
 * Pure: the page worker (lambdas/backfill/page.ts) observes throttling and stores the rate in STATE.
 */
import type { BackfillRate } from '../control';

export type { BackfillRate };

/** What DescribeTable tells about a table's capacity (adapters/backfill-io: `tableCapacity`). */
export interface TableCapacity {
  readonly billingMode: 'PROVISIONED' | 'PAY_PER_REQUEST';
  readonly readCapacityUnits?: number;
  readonly writeCapacityUnits?: number;
  /** DynamoDB updates these about every six hours; 0 for a new table. */
  readonly itemCount?: number;
  readonly sizeBytes?: number;
}

/** How the default rate is derived (migration `backfill.capacityShare`, `backfill.onDemandRatePerSecond`). */
export interface RateDefaults {
  /** Share of a provisioned table's capacity the backfill may use. @default 0.5 */
  readonly capacityShare: number;
  /** Items/s on an on-demand table (no capacity figure to take a share of). @default 1000 */
  readonly onDemandRatePerSecond: number;
}

export const DEFAULT_RATE_DEFAULTS: RateDefaults = { capacityShare: 0.5, onDemandRatePerSecond: 1_000 };

/** Item size assumed when DescribeTable has no figures yet (a new or recently loaded table). */
export const ASSUMED_ITEM_BYTES = 1_024;
/** Bytes dualread's metadata adds to an item in new (`_dr_seq` and friends), for the write estimate. */
const METADATA_BYTES = 100;

/** Tuning of the adaptive backoff (the page worker's settings). */
export interface RateTuning {
  /** Factor applied on throttling. @default 0.5 */
  readonly decreaseFactor: number;
  /** A further lowering waits this long after the last (segments meet one burst together). @default 2000 */
  readonly decreaseCooldownMs: number;
  /** One raise per this many ms without throttling. @default 10000 */
  readonly increaseEveryMs: number;
  /** A raise adds this share of the ceiling (or of the rate in force without a ceiling). @default 0.1 */
  readonly increaseShare: number;
  /** Never below this, items/s. @default 1 */
  readonly minRatePerSecond: number;
}

export const DEFAULT_RATE_TUNING: RateTuning = {
  decreaseFactor: 0.5,
  decreaseCooldownMs: 2_000,
  increaseEveryMs: 10_000,
  increaseShare: 0.1,
  minRatePerSecond: 1,
};

/**
 * The default ceiling of a run from the tables' capacity: on a provisioned legacy table a share of its
 * read capacity (an eventually consistent Scan reads 8 KB per RCU, so items/s = RCU × share × 8192 / item
 * size); on a provisioned new table a share of its write capacity (1 WCU per KB of item); on an on-demand
 * table the stated rate. The lowest of these.
 */
export function defaultBackfillRate(
  legacy: TableCapacity,
  fresh: TableCapacity | undefined,
  d: RateDefaults = DEFAULT_RATE_DEFAULTS,
): { ceiling: number; basis: string } {
  const itemBytes =
    legacy.itemCount && legacy.sizeBytes
      ? Math.max(1, legacy.sizeBytes / legacy.itemCount)
      : ASSUMED_ITEM_BYTES;
  const size = `~${Math.round(itemBytes)} B/item`;
  const terms: Array<{ rate: number; text: string }> = [];
  const onDemand = (table: string) => ({
    rate: d.onDemandRatePerSecond,
    text: `${table} on-demand: ${d.onDemandRatePerSecond} items/s`,
  });
  if (legacy.billingMode === 'PROVISIONED' && legacy.readCapacityUnits) {
    const rate = (legacy.readCapacityUnits * d.capacityShare * 8192) / itemBytes;
    terms.push({
      rate,
      text: `legacy ${legacy.readCapacityUnits} RCU × ${d.capacityShare} at ${size}: ${Math.floor(rate)} items/s`,
    });
  } else terms.push(onDemand('legacy'));
  if (fresh?.billingMode === 'PROVISIONED' && fresh.writeCapacityUnits) {
    const units = Math.ceil((itemBytes + METADATA_BYTES) / 1024);
    const rate = (fresh.writeCapacityUnits * d.capacityShare) / units;
    terms.push({
      rate,
      text: `new ${fresh.writeCapacityUnits} WCU × ${d.capacityShare} at ${units} WCU/item: ${Math.floor(rate)} items/s`,
    });
  } else if (fresh) terms.push(onDemand('new'));
  const lowest = terms.reduce((a, b) => (b.rate < a.rate ? b : a));
  const ceiling = Math.max(1, Math.floor(lowest.rate));
  return { ceiling, basis: `${terms.map((t) => t.text).join('; ')} → ${ceiling} items/s` };
}

/** A run's rate at its start or resume: in force at its ceiling. */
export function initialRate(ceiling: number, basis: string, now: number): BackfillRate {
  return { ceiling, inForce: ceiling, basis, throttles: 0, changedAt: now };
}

/** The limit a page obeys, items/s across all segments (0 = unlimited): the lower of the operator's cap and the rate in force. */
export function effectiveRateLimit(operatorLimit: number, rate: BackfillRate | undefined): number {
  const limits = [operatorLimit, rate?.inForce ?? 0].filter((x) => x > 0);
  return limits.length ? Math.min(...limits) : 0;
}

/**
 * The rate after a page met throttling, or undefined while the last lowering is recent (the other
 * segments met the same burst). Without a rate in force (unlimited), it starts from `observedRate`, the
 * rate the run was reaching (items/s across all segments).
 */
export function lowerRate(
  rate: BackfillRate,
  observedRate: number,
  now: number,
  t: RateTuning = DEFAULT_RATE_TUNING,
): BackfillRate | undefined {
  if (rate.loweredAt !== undefined && now - rate.loweredAt < t.decreaseCooldownMs) return undefined;
  const from = rate.inForce > 0 ? rate.inForce : observedRate;
  if (!(from > 0)) return undefined;
  const inForce = Math.max(t.minRatePerSecond, Math.floor(from * t.decreaseFactor));
  return { ...rate, inForce, throttles: rate.throttles + 1, changedAt: now, loweredAt: now };
}

/** The rate after a page without throttling, or undefined when it stays (at the ceiling, or raised recently). */
export function raiseRate(
  rate: BackfillRate,
  now: number,
  t: RateTuning = DEFAULT_RATE_TUNING,
): BackfillRate | undefined {
  if (rate.inForce === 0) return undefined;
  if (rate.ceiling > 0 && rate.inForce >= rate.ceiling) return undefined;
  if (now - rate.changedAt < t.increaseEveryMs) return undefined;
  const step = Math.max(1, Math.floor((rate.ceiling > 0 ? rate.ceiling : rate.inForce) * t.increaseShare));
  const raised = rate.inForce + step;
  return { ...rate, inForce: rate.ceiling > 0 ? Math.min(rate.ceiling, raised) : raised, changedAt: now };
}
