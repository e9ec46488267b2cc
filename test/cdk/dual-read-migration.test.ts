import { RemovalPolicy, Stack, type Environment } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { metadataNames } from '../../core/model';
import { ControlTable, DualReadMigration, type DualReadMigrationProps } from '../../lib';
import { statefulTable } from '../helpers/cdk-parts';
import { ORDERS_STREAM_ARN, errorOf, newApp, ordersMigration, ordersWithSurfaces } from './helpers';

const TABLE = 'AWS::DynamoDB::Table';

/** The test account and region, where the legacy stream `ORDERS_STREAM_ARN` is. */
const TEST_ENV: Environment = { account: '123456789012', region: 'eu-west-1' };

/** Props of a `DualReadMigration`, given or made in its stack (for tables imported into it). */
type PropsIn = Partial<DualReadMigrationProps> | ((stack: Stack) => Partial<DualReadMigrationProps>);

/**
 * A stack (in `env`) holding a control table and one DualReadMigration built from `props`: the `orders`
 * migration and the control table unless `props` says otherwise.
 */
function migrationStack(
  props: PropsIn,
  env: Environment = TEST_ENV,
): { stack: Stack; construct: DualReadMigration } {
  const app = newApp();
  const stack = new Stack(app, 'Test', { env });
  const given = typeof props === 'function' ? props(stack) : props;
  const control = new ControlTable(stack, 'ControlTable');
  const construct = new DualReadMigration(stack, 'Migration', {
    migration: ordersMigration(),
    controlTable: control.table,
    ...given,
  });
  return { stack, construct };
}

