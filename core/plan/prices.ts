/**
 * Prices the migration plan is computed with. They are inputs, never constants of the arithmetic:
 * `dualread plan` takes every one as a flag, and these defaults say where and when they come from.
 */

/** Unit prices in US dollars. */
export interface PlanPrices {
  /** Where and when the prices were read, printed with every plan. */
  readonly source: string;
  /** On-demand: per million write request units. */
  readonly onDemandWriteRequestUnitPerMillion: number;
  /** On-demand: per million read request units. */
  readonly onDemandReadRequestUnitPerMillion: number;
  /** Provisioned: per write capacity unit-hour. */
  readonly provisionedWcuHour: number;
  /** Provisioned: per read capacity unit-hour. */
  readonly provisionedRcuHour: number;
  /** DynamoDB Streams: per 100,000 GetRecords calls (Lambda triggers read for free). */
  readonly streamsReadRequestsPer100k: number;
  /** Lambda (arm64): per GB-second. */
  readonly lambdaGbSecond: number;
  /** Lambda: per million requests. */
  readonly lambdaRequestsPerMillion: number;
  /** Step Functions Standard: per 1,000 state transitions. */
  readonly stepFunctionsTransitionsPer1000: number;
  /** DynamoDB Standard table class storage: per GB-month. */
  readonly storageGbMonth: number;
}

/**
 * us-east-1 list prices as published by AWS on 2024-11-01 (after that month's on-demand price cut),
 * last compared with the pricing pages on 2026-12-04. Other Regions and later price changes: pass
 * the `--price-*` flags of `dualread plan`.
 */
export const DEFAULT_PLAN_PRICES: PlanPrices = {
  source: 'AWS us-east-1 list prices of 2024-11-01 (not re-checked since: override with --price)',
  onDemandWriteRequestUnitPerMillion: 0.625,
  onDemandReadRequestUnitPerMillion: 0.125,
  provisionedWcuHour: 0.00065,
  provisionedRcuHour: 0.00013,
  streamsReadRequestsPer100k: 0.02,
  lambdaGbSecond: 0.0000133334,
  lambdaRequestsPerMillion: 0.2,
  stepFunctionsTransitionsPer1000: 0.025,
  storageGbMonth: 0.25,
};
