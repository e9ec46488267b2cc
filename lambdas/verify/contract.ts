/**
 * The verification functions' contract (issue 5): the payloads the state machine passes to each step
 * (with their checks) and what each returns (stepfunctions/verify.ts), and the dependencies every step
 * is built over (lambdas/verify/deps.ts builds them for AWS, local/verify.ts for DynamoDB Local).
 */
import type { ScanPage } from '../../adapters/backfill-io';
import type { ControlStore } from '../../adapters/control-store';
import { type RepairWrite, VerifyInputError, VerifySide, type VerifyStage } from '../../core/verify';
import { type RunSettings, type RunStartInput, type SegmentRef, isSegmentRef } from '../../core/control';
import { type Item, type MetadataNames, type Migration, metadataNames } from '../../core/model';

/** The execution input (every field optional; the schedule passes `{ repair }`). */
export interface VerifyStartInput extends RunStartInput {
  /** Repair confirmed drift. @default migration.verification.repair */
  readonly repair?: boolean;
}

/** The run's settings, resolved by `preflight`; the state machine carries them as `$.run`. */
export interface VerifyRun extends RunSettings {
  readonly repair: boolean;
  readonly next: NextStep;
  /** Set when the run did not judge (stage SKIPPED): why, and what to do (core/verify/gate.ts). */
  readonly skipped?: { readonly reason: string; readonly message: string };
}

/** The next stage (and for the scan stages the segments still to do). */
export interface NextStep {
  readonly stage: VerifyStage;
  readonly segments: number[];
}

/** Payload of the `control` function. */
export type ControlPayload =
  | {
      readonly op: 'preflight';
      readonly input?: VerifyStartInput;
      executionId: string;
      executionName: string;
    }
  | ({ readonly op: 'controls' } & SegmentPayload)
  | { readonly op: 'advance' | 'report' | 'release'; readonly run: VerifyRun; readonly executionId: string }
  | {
      readonly op: 'fail';
      readonly run: VerifyRun;
      readonly executionId: string;
      readonly error?: { readonly Error?: string; readonly Cause?: string };
    };

/** Payload of `scan` and `controls`. */
export interface SegmentPayload extends SegmentRef {
  readonly side: VerifySide;
}

/** Checks a `scan` or `controls` payload. */
export function checkSegment(p: SegmentPayload): void {
  if (!isSegmentRef(p) || !Object.values(VerifySide).includes(p.side)) {
    throw new VerifyInputError(
      `invalid segment payload ${JSON.stringify(p)}: need runId, side legacy|new|extras, segment < totalSegments`,
    );
  }
}

/** Output of `controls`. */
export interface ControlsResult {
  readonly done: boolean;
  readonly paused: boolean;
  readonly waitSeconds: number;
}

/** Output of `scan`. */
export interface ScanResult {
  readonly done: boolean;
  readonly status: 'DONE' | 'MORE' | 'PAUSED' | 'WAIT';
  readonly pages: number;
  readonly scanned: number;
}

/** Payload of `recheck` and `repair`. */
export interface RunPayload {
  readonly runId: string;
  readonly actor?: string;
}

/** Output of `recheck` and `repair`. */
export interface StepResult {
  readonly done: boolean;
  readonly processed: number;
  readonly pending: number;
}

/** Settings of the handlers. */
export interface VerifySettingsDeps {
  /** How long one `scan`, `recheck` or `repair` invocation works before it returns. */
  readonly budgetMs: number;
  /** Scan page size (cut further by the rate limit). */
  readonly pageSize: number;
  readonly pausePollSeconds: number;
  /** Lease of the verification lock, renewed at every stage change. */
  readonly lockLeaseMs: number;
  readonly maxIterationsPerRound: number;
  readonly maxRoundsPerExecution: number;
  /** Suspects stored per segment; more are counted as dropped (the run is then not clean). */
  readonly maxSuspectsPerSegment: number;
  /** Suspects re-checked together. */
  readonly recheckBatch: number;
  /** Re-check rounds of a key CDC keeps changing before it is `unconfirmed-lag`. */
  readonly maxRecheckRounds: number;
  /** How long a suspect may wait for the frontier before it is `unconfirmed-lag`. */
  readonly maxLagWaitMs: number;
  /** Poll interval of the FRONTIER item while waiting. */
  readonly frontierPollMs: number;
  /** Clock-skew margin subtracted from F. @default migration.read.clockSkewMs */
  readonly clockSkewMs?: number;
  /** Lifetime of suspects and checkpoints (control table TTL). */
  readonly workingItemTtlDays: number;
}

/** Defaults for AWS (docs/architecture.md, "Verification"). */
export const DEFAULT_VERIFY_SETTINGS: VerifySettingsDeps = {
  budgetMs: 60_000,
  pageSize: 500,
  pausePollSeconds: 15,
  lockLeaseMs: 6 * 3600 * 1000,
  maxIterationsPerRound: 1_000,
  maxRoundsPerExecution: 500,
  maxSuspectsPerSegment: 10_000,
  recheckBatch: 500,
  maxRecheckRounds: 3,
  maxLagWaitMs: 15 * 60 * 1000,
  frontierPollMs: 1_000,
  workingItemTtlDays: 30,
};

/** Key reads of one table. */
export interface KeyReadPort {
  batchGet(keys: readonly Item[], consistent: boolean): Promise<Map<string, Item>>;
  get(key: Item, consistent: boolean): Promise<Item | undefined>;
}

/** Metrics sink (Powertools `Metrics` fits). */
export interface VerifyMetricsPort {
  addMetric(name: string, unit: 'Count' | 'Milliseconds', value: number): void;
  publishStoredMetrics(): void;
}

/** Log sink (Powertools `Logger` fits: structured JSON with the migration as a persistent key). */
export interface VerifyLogPort {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
}

/** Everything the handlers need. */
export interface VerifyDeps {
  readonly migration: Migration;
  readonly store: ControlStore;
  readonly scanLegacy: (args: ScanArgs) => Promise<ScanPage>;
  readonly scanNew: (args: ScanArgs) => Promise<ScanPage>;
  readonly legacy: KeyReadPort;
  readonly fresh: KeyReadPort;
  /**
   * The repair's conditional put on the new table and its audit record, in one transaction: `lost` when
   * the condition failed (a CDC write got there first; then nothing, not even the audit, is written).
   */
  readonly repairNew: (write: RepairWrite) => Promise<'written' | 'lost'>;
  /** Ids of audit records. @default randomUUID */
  readonly newAuditId?: () => string;
  readonly tableStatus: (which: VerifySide) => Promise<{ usable: boolean; detail: string }>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly settings: VerifySettingsDeps;
  readonly metrics?: VerifyMetricsPort;
  readonly log?: VerifyLogPort;
  /** Test seam: runs between the repair's read of new and its read of legacy (to force a race). */
  readonly betweenRepairReads?: (newKey: Item, legacyKey: Item) => Promise<void>;
  /** Test seam: runs between the repair's reads and its write (to force a race deterministically). */
  readonly beforeRepairWrite?: (newKey: Item, legacyKey: Item) => Promise<void>;
}

/** What the steps that compare items work with: the migration (`m`) and its metadata attribute names. */
export function stepMigration(deps: VerifyDeps): { readonly m: Migration; readonly names: MetadataNames } {
  return { m: deps.migration, names: metadataNames(deps.migration.metadataPrefix) };
}

/** One Scan page request. */
export interface ScanArgs {
  readonly segment: number;
  readonly totalSegments: number;
  readonly limit: number;
  readonly exclusiveStartKey?: Item;
}
