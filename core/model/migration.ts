/**
 * The migration definition: what a user writes (`MigrationInput`) and the `Migration` every other part
 * takes, with its settings and key schemas. Transforms work on raw attribute-value maps (see
 * `values.ts`), so no value is ever rounded or retyped. `defineMigration` (define-migration.ts)
 * validates an input and fills in the defaults.
 */
import type { IndexDefinition, QuerySurface, QuerySurfaceInput, UnusedIndex } from './surfaces';
import { type Item, type KeyAttributeType, pick } from './values';

/** One key attribute. */
export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyAttributeType;
}

/** A table's primary key. */
export interface KeySchema {
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

/** Read-path consistency modes (docs/architecture.md, "Dual-read API"). */
export const ConsistencyMode = {
  LEGACY: 'legacy',
  SHADOW: 'shadow',
  BOUNDED: 'bounded',
  STRONG: 'strong',
  NEW: 'new',
} as const;
export type ConsistencyMode = (typeof ConsistencyMode)[keyof typeof ConsistencyMode];

/** Read defaults of a migration. */
export interface ReadSettings {
  /** Maximum age of a state served from the new table in bounded mode. @default 5000 ms */
  readonly stalenessBudgetMs: number;
  /** Mode when a request names none (any but `new`, which proves no freshness). @default 'bounded' */
  readonly defaultConsistency: ConsistencyMode;
  /** Request header holding the routing key; the partition key is used when it is absent. @default 'x-routing-key' */
  readonly routingKeyHeader: string;
  /** Share of reads that are shadow-compared in BACKFILLING and SHADOW. @default 0.05 */
  readonly shadowSampleRate: number;
  /** Salt of the cohort hash; change it to reshuffle cohorts. @default the migration id */
  readonly cohortSalt: string;
  /** How long the read Lambda may cache control state; counted in the staleness bound. @default 1000 ms */
  readonly controlCacheMs: number;
  /** Clock-skew margin subtracted from the frontier by readers. @default 1000 ms */
  readonly clockSkewMs: number;
  /**
   * How long a write may take to reach a GSI after its table write (GSIs are eventually consistent):
   * added to the staleness bound of every bounded read served from a GSI. @default 1000 ms
   */
  readonly indexPropagationMarginMs: number;
}

/** Backfill defaults of a migration. */
export interface BackfillSettings {
  /** Parallel scan segments. @default 4 */
  readonly segments: number;
  /** Scan page size. @default 100 */
  readonly pageSize: number;
  /**
   * The operator's cap, items per second across all segments, written into STATE's `controls` (shared
   * with verification); 0 means no cap. The run's adaptive rate applies as well (the lower wins).
   * @default 0
   */
  readonly rateLimitPerSecond: number;
  /**
   * Ceiling of the run's adaptive rate, items/s. Undefined: derived from the tables' capacity at each
   * start (`capacityShare`, `onDemandRatePerSecond`; docs/backfill.md "Rate"); 0: no ceiling (the rate
   * still halves on throttling). @default undefined
   */
  readonly maxRatePerSecond?: number;
  /** Share of a provisioned table's capacity (legacy reads, new writes) the default ceiling uses. @default 0.5 */
  readonly capacityShare: number;
  /** Default ceiling on an on-demand table, items/s. @default 1000 */
  readonly onDemandRatePerSecond: number;
}

/** Verification defaults of a migration. */
export interface VerificationSettings {
  /** EventBridge Scheduler expression. @default 'cron(0 3 * * ? *)' (03:00 daily) */
  readonly schedule: string;
  /** Time zone of the schedule. @default 'UTC' */
  readonly timeZone: string;
  /** Repair confirmed drift in scheduled runs. @default false */
  readonly repair: boolean;
}

/**
 * The control plane's guardrail thresholds (docs/design.md §5; core/control/guardrails.ts). A team
 * overrides them per migration in its definition (`guardrails: { ... }`).
 */
export interface GuardrailSettings {
  /** Highest shadow mismatch rate (drift classes over comparisons, lag excluded) to leave SHADOW. @default 0.001 */
  readonly shadowMaxMismatchRate: number;
  /** Fewest shadow comparisons in the window before the rate counts. @default 1000 */
  readonly shadowMinComparisons: number;
  /**
   * Fewest comparisons of each declared query surface's pages in the window before its own mismatch
   * rate (held to `shadowMaxMismatchRate`) counts, to leave SHADOW. @default 100
   */
  readonly surfaceMinComparisons: number;
  /** Window of shadow comparisons read by the guardrail. @default 3_600_000 ms (1 h) */
  readonly shadowWindowMs: number;
  /** Highest frontier lag (now − F) to move forward from DUAL_READ; 0 = the staleness budget. @default 0 */
  readonly maxFrontierLagMs: number;
  /** Time at 100 % rollout before NEW_PRIMARY, and in NEW_PRIMARY before FINALIZED. @default 900_000 ms */
  readonly soakMs: number;
  /** Consecutive clean verifications required before NEW_PRIMARY and FINALIZED. @default 2 */
  readonly cleanVerifications: number;
  /** Phases whose entry needs a named approval. @default ['NEW_PRIMARY', 'FINALIZED'] */
  readonly approvalFor: readonly string[];
  /** Alarms move DUAL_READ and NEW_PRIMARY back to SHADOW on their own. @default true */
  readonly autoRollback: boolean;
}

/** Input of `defineMigration`: what a user writes. */
export interface MigrationInput {
  /** Identifier: lowercase letters, digits and dashes; unique in a definitions file. */
  readonly id: string;
  readonly legacyTable: {
    readonly tableName: string;
    readonly key: KeySchema;
    /** Stream ARN of an existing table (required to deploy against an existing table). */
    readonly streamArn?: string;
    /**
     * ARN of the customer-managed KMS key the legacy table is encrypted with, if it is (a key ARN, not
     * an alias: IAM grants name keys). The functions that read the table or its stream (sync, frontier
     * tracker, backfill, verification, read API) are allowed `kms:Decrypt` on it, and only they.
     * @default none: AWS-owned or AWS-managed encryption, no key grant needed
     */
    readonly kmsKeyArn?: string;
    /** The legacy table's secondary indexes that `queries` map (local mode creates them). @default none */
    readonly indexes?: readonly IndexDefinition[];
    /**
     * Legacy indexes no client queries, each with why (SHADOW → DUAL_READ requires every index of the
     * legacy table to be mapped by a surface or listed here). @default none
     */
    readonly unusedIndexes?: readonly UnusedIndex[];
  };
  readonly newTable: {
    readonly tableName: string;
    readonly key: KeySchema;
    /** Create the table in the stack (true) or import an existing one (false). @default true */
    readonly create?: boolean;
    /** GSIs of the new table (projection all; created by CDK and by local mode). @default none */
    readonly indexes?: readonly IndexDefinition[];
  };
  /**
   * Query surfaces: each legacy access path clients query (base table or a legacy index) mapped onto a
   * new one (docs/architecture.md "Query surfaces"). `base`, the base table with the mapping inferred
   * from `mapKey`, is always present unless overridden here. @default { base }
   */
  readonly queries?: Readonly<Record<string, QuerySurfaceInput>>;
  /** Maps a legacy key to the new key. Must read legacy key attributes only. @default identity */
  readonly mapKey?: (legacyKey: Item) => Item;
  /** Maps a legacy item to the new item (including its key). @default identity */
  readonly mapItem?: (legacyItem: Item) => Item;
  /** Maps a new item back to the legacy shape served to clients. @default identity */
  readonly unmapItem?: (newItem: Item) => Item;
  /** Prefix of the metadata attributes written to new items. @default '_dr_' */
  readonly metadataPrefix?: string;
  readonly read?: Partial<ReadSettings>;
  readonly backfill?: Partial<BackfillSettings>;
  readonly verification?: Partial<VerificationSettings>;
  /** Guardrail thresholds of the control plane (see `GuardrailSettings` for the defaults). */
  readonly guardrails?: Partial<GuardrailSettings>;
  /**
   * Representative legacy items. `defineMigration` checks on each that `mapItem` keeps the key
   * consistent with `mapKey`, writes no metadata attribute and that `unmapItem` inverts it exactly.
   */
  readonly samples?: readonly Item[];
}

/** A validated migration with every default filled in. */
export interface Migration {
  readonly id: string;
  readonly legacyTable: MigrationInput['legacyTable'];
  readonly newTable: Required<Omit<MigrationInput['newTable'], 'indexes'>> & {
    readonly indexes: readonly IndexDefinition[];
  };
  /** Every query surface by name, `base` included. */
  readonly queries: Readonly<Record<string, QuerySurface>>;
  readonly mapKey: (legacyKey: Item) => Item;
  readonly mapItem: (legacyItem: Item) => Item;
  readonly unmapItem: (newItem: Item) => Item;
  readonly metadataPrefix: string;
  readonly read: ReadSettings;
  readonly backfill: BackfillSettings;
  readonly verification: VerificationSettings;
  readonly guardrails: GuardrailSettings;
}

/** Names of the key attributes of a schema, partition key first. */
export function keyNames(key: KeySchema): string[] {
  return key.sortKey ? [key.partitionKey.name, key.sortKey.name] : [key.partitionKey.name];
}

/** The key of `item` under `key` (missing attributes left out). */
export function keyOf(item: Item, key: KeySchema): Item {
  return pick(item, keyNames(key));
}
