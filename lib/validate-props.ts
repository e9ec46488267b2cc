/**
 * Prop validation of the constructs in `lib/`, kept apart from the constructs so every rule is in one
 * place and each has a test (`test/cdk`). Checks run at synth time; values that are unresolved tokens
 * (known only at deploy time) are skipped rather than guessed.
 */
import { Token } from 'aws-cdk-lib';
import type { DualReadMigrationProps } from './dual-read-migration';
import { ConstructPropsError } from './errors';

const CONSTRUCT = 'DualReadMigration';

/** What `validateDualReadMigrationProps` reads of `DualReadMigrationProps`. */
export type DualReadMigrationPropsToValidate = Pick<
  DualReadMigrationProps,
  | 'migration'
  | 'controlTable'
  | 'existingNewTableObj'
  | 'newTableProps'
  | 'existingLegacyTableObj'
  | 'createLegacyTableForExample'
  | 'newTableThrottleAlarmMinutes'
>;

/** Props of the new table that come from the migration definition and may not be overridden. */
export const FIXED_NEW_TABLE_PROPS = ['tableName', 'partitionKey', 'sortKey', 'timeToLiveAttribute'] as const;

/** The parts of a DynamoDB stream ARN. */
export interface StreamArnParts {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly tableName: string;
  /** The table ARN: the stream ARN without `/stream/<label>`. */
  readonly tableArn: string;
}

const STREAM_ARN =
  /^(arn:(aws[a-z-]*):dynamodb:([a-z0-9-]+):(\d{12}):table\/([a-zA-Z0-9_.-]{3,255}))\/stream\/\S+$/;

/** Splits a DynamoDB stream ARN, or returns undefined if `arn` is not one. */
export function parseStreamArn(arn: string): StreamArnParts | undefined {
  const m = STREAM_ARN.exec(arn);
  if (!m) return undefined;
  const [, tableArn, partition, region, account, tableName] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return { partition, region, account, tableName, tableArn };
}

/** True if `value` is a concrete string (not a token) different from `expected`. */
function differs(value: string | undefined, expected: string): value is string {
  return value !== undefined && !Token.isUnresolved(value) && value !== expected;
}

/**
 * Checks a `DualReadMigration`'s props: one source per table (an existing object or props to create
 * one, never both) and a known stream for an imported legacy table.
 *
 * @param stackRegion the region of the enclosing stack, if concrete (the stream must be in it)
 * @throws ConstructPropsError saying which props conflict and what to change
 */
