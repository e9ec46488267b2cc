/**
 * Defaults of the constructs in `lib/`. Every default a construct applies lives here, so the props
 * tables in the README and these values can be checked against one place.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  type IndexDefinition,
  metadataNames,
  type KeyAttribute,
  type KeySchema,
  type Migration,
} from '../core/model';

/**
 * Key attribute names of the control table (docs/design.md §3: `pk` = `MIGRATION#<id>`, `sk` = `STATE`, ...).
 * They must equal `CONTROL_TABLE_KEY` in `adapters/tables.ts` (local mode); `test/cdk` checks that.
 * They are repeated here rather than imported because `lib/` does not import modules that load the SDK.
 */
export const ControlTableKey = { PARTITION_KEY: 'pk', SORT_KEY: 'sk' } as const;

/** TTL attribute of the control table: expiring control items (locks, progress markers). */
export const CONTROL_TABLE_TTL_ATTRIBUTE = 'expiresAt';

/** DynamoDB attribute types of the key types a migration definition uses. */
const ATTRIBUTE_TYPES = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
} as const;

/** The CDK attribute of one key attribute of a migration definition. */
export function toCdkAttribute(attr: KeyAttribute): dynamodb.Attribute {
  return { name: attr.name, type: ATTRIBUTE_TYPES[attr.type] };
}

/** Partition and sort key of a table, in CDK's terms. */
export function cdkKeyProps(key: KeySchema): Pick<dynamodb.TableProps, 'partitionKey' | 'sortKey'> {
  return key.sortKey
    ? { partitionKey: toCdkAttribute(key.partitionKey), sortKey: toCdkAttribute(key.sortKey) }
    : { partitionKey: toCdkAttribute(key.partitionKey) };
}

/**
 * Settings shared by every table the stack creates: on-demand (a migration's load comes in bursts:
 * backfill, verification), point-in-time recovery, encryption with the AWS-managed key, and kept
 * when the stack is deleted (migration state and migrated data outlive the stack).
 */
const STATEFUL_TABLE_DEFAULTS = {
  billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
  pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  encryption: dynamodb.TableEncryption.AWS_MANAGED,
  removalPolicy: RemovalPolicy.RETAIN,
} as const satisfies Partial<dynamodb.TableProps>;

/**
 * Defaults of the new table a `DualReadMigration` creates. The key, the name and the TTL attribute
 * are not defaults but facts of the migration (the Lambdas and local mode use the same ones), so
 * `newTableProps` cannot override them.
 */
export function defaultNewTableProps(migration: Migration): dynamodb.TableProps {
  return {
    ...STATEFUL_TABLE_DEFAULTS,
    ...newTableIdentityProps(migration),
  };
}

/** The parts of the new table fixed by the migration definition. */
export function newTableIdentityProps(
  migration: Migration,
): Pick<dynamodb.TableProps, 'tableName' | 'partitionKey' | 'sortKey' | 'timeToLiveAttribute'> {
  return {
    tableName: migration.newTable.tableName,
    ...cdkKeyProps(migration.newTable.key),
    // Tombstones carry `<prefix>ttl` once backfill has completed plus a margin (docs/design.md §3).
    timeToLiveAttribute: metadataNames(migration.metadataPrefix).ttl,
  };
}

/**
 * Adds the indexes a definition declares to a table the stack creates (the new table's GSIs, which its
 * query surfaces need, and an example legacy table's GSIs and LSIs), projecting all attributes: a
 * surface serves whole items.
 */
export function addDeclaredIndexes(
  table: dynamodb.Table,
  indexes: readonly IndexDefinition[] | undefined,
): void {
  for (const ix of indexes ?? []) {
    const key = cdkKeyProps(ix.key);
    if (ix.kind === 'local') {
      table.addLocalSecondaryIndex({
        indexName: ix.name,
        sortKey: key.sortKey as dynamodb.Attribute,
        projectionType: dynamodb.ProjectionType.ALL,
      });
    } else {
      table.addGlobalSecondaryIndex({
        indexName: ix.name,
        ...key,
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}

/** Defaults of the control table (one per stack). */
export function defaultControlTableProps(): dynamodb.TableProps {
  return {
    ...STATEFUL_TABLE_DEFAULTS,
    partitionKey: { name: ControlTableKey.PARTITION_KEY, type: dynamodb.AttributeType.STRING },
    sortKey: { name: ControlTableKey.SORT_KEY, type: dynamodb.AttributeType.STRING },
    timeToLiveAttribute: CONTROL_TABLE_TTL_ATTRIBUTE,
  };
}

/**
 * Props of a legacy table created for an example or rehearsal stack (`createLegacyTableForExample`).
 * Real legacy tables are never created: they exist already and are imported. The stream must carry
 * both images, because the sync Lambda writes `mapItem(NewImage)` and the verifier compares old ones.
 * The example table holds only example data and was created by this stack, so it is destroyed with it.
 */
export function exampleLegacyTableProps(migration: Migration): dynamodb.TableProps {
  return {
    ...STATEFUL_TABLE_DEFAULTS,
    tableName: migration.legacyTable.tableName,
    ...cdkKeyProps(migration.legacyTable.key),
    stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    removalPolicy: RemovalPolicy.DESTROY,
  };
}

/**
 * Lambda settings shared by every function of the stack (see `lib/nodejs-function.ts`).
 *
 * Runtime: Node.js 24, the current LTS line with the longest Lambda support window. `nodejs20.x` is
 * deprecated on Lambda (since 2026-04-30; creation is being disabled), so deploying on it would soon
 * fail. The code is developed and tested on Node 20, so the bundle targets node20:
 * esbuild emits nothing newer than Node 20 understands, and Node 24 runs it unchanged. The bundled
 * SDK versions declare `node >= 20`.
 */
export const LambdaDefaults = {
  runtime: lambda.Runtime.NODEJS_24_X,
  /** esbuild target: the language level the code is tested at (Node 20), which the runtime above runs. */
  esbuildTarget: 'node20',
  /** Graviton: cheaper per GB-second, and nothing in the bundle is native code. */
  architecture: lambda.Architecture.ARM_64,
  memorySize: 512,
} as const;

/** Import specifier every Lambda entry uses for the user's migration definitions (see tsconfig `paths`). */
export const DEFINITIONS_IMPORT = 'dualread-definitions';
