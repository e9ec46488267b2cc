/**
 * What every backfill handler is given: `BackfillDeps` (the migration, the control store, table I/O,
 * clock, settings), the settings' defaults for AWS, and the segment payload `controls` and `page` share.
 * Handlers are built by factories over these dependencies so tests and local mode run them on DynamoDB
 * Local; `index.ts` wires the deployed ones from the environment (`deps.ts`).
 */
import type { ControlStore } from '../../adapters/control-store';
import type { ForeignItemSearch, IfAbsentWriter, ScanPage } from '../../adapters/backfill-io';
import type { PoisonRegistry } from '../../adapters/poison-registry';
import {
  BackfillInputError,
  DEFAULT_RATE_TUNING,
  type RateTuning,
  type TableCapacity,
} from '../../core/backfill';
import type { CdcStatusPort } from '../../core/cdc';
import { type SegmentRef, isSegmentRef } from '../../core/control';
import type { Item, Migration } from '../../core/model';

/** Settings shared by the handlers. */
export interface BackfillSettingsDeps {
  /** How long one `page` invocation works before it returns (it finishes its current page). */
  readonly pageBudgetMs: number;
  /** Wait between checks while paused. */
  readonly pausePollSeconds: number;
  /** Lease of the backfill lock, renewed after every Map round. */
  readonly lockLeaseMs: number;
  /** Defaults of the round bounds (see docs/backfill.md for the arithmetic). */
  readonly maxIterationsPerRound: number;
  readonly maxRoundsPerExecution: number;
  /** How long the preflight may search the new table for items dualread did not write. */
  readonly foreignCheckBudgetMs: number;
  /** The adaptive rate's backoff (core/backfill/rate.ts). */
  readonly rateTuning: RateTuning;
}

/** Defaults for AWS (docs/backfill.md). */
export const DEFAULT_BACKFILL_SETTINGS: BackfillSettingsDeps = {
  pageBudgetMs: 60_000,
  pausePollSeconds: 15,
  lockLeaseMs: 24 * 3600 * 1000,
  maxIterationsPerRound: 1_000,
  maxRoundsPerExecution: 500,
  // The preflight function's timeout is 5 minutes (lib/backfill.ts).
  foreignCheckBudgetMs: 4 * 60_000,
  rateTuning: DEFAULT_RATE_TUNING,
};

/** Log sink (Powertools `Logger` fits: structured JSON with the migration as a persistent key). */
export interface BackfillLogPort {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
}

/** Metrics sink (Powertools `Metrics` fits). */
export interface BackfillMetricsPort {
  addMetric(name: string, unit: 'Count' | 'Milliseconds' | 'Count/Second', value: number): void;
  publishStoredMetrics(): void;
}

/** Everything the handlers need. */
export interface BackfillDeps {
  readonly migration: Migration;
  readonly store: ControlStore;
  readonly cdcStatus: CdcStatusPort;
  /** Whether the new table exists and is ACTIVE. */
  readonly newTableStatus: () => Promise<{ usable: boolean; detail: string }>;
  /** DescribeTable's capacity figures of a table (the default rate: core/backfill/rate.ts). */
  readonly tableCapacity: (which: 'legacy' | 'new') => Promise<TableCapacity>;
  /** Throttled retries of the Scan and the writes since the last `take()` (adaptive rate). */
  readonly throttles?: { take(): number };
  /** Searches the new table for items dualread did not write (`findForeignItems`). */
  readonly findForeignItems: (limit: number, budgetMs: number) => Promise<ForeignItemSearch>;
  /** Reads one page of a legacy Scan segment. */
  readonly scanPage: (args: {
    segment: number;
    totalSegments: number;
    limit: number;
    exclusiveStartKey?: Item;
  }) => Promise<ScanPage>;
  readonly writer: Pick<IfAbsentWriter, 'writeAll'>;
  /** The registry of keys not (yet) in new: poison items and waived dead-lettered records. */
  readonly poison: PoisonRegistry;
  /** Strongly consistent reads by key of the legacy table and of the new table (the poison retry). */
  readonly readLegacy: (legacyKey: Item) => Promise<Item | undefined>;
  readonly readNew: (newKey: Item) => Promise<Item | undefined>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly settings: BackfillSettingsDeps;
  readonly log?: BackfillLogPort;
  readonly metrics?: BackfillMetricsPort;
}

/** Input of `controls` and `page`. */
export type SegmentPayload = SegmentRef;

/** @throws BackfillInputError unless the payload names a run and a segment below `totalSegments` */
export function checkSegmentPayload(p: SegmentPayload): void {
  if (!isSegmentRef(p)) {
    throw new BackfillInputError(
      `invalid segment payload ${JSON.stringify(p)}: need runId, segment < totalSegments`,
    );
  }
}