export function validateDualReadMigrationProps(
  props: DualReadMigrationPropsToValidate,
  stackRegion?: string,
): void {
  const migration = props.migration;
  if (!migration || typeof migration.id !== 'string') {
    throw new ConstructPropsError(
      CONSTRUCT,
      undefined,
      'props.migration is required: pass the result of defineMigration({...})',
    );
  }
  const id = migration.id;
  function fail(problem: string): never {
    throw new ConstructPropsError(CONSTRUCT, id, problem);
  }
  if (!props.controlTable) fail("props.controlTable is required: pass the stack's ControlTable table");
  const throttleMinutes = props.newTableThrottleAlarmMinutes;
  if (
    throttleMinutes !== undefined &&
    !(Number.isInteger(throttleMinutes) && throttleMinutes >= 1 && throttleMinutes <= 60)
  ) {
    fail(
      `newTableThrottleAlarmMinutes must be a whole number of minutes from 1 to 60, not ${throttleMinutes}`,
    );
  }

  // New table: an existing table, or props to create one, never both.
  if (props.existingNewTableObj && props.newTableProps) {
    fail(
      'existingNewTableObj and newTableProps were both given: pass existingNewTableObj to use an existing table, ' +
        'or newTableProps to create one, not both',
    );
  }
  if (!migration.newTable.create && props.newTableProps) {
    fail(
      `newTableProps were given, but the migration imports the new table "${migration.newTable.tableName}" ` +
        '(newTable.create is false); remove newTableProps, or set newTable.create to true to let the stack create it',
    );
  }
  if (props.newTableProps) {
    const fixed = FIXED_NEW_TABLE_PROPS.filter(
      (k) => (props.newTableProps as Record<string, unknown>)[k] !== undefined,
    );
    if (fixed.length) {
      fail(
        `newTableProps may not set ${fixed.join(', ')}: the new table's name, key and TTL attribute come from the ` +
          'migration definition (newTable.tableName, newTable.key, metadataPrefix), which the Lambdas use too',
      );
    }
  }
  if (
    props.existingNewTableObj &&
    differs(props.existingNewTableObj.tableName, migration.newTable.tableName)
  ) {
    fail(
      `existingNewTableObj is table "${props.existingNewTableObj.tableName}", but the migration names the new table ` +
        `"${migration.newTable.tableName}"; they must be the same table`,
    );
  }

  // Legacy table: created only for examples, otherwise imported, and then its stream must be known.
  const legacyName = migration.legacyTable.tableName;
  if (props.createLegacyTableForExample) {
    if (props.existingLegacyTableObj) {
      fail(
        'existingLegacyTableObj and createLegacyTableForExample were both given: use an existing legacy table, ' +
          'or create one for an example, not both',
      );
    }
    if (migration.legacyTable.streamArn !== undefined) {
      fail(
        `createLegacyTableForExample would create a new table "${legacyName}", but legacyTable.streamArn names the ` +
          'stream of an existing one; remove streamArn for an example stack, or do not create the legacy table',
      );
    }
    return;
  }
  const existing = props.existingLegacyTableObj;
  if (existing && differs(existing.tableName, legacyName)) {
    fail(
      `existingLegacyTableObj is table "${existing.tableName}", but the migration names the legacy table "${legacyName}"`,
    );
  }
  if (existing?.tableStreamArn && migration.legacyTable.streamArn !== undefined) {
    if (differs(existing.tableStreamArn, migration.legacyTable.streamArn)) {
      fail(
        `existingLegacyTableObj has stream ${existing.tableStreamArn}, but legacyTable.streamArn is ` +
          `${migration.legacyTable.streamArn}; they must be the same stream`,
      );
    }
  }
  const streamArn = existing?.tableStreamArn ?? migration.legacyTable.streamArn;
  if (streamArn === undefined) {
    fail(
      `the legacy table "${legacyName}" is imported, but its stream ARN is unknown. Enable a NEW_AND_OLD_IMAGES ` +
        `stream on it, then set legacyTable.streamArn in the migration definition to its LatestStreamArn ` +
        `(aws dynamodb describe-table --table-name ${legacyName} --query Table.LatestStreamArn)` +
        (existing ? ', or import existingLegacyTableObj with tableStreamArn' : ''),
    );
  }
  if (Token.isUnresolved(streamArn)) return;
  const parts = parseStreamArn(streamArn);
  if (!parts) {
    fail(
      `legacy stream ARN "${streamArn}" is not a DynamoDB stream ARN ` +
        '(arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>)',
    );
  }
  if (parts.tableName !== legacyName) {
    fail(
      `legacy stream ARN ${streamArn} is the stream of table "${parts.tableName}", not of the legacy table "${legacyName}"`,
    );
  }
  if (stackRegion !== undefined && !Token.isUnresolved(stackRegion) && parts.region !== stackRegion) {
    fail(
      `the legacy stream is in ${parts.region}, but the stack deploys to ${stackRegion}; a Lambda reads a DynamoDB ` +
        `stream only in its own region, so deploy the stack to ${parts.region}`,
    );
  }
}

/** Props of the control table that the handlers depend on and may not be overridden. */
export const FIXED_CONTROL_TABLE_PROPS = ['partitionKey', 'sortKey', 'timeToLiveAttribute'] as const;

/**
 * Checks a `ControlTable`'s props: its key and TTL attribute are fixed.
 *
 * @throws ConstructPropsError naming the props that may not be set
 */
export function validateControlTableProps(props: { readonly tableProps?: object }): void {
  const overrides = (props.tableProps ?? {}) as Record<string, unknown>;
  const fixed = FIXED_CONTROL_TABLE_PROPS.filter((k) => overrides[k] !== undefined);
  if (fixed.length) {
    throw new ConstructPropsError(
      'ControlTable',
      undefined,
      `tableProps may not set ${fixed.join(', ')}: the control table's key (pk, sk) and TTL attribute ` +
        '(expiresAt) are what every handler reads and writes',
    );
  }
}
