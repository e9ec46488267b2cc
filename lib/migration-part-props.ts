/**
 * The props every Lambda-backed part of a migration takes (`StreamSync`, `Backfill`, `Verification`,
 * `ReadApi`): the migration, its three tables, the bundled definitions and the functions' observability.
 * `DualReadMigration` passes them to each part alike; what a part may do on each table is in its own
 * props' description.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Migration } from '../core/model';
import type { LambdaObservability } from './nodejs-function';

/** The tables a migration's parts work on. */
export interface MigrationTables {
  /** The stack's control table (this migration's items only). */
  readonly controlTable: dynamodb.ITable;
  /** The legacy table. */
  readonly legacyTable: dynamodb.ITable;
  /** The new table. */
  readonly newTable: dynamodb.ITable;
}

/** What every Lambda-backed part of a migration is built from. */
export interface MigrationPartProps extends MigrationTables {
  /** The validated migration definition. */
  readonly migration: Migration;
  /** Absolute path of the migration definitions file bundled as `dualread-definitions`. */
  readonly definitionsFile: string;
  /** Tracing and log retention of the functions. @default - see `LambdaObservability` */
  readonly lambdaObservability?: LambdaObservability;
}