describe('Construct: DualReadMigration', () => {
  it('creates the new table with the migration key, metadata TTL, on demand, PITR, encryption, retained', () => {
    // Act
    const { stack, construct } = migrationStack({});

    // Assess
    const template = Template.fromStack(stack);
    template.hasResource(
      TABLE,
      statefulTable(['PK', 'S'], ['SK', 'N'], {
        TableName: 'orders',
        TimeToLiveSpecification: { AttributeName: metadataNames('_dr_').ttl, Enabled: true },
        StreamSpecification: Match.absent(),
        Tags: Match.arrayWith([{ Key: 'dualread:migration', Value: 'orders' }]),
      }),
    );
    expect(construct.newTable).toBeDefined();
    expect(construct.newTableInterface).toBe(construct.newTable);
  });

  it('creates the GSIs the query surfaces read on the new table, (projection all)', () => {
    // Arrange: a legacy GSI by customer mapped onto the new table's overloaded GSI1.
    const migration = ordersWithSurfaces();

    // Act
    const { stack } = migrationStack({ migration });

    // Assess
    const template = Template.fromStack(stack);
    template.hasResourceProperties(TABLE, {
      TableName: 'orders',
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'GSI1PK', AttributeType: 'S' },
        { AttributeName: 'GSI1SK', AttributeType: 'N' },
        { AttributeName: 'GSI2PK', AttributeType: 'B' },
      ]),
      GlobalSecondaryIndexes: [
        {
          IndexName: 'GSI1',
          KeySchema: [
            { AttributeName: 'GSI1PK', KeyType: 'HASH' },
            { AttributeName: 'GSI1SK', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'GSI2',
          KeySchema: [{ AttributeName: 'GSI2PK', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it('takes the TTL attribute from the metadata prefix', () => {
    // Act
    const { stack } = migrationStack({ migration: ordersMigration({ metadataPrefix: 'mig_' }) });

    // Assess
    Template.fromStack(stack).hasResourceProperties(TABLE, {
      TableName: 'orders',
      TimeToLiveSpecification: { AttributeName: 'mig_ttl', Enabled: true },
    });
  });

  it('applies newTableProps over the defaults, ignoring undefined ones', () => {
    // Act
    const { stack } = migrationStack({
      newTableProps: {
        removalPolicy: RemovalPolicy.DESTROY,
        deletionProtection: true,
        billingMode: undefined,
        encryption: undefined,
      },
    });

    // Assess
    Template.fromStack(stack).hasResource(TABLE, {
      DeletionPolicy: 'Delete',
      Properties: {
        TableName: 'orders',
        DeletionProtectionEnabled: true,
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
      },
    });
  });

  it('imports the legacy table from its stream ARN and creates no table for it', () => {
    // Act
    const { stack, construct } = migrationStack({});

    // Assess: the control table and the new table only.
    const template = Template.fromStack(stack);
    template.resourceCountIs(TABLE, 2);
    template.resourcePropertiesCountIs(TABLE, { TableName: 'orders-legacy' }, 0);
    expect(construct.legacyTable).toBeUndefined();
    expect(construct.legacyStreamArn).toBe(ORDERS_STREAM_ARN);
    expect(construct.legacyTableInterface.tableStreamArn).toBe(ORDERS_STREAM_ARN);
    // The table ARN comes from the stream ARN (the real table's account and region).
    expect(stack.resolve(construct.legacyTableInterface.tableArn)).toBe(
      'arn:aws:dynamodb:eu-west-1:123456789012:table/orders-legacy',
    );
    expect(stack.resolve(construct.legacyTableInterface.tableName)).toBe('orders-legacy');
  });

  it('uses an existing legacy table object and its stream', () => {
    // Prepare
    const app = newApp();
    const stack = new Stack(app, 'Test');
    const legacy = dynamodb.Table.fromTableAttributes(stack, 'Legacy', {
      tableName: 'orders-legacy',
      tableStreamArn: ORDERS_STREAM_ARN,
    });

    // Act
    const construct = new DualReadMigration(stack, 'Migration', {
      migration: ordersMigration({ legacyTable: { streamArn: undefined } }),
      controlTable: new ControlTable(stack, 'ControlTable').table,
      existingLegacyTableObj: legacy,
    });

    // Assess
    expect(construct.legacyTableInterface).toBe(legacy);
    expect(construct.legacyStreamArn).toBe(ORDERS_STREAM_ARN);
  });

  it('creates the legacy table with a NEW_AND_OLD_IMAGES stream when asked to for an example', () => {
    // Act
    const { stack, construct } = migrationStack({
      migration: ordersMigration({ legacyTable: { streamArn: undefined } }),
      createLegacyTableForExample: true,
    });

    // Assess
    const template = Template.fromStack(stack);
    template.hasResource(TABLE, {
      DeletionPolicy: 'Delete',
      Properties: {
        TableName: 'orders-legacy',
        KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
    expect(construct.legacyTable).toBeDefined();
    const cfnLegacy = construct.legacyTable?.node.defaultChild as dynamodb.CfnTable;
    expect(stack.resolve(construct.legacyStreamArn)).toEqual({
      'Fn::GetAtt': [stack.getLogicalId(cfnLegacy), 'StreamArn'],
    });
  });

  it('uses an existing new table object and creates no new table', () => {
    // Prepare
    const app = newApp();
    const stack = new Stack(app, 'Test', { env: { region: 'eu-west-1' } });
    const existing = dynamodb.Table.fromTableName(stack, 'Existing', 'orders');

    // Act
    const construct = new DualReadMigration(stack, 'Migration', {
      migration: ordersMigration(),
      controlTable: new ControlTable(stack, 'ControlTable').table,
      existingNewTableObj: existing,
    });

    // Assess
    Template.fromStack(stack).resourceCountIs(TABLE, 1);
    expect(construct.newTable).toBeUndefined();
    expect(construct.newTableInterface).toBe(existing);
  });

  it('imports the new table by name when the migration says newTable.create: false', () => {
    // Act
    const { stack, construct } = migrationStack({
      migration: ordersMigration({ newTable: { create: false } }),
    });

    // Assess
    Template.fromStack(stack).resourceCountIs(TABLE, 1);
    expect(construct.newTable).toBeUndefined();
    expect(stack.resolve(construct.newTableInterface.tableName)).toBe('orders');
  });

  describe('invalid props', () => {
    /** A stack without account and region: no region check. */
    const AGNOSTIC: Environment = {};
    const otherStream = ORDERS_STREAM_ARN.replace('2026-01-01', '2026-02-02');
    const customersStream =
      'arn:aws:dynamodb:eu-west-1:123456789012:table/customers/stream/2026-01-01T00:00:00.000';
    const tableArnAsStream = 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders-legacy';

    it.each<[string, PropsIn, Environment, string | RegExp]>([
      [
        'refuses both existingNewTableObj and newTableProps',
        (stack) => ({
          existingNewTableObj: dynamodb.Table.fromTableName(stack, 'Existing', 'orders'),
          newTableProps: { deletionProtection: true },
        }),
        AGNOSTIC,
        'DualReadMigration (migration "orders"): existingNewTableObj and newTableProps were both given: pass ' +
          'existingNewTableObj to use an existing table, or newTableProps to create one, not both',
      ],
      [
        'refuses newTableProps when the migration imports the new table',
        {
          migration: ordersMigration({ newTable: { create: false } }),
          newTableProps: { deletionProtection: true },
        },
        TEST_ENV,
        'DualReadMigration (migration "orders"): newTableProps were given, but the migration imports the new table ' +
          '"orders" (newTable.create is false); remove newTableProps, or set newTable.create to true to let the stack create it',
      ],
      [
        'refuses newTableProps that set the name, key or TTL attribute',
        // The type forbids these; a JavaScript caller or a cast could still pass them.
        { newTableProps: { tableName: 'other', timeToLiveAttribute: 'expires' } as object },
        TEST_ENV,
        'DualReadMigration (migration "orders"): newTableProps may not set tableName, timeToLiveAttribute: the new ' +
          "table's name, key and TTL attribute come from the migration definition (newTable.tableName, newTable.key, " +
          'metadataPrefix), which the Lambdas use too',
      ],
      [
        'refuses an existingNewTableObj that is another table',
        (stack) => ({ existingNewTableObj: dynamodb.Table.fromTableName(stack, 'Other', 'not-orders') }),
        AGNOSTIC,
        'DualReadMigration (migration "orders"): existingNewTableObj is table "not-orders", but the migration names ' +
          'the new table "orders"; they must be the same table',
      ],
      [
        'refuses an imported legacy table whose stream ARN is unknown, telling to set legacyTable.streamArn',
        { migration: ordersMigration({ legacyTable: { streamArn: undefined } }) },
        TEST_ENV,
        'DualReadMigration (migration "orders"): the legacy table "orders-legacy" is imported, but its stream ARN is ' +
          'unknown. Enable a NEW_AND_OLD_IMAGES stream on it, then set legacyTable.streamArn in the migration ' +
          'definition to its LatestStreamArn (aws dynamodb describe-table --table-name orders-legacy --query ' +
          'Table.LatestStreamArn)',
      ],
      [
        'refuses an existingLegacyTableObj without a stream when the migration has no stream ARN either',
        (stack) => ({
          migration: ordersMigration({ legacyTable: { streamArn: undefined } }),
          existingLegacyTableObj: dynamodb.Table.fromTableName(stack, 'Legacy', 'orders-legacy'),
        }),
        AGNOSTIC,
        /is imported, but its stream ARN is unknown\..*, or import existingLegacyTableObj with tableStreamArn$/,
      ],
      [
        'refuses both existingLegacyTableObj and createLegacyTableForExample',
        (stack) => ({
          migration: ordersMigration({ legacyTable: { streamArn: undefined } }),
          existingLegacyTableObj: dynamodb.Table.fromTableAttributes(stack, 'Legacy', {
            tableName: 'orders-legacy',
            tableStreamArn: ORDERS_STREAM_ARN,
          }),
          createLegacyTableForExample: true,
        }),
        AGNOSTIC,
        'DualReadMigration (migration "orders"): existingLegacyTableObj and createLegacyTableForExample were both ' +
          'given: use an existing legacy table, or create one for an example, not both',
      ],
      [
        'refuses createLegacyTableForExample for a migration that names an existing stream',
        { createLegacyTableForExample: true },
        TEST_ENV,
        'DualReadMigration (migration "orders"): createLegacyTableForExample would create a new table ' +
          '"orders-legacy", but legacyTable.streamArn names the stream of an existing one; remove streamArn for an ' +
          'example stack, or do not create the legacy table',
      ],
      [
        'refuses an existingLegacyTableObj whose stream differs from legacyTable.streamArn',
        (stack) => ({
          existingLegacyTableObj: dynamodb.Table.fromTableAttributes(stack, 'Legacy', {
            tableName: 'orders-legacy',
            tableStreamArn: otherStream,
          }),
        }),
        AGNOSTIC,
        `DualReadMigration (migration "orders"): existingLegacyTableObj has stream ${otherStream}, but ` +
          `legacyTable.streamArn is ${ORDERS_STREAM_ARN}; they must be the same stream`,
      ],
      [
        'refuses an existingLegacyTableObj that is another table',
        (stack) => ({
          existingLegacyTableObj: dynamodb.Table.fromTableAttributes(stack, 'Legacy', {
            tableName: 'customers',
            tableStreamArn: ORDERS_STREAM_ARN,
          }),
        }),
        AGNOSTIC,
        'DualReadMigration (migration "orders"): existingLegacyTableObj is table "customers", but the migration ' +
          'names the legacy table "orders-legacy"',
      ],
      [
        'refuses a stream ARN of another table',
        { migration: ordersMigration({ legacyTable: { streamArn: customersStream } }) },
        TEST_ENV,
        `DualReadMigration (migration "orders"): legacy stream ARN ${customersStream} is the stream of table "customers", ` +
          'not of the legacy table "orders-legacy"',
      ],
      [
        'refuses a table ARN given as the stream ARN',
        { migration: ordersMigration({ legacyTable: { streamArn: tableArnAsStream } }) },
        TEST_ENV,
        `DualReadMigration (migration "orders"): legacy stream ARN "${tableArnAsStream}" is not a DynamoDB stream ARN ` +
          '(arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>)',
      ],
      [
        'refuses a stream in another region than the stack',
        {},
        { ...TEST_ENV, region: 'us-east-1' },
        'DualReadMigration (migration "orders"): the legacy stream is in eu-west-1, but the stack deploys to ' +
          'us-east-1; a Lambda reads a DynamoDB stream only in its own region, so deploy the stack to eu-west-1',
      ],
    ])('%s', (_case, props, env, message) => {
      // Act
      const error = errorOf(() => migrationStack(props, env));

      // Assess
      if (typeof message === 'string') expect(error).toBe(message);
      else expect(error).toMatch(message);
    });

    it.each<[string, (stack: Stack) => DualReadMigrationProps, string]>([
      [
        'refuses a missing migration',
        (stack) =>
          ({
            controlTable: new ControlTable(stack, 'ControlTable').table,
          }) as unknown as DualReadMigrationProps,
        'DualReadMigration: props.migration is required: pass the result of defineMigration({...})',
      ],
      [
        'refuses a missing control table',
        () => ({ migration: ordersMigration() }) as DualReadMigrationProps,
        'DualReadMigration (migration "orders"): props.controlTable is required: pass the stack\'s ControlTable table',
      ],
    ])('%s', (_case, props, message) => {
      // Prepare
      const stack = new Stack(newApp(), 'Test');

      // Act & Assess
      expect(errorOf(() => new DualReadMigration(stack, 'Migration', props(stack)))).toBe(message);
    });
  });
});
