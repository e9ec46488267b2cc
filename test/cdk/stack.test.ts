import { join } from 'node:path';
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CONTROL_TABLE_KEY } from '../../adapters/tables';
import { metadataNames, type Migration } from '../../core/model';
import { usersMigration } from '../../examples/users/migration';
import {
  ControlTable,
  ControlTableKey,
  CONTROL_TABLE_TTL_ATTRIBUTE,
  DualReadMigration,
  type DualReadMigrationProps,
  DualReadStack,
  EXAMPLE_DEFINITIONS_FILE,
} from '../../lib';
import { ORDERS_STREAM_ARN, nagFindings, newApp, ordersMigration } from './helpers';

/** The orders definitions file the stack's Lambdas bundle (it must exist: esbuild reads it). */
const ORDERS_DEFINITIONS_FILE = join(__dirname, 'fixtures', 'orders-definitions.ts');

const TABLE = 'AWS::DynamoDB::Table';

/** A stack holding a control table and one DualReadMigration built from `props`. */
function migrationStack(
  props: Partial<DualReadMigrationProps> & { readonly migration?: Migration },
  region = 'eu-west-1',
): { stack: Stack; construct: DualReadMigration } {
  const app = newApp();
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region } });
  const control = new ControlTable(stack, 'ControlTable');
  const construct = new DualReadMigration(stack, 'Migration', {
    migration: ordersMigration(),
    controlTable: control.table,
    ...props,
  });
  return { stack, construct };
}

/** The error message `fn` throws. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error, none was thrown');
}

function exampleStack(): { stack: DualReadStack; template: Template } {
  const app = newApp();
  const stack = new DualReadStack(app, 'DualRead-test', {
    migrations: [usersMigration],
    envName: 'test',
    definitionsFile: EXAMPLE_DEFINITIONS_FILE,
    createLegacyTablesForExample: true,
  });
  return { stack, template: Template.fromStack(stack) };
}

function importedStack(migrations: readonly Migration[] = [ordersMigration()]): {
  stack: DualReadStack;
  template: Template;
} {
  const app = newApp();
  const stack = new DualReadStack(app, 'DualRead-prod', {
    migrations,
    envName: 'prod',
    definitionsFile: ORDERS_DEFINITIONS_FILE,
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  return { stack, template: Template.fromStack(stack) };
}

describe('Construct: ControlTable', () => {
  it('creates a pk/sk string table, on demand, with PITR, AWS-managed encryption, TTL expiresAt, retained', () => {
    // Prepare
    const app = newApp();
    const stack = new Stack(app, 'Test');

    // Act
    new ControlTable(stack, 'ControlTable');

    // Assess
    const template = Template.fromStack(stack);
    template.resourceCountIs(TABLE, 1);
    template.hasResource(TABLE, {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ]),
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        TableName: Match.absent(),
      },
    });
  });

  it('uses the key names local mode creates its control table with', () => {
    // Assess
    expect([ControlTableKey.PARTITION_KEY, ControlTableKey.SORT_KEY]).toEqual([
      CONTROL_TABLE_KEY.partitionKey.name,
      CONTROL_TABLE_KEY.sortKey?.name,
    ]);
    expect(CONTROL_TABLE_TTL_ATTRIBUTE).toBe('expiresAt');
  });

  it('applies overrides over the defaults, ignoring undefined ones', () => {
    // Prepare
    const stack = new Stack(newApp(), 'Test');

    // Act
    new ControlTable(stack, 'ControlTable', {
      tableProps: { removalPolicy: RemovalPolicy.DESTROY, billingMode: undefined, deletionProtection: true },
    });

    // Assess
    Template.fromStack(stack).hasResource(TABLE, {
      DeletionPolicy: 'Delete',
      Properties: { BillingMode: 'PAY_PER_REQUEST', DeletionProtectionEnabled: true },
    });
  });

  it('refuses tableProps that change the key or the TTL attribute', () => {
    // Prepare
    const stack = new Stack(newApp(), 'Test');
    const tableProps = { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } };

    // Act & Assess
    expect(() => new ControlTable(stack, 'ControlTable', { tableProps: tableProps as object })).toThrow(
      "ControlTable: tableProps may not set partitionKey: the control table's key (pk, sk) and TTL attribute (expiresAt) are what every handler reads and writes",
    );
  });
});

describe('Construct: DualReadMigration', () => {
  it('creates the new table with the migration key, metadata TTL, on demand, PITR, encryption, retained', () => {
    // Act
    const { stack, construct } = migrationStack({});

    // Assess
    const template = Template.fromStack(stack);
    template.hasResource(TABLE, {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        TableName: 'orders',
        KeySchema: [
          { AttributeName: 'PK', KeyType: 'HASH' },
          { AttributeName: 'SK', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'PK', AttributeType: 'S' },
          { AttributeName: 'SK', AttributeType: 'N' },
        ]),
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: metadataNames('_dr_').ttl, Enabled: true },
        StreamSpecification: Match.absent(),
        Tags: Match.arrayWith([{ Key: 'dualread:migration', Value: 'orders' }]),
      },
    });
    expect(construct.newTable).toBeDefined();
    expect(construct.newTableInterface).toBe(construct.newTable);
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
    it('refuses both existingNewTableObj and newTableProps', () => {
      // Prepare
      const stack = new Stack(newApp(), 'Test');
      const existing = dynamodb.Table.fromTableName(stack, 'Existing', 'orders');

      // Act & Assess
      expect(
        errorOf(
          () =>
            new DualReadMigration(stack, 'Migration', {
              migration: ordersMigration(),
              controlTable: new ControlTable(stack, 'ControlTable').table,
              existingNewTableObj: existing,
              newTableProps: { deletionProtection: true },
            }),
        ),
      ).toBe(
        'DualReadMigration (migration "orders"): existingNewTableObj and newTableProps were both given: pass ' +
          'existingNewTableObj to use an existing table, or newTableProps to create one, not both',
      );
    });

    it('refuses newTableProps when the migration imports the new table', () => {
      expect(
        errorOf(() =>
          migrationStack({
            migration: ordersMigration({ newTable: { create: false } }),
            newTableProps: { deletionProtection: true },
          }),
        ),
      ).toBe(
        'DualReadMigration (migration "orders"): newTableProps were given, but the migration imports the new table ' +
          '"orders" (newTable.create is false); remove newTableProps, or set newTable.create to true to let the stack create it',
      );
    });

    it('refuses newTableProps that set the name, key or TTL attribute', () => {
      // Prepare: the type forbids these; a JavaScript caller or a cast could still pass them.
      const newTableProps = { tableName: 'other', timeToLiveAttribute: 'expires' } as object;

      // Act & Assess
      expect(errorOf(() => migrationStack({ newTableProps }))).toBe(
        'DualReadMigration (migration "orders"): newTableProps may not set tableName, timeToLiveAttribute: the new ' +
          "table's name, key and TTL attribute come from the migration definition (newTable.tableName, newTable.key, " +
          'metadataPrefix), which the Lambdas use too',
      );
    });

    it('refuses an existingNewTableObj that is another table', () => {
      // Prepare
      const stack = new Stack(newApp(), 'Test');
      const other = dynamodb.Table.fromTableName(stack, 'Other', 'not-orders');

      // Act & Assess
      expect(
        errorOf(
          () =>
            new DualReadMigration(stack, 'Migration', {
              migration: ordersMigration(),
              controlTable: new ControlTable(stack, 'ControlTable').table,
              existingNewTableObj: other,
            }),
        ),
      ).toBe(
        'DualReadMigration (migration "orders"): existingNewTableObj is table "not-orders", but the migration names ' +
          'the new table "orders"; they must be the same table',
      );
    });

    it('refuses an imported legacy table whose stream ARN is unknown, telling to set legacyTable.streamArn', () => {
      expect(
        errorOf(() =>
          migrationStack({ migration: ordersMigration({ legacyTable: { streamArn: undefined } }) }),
        ),
      ).toBe(
        'DualReadMigration (migration "orders"): the legacy table "orders-legacy" is imported, but its stream ARN is ' +
          'unknown. Enable a NEW_AND_OLD_IMAGES stream on it, then set legacyTable.streamArn in the migration ' +
          'definition to its LatestStreamArn (aws dynamodb describe-table --table-name orders-legacy --query ' +
          'Table.LatestStreamArn)',
      );
    });

    it('refuses an existingLegacyTableObj without a stream when the migration has no stream ARN either', () => {
      // Prepare
      const stack = new Stack(newApp(), 'Test');
      const legacy = dynamodb.Table.fromTableName(stack, 'Legacy', 'orders-legacy');

      // Act & Assess
      expect(
        errorOf(
          () =>
            new DualReadMigration(stack, 'Migration', {
              migration: ordersMigration({ legacyTable: { streamArn: undefined } }),
              controlTable: new ControlTable(stack, 'ControlTable').table,
              existingLegacyTableObj: legacy,
            }),
        ),
      ).toMatch(
        /is imported, but its stream ARN is unknown\..*, or import existingLegacyTableObj with tableStreamArn$/,
      );
    });

    it('refuses both existingLegacyTableObj and createLegacyTableForExample', () => {
      // Prepare
      const stack = new Stack(newApp(), 'Test');
      const legacy = dynamodb.Table.fromTableAttributes(stack, 'Legacy', {
        tableName: 'orders-legacy',
        tableStreamArn: ORDERS_STREAM_ARN,
      });

      // Act & Assess
      expect(
        errorOf(
          () =>
            new DualReadMigration(stack, 'Migration', {
              migration: ordersMigration({ legacyTable: { streamArn: undefined } }),
              controlTable: new ControlTable(stack, 'ControlTable').table,
              existingLegacyTableObj: legacy,
              createLegacyTableForExample: true,
            }),
        ),
      ).toBe(
        'DualReadMigration (migration "orders"): existingLegacyTableObj and createLegacyTableForExample were both ' +
          'given: use an existing legacy table, or create one for an example, not both',
      );
    });

    it('refuses createLegacyTableForExample for a migration that names an existing stream', () => {
      expect(errorOf(() => migrationStack({ createLegacyTableForExample: true }))).toBe(
        'DualReadMigration (migration "orders"): createLegacyTableForExample would create a new table ' +
          '"orders-legacy", but legacyTable.streamArn names the stream of an existing one; remove streamArn for an ' +
          'example stack, or do not create the legacy table',
      );
    });

    it('refuses an existingLegacyTableObj whose stream differs from legacyTable.streamArn', () => {
      // Prepare
      const stack = new Stack(newApp(), 'Test');
      const otherStream = ORDERS_STREAM_ARN.replace('2026-01-01', '2026-02-02');
      const legacy = dynamodb.Table.fromTableAttributes(stack, 'Legacy', {
        tableName: 'orders-legacy',
        tableStreamArn: otherStream,
      });

      // Act & Assess
      expect(
        errorOf(
          () =>
            new DualReadMigration(stack, 'Migration', {
              migration: ordersMigration(),
              controlTable: new ControlTable(stack, 'ControlTable').table,
              existingLegacyTableObj: legacy,
            }),
        ),
      ).toBe(
        `DualReadMigration (migration "orders"): existingLegacyTableObj has stream ${otherStream}, but ` +
          `legacyTable.streamArn is ${ORDERS_STREAM_ARN}; they must be the same stream`,
      );
    });

    it('refuses an existingLegacyTableObj that is another table', () => {
      // Prepare
      const stack = new Stack(newApp(), 'Test');
      const legacy = dynamodb.Table.fromTableAttributes(stack, 'Legacy', {
        tableName: 'customers',
        tableStreamArn: ORDERS_STREAM_ARN,
      });

      // Act & Assess
      expect(
        errorOf(
          () =>
            new DualReadMigration(stack, 'Migration', {
              migration: ordersMigration(),
              controlTable: new ControlTable(stack, 'ControlTable').table,
              existingLegacyTableObj: legacy,
            }),
        ),
      ).toBe(
        'DualReadMigration (migration "orders"): existingLegacyTableObj is table "customers", but the migration ' +
          'names the legacy table "orders-legacy"',
      );
    });

    it('refuses a stream ARN of another table', () => {
      // Prepare
      const streamArn =
        'arn:aws:dynamodb:eu-west-1:123456789012:table/customers/stream/2026-01-01T00:00:00.000';

      // Act & Assess
      expect(
        errorOf(() => migrationStack({ migration: ordersMigration({ legacyTable: { streamArn } }) })),
      ).toBe(
        `DualReadMigration (migration "orders"): legacy stream ARN ${streamArn} is the stream of table "customers", ` +
          'not of the legacy table "orders-legacy"',
      );
    });

    it('refuses a table ARN given as the stream ARN', () => {
      // Prepare
      const streamArn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders-legacy';

      // Act & Assess
      expect(
        errorOf(() => migrationStack({ migration: ordersMigration({ legacyTable: { streamArn } }) })),
      ).toBe(
        `DualReadMigration (migration "orders"): legacy stream ARN "${streamArn}" is not a DynamoDB stream ARN ` +
          '(arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>)',
      );
    });

    it('refuses a stream in another region than the stack', () => {
      expect(errorOf(() => migrationStack({}, 'us-east-1'))).toBe(
        'DualReadMigration (migration "orders"): the legacy stream is in eu-west-1, but the stack deploys to ' +
          'us-east-1; a Lambda reads a DynamoDB stream only in its own region, so deploy the stack to eu-west-1',
      );
    });

    it('refuses a missing migration', () => {
      // Prepare
      const stack = new Stack(newApp(), 'Test');
      const props = {
        controlTable: new ControlTable(stack, 'ControlTable').table,
      } as unknown as DualReadMigrationProps;

      // Act & Assess
      expect(errorOf(() => new DualReadMigration(stack, 'Migration', props))).toBe(
        'DualReadMigration: props.migration is required: pass the result of defineMigration({...})',
      );
    });

    it('refuses a missing control table', () => {
      // Prepare
      const stack = new Stack(newApp(), 'Test');
      const props = { migration: ordersMigration() } as DualReadMigrationProps;

      // Act & Assess
      expect(errorOf(() => new DualReadMigration(stack, 'Migration', props))).toBe(
        'DualReadMigration (migration "orders"): props.controlTable is required: pass the stack\'s ControlTable table',
      );
    });
  });
});

describe('Stack: DualReadStack', () => {
  it('creates, for the example, the control, new and legacy tables, all destroyed with the stack', () => {
    // Act
    const { template } = exampleStack();

    // Assess
    template.resourceCountIs(TABLE, 3);
    template.hasResource(TABLE, {
      DeletionPolicy: 'Delete',
      Properties: {
        TableName: 'users',
        KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }],
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      },
    });
    template.hasResource(TABLE, {
      DeletionPolicy: 'Delete',
      Properties: {
        TableName: 'app-data',
        KeySchema: [
          { AttributeName: 'PK', KeyType: 'HASH' },
          { AttributeName: 'SK', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: '_dr_ttl', Enabled: true },
      },
    });
    template.hasResource(TABLE, {
      DeletionPolicy: 'Delete',
      Properties: { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } },
    });
    template.resourcePropertiesCountIs(
      TABLE,
      { Tags: Match.arrayWith([{ Key: 'dualread:env', Value: 'test' }]) },
      3,
    );
  });

  it('outputs the table names, the legacy stream and the CDC dead-letter queue of each migration', () => {
    // Act
    const { template } = exampleStack();

    // Assess
    const outputs = template.findOutputs('*');
    expect(Object.keys(outputs).sort()).toEqual([
      'ControlTableName',
      'UsersBackfillPoisonFunctionName',
      'UsersBackfillStateMachineArn',
      'UsersDeadLetterQueueUrl',
      'UsersLegacyStreamArn',
      'UsersLegacyTableName',
      'UsersNewTableName',
    ]);
    template.hasOutput('UsersLegacyStreamArn', { Value: { 'Fn::GetAtt': [Match.anyValue(), 'StreamArn'] } });
    template.hasOutput('UsersBackfillStateMachineArn', {
      Value: { Ref: Match.stringLikeRegexp('BackfillStateMachine') },
    });
    // A queue's Ref is its URL (aws sqs receive-message --queue-url ...; runbook "CDC dead letters").
    template.hasOutput('UsersDeadLetterQueueUrl', {
      Value: { Ref: Match.stringLikeRegexp('StreamSyncDeadLetterQueue') },
    });
  });

  it('imports the legacy table, and retains the tables it creates, when not an example', () => {
    // Act
    const { template } = importedStack();

    // Assess: control and new table only, both retained.
    template.resourceCountIs(TABLE, 2);
    template.resourcePropertiesCountIs(TABLE, { TableName: 'orders-legacy' }, 0);
    expect(
      Object.values(template.findResources(TABLE)).map(
        (r) => (r as { DeletionPolicy: string }).DeletionPolicy,
      ),
    ).toEqual(['Retain', 'Retain']);
    template.hasOutput('OrdersLegacyTableName', { Value: 'orders-legacy' });
    template.hasOutput('OrdersLegacyStreamArn', { Value: ORDERS_STREAM_ARN });
    template.hasOutput('OrdersNewTableName', { Value: { Ref: Match.anyValue() } });
  });

  it('creates one control table for several migrations', () => {
    // Prepare
    const second = ordersMigration({
      id: 'order-lines',
      legacyTable: {
        tableName: 'order-lines-legacy',
        streamArn:
          'arn:aws:dynamodb:eu-west-1:123456789012:table/order-lines-legacy/stream/2026-01-01T00:00:00.000',
      },
      newTable: { tableName: 'order-lines' },
    });

    // Act
    const { stack, template } = importedStack([ordersMigration(), second]);

    // Assess
    template.resourceCountIs(TABLE, 3);
    template.resourcePropertiesCountIs(TABLE, { TimeToLiveSpecification: { AttributeName: 'expiresAt' } }, 1);
    expect(stack.migrations.map((m) => m.migration.id)).toEqual(['orders', 'order-lines']);
    template.hasOutput('OrderLinesNewTableName', {});
  });

  it('refuses a relative definitions file', () => {
    expect(
      errorOf(
        () =>
          new DualReadStack(newApp(), 'DualRead-x', {
            migrations: [usersMigration],
            envName: 'x',
            definitionsFile: 'examples/users/migrations.ts',
          }),
      ),
    ).toBe(
      'DualReadStack: definitionsFile must be the absolute path of the definitions file, not "examples/users/migrations.ts"',
    );
  });

  it('refuses two migrations with the same id', () => {
    expect(errorOf(() => importedStack([ordersMigration(), ordersMigration()]))).toBe(
      'migration "orders": the id is defined twice; migration ids must be unique',
    );
  });
});

describe('cdk-nag: AwsSolutions', () => {
  it('finds nothing unacknowledged in the example stack', () => {
    // Prepare
    const app = newApp();
    new DualReadStack(app, 'DualRead-test', {
      migrations: [usersMigration],
      envName: 'test',
      definitionsFile: EXAMPLE_DEFINITIONS_FILE,
      createLegacyTablesForExample: true,
    });

    // Act & Assess
    expect(nagFindings(app)).toEqual([]);
  });

  it('finds nothing unacknowledged in a stack that imports its legacy tables', () => {
    // Prepare
    const app = newApp();
    new DualReadStack(app, 'DualRead-prod', {
      migrations: [ordersMigration()],
      envName: 'prod',
      definitionsFile: ORDERS_DEFINITIONS_FILE,
      env: { account: '123456789012', region: 'eu-west-1' },
    });

    // Act & Assess
    expect(nagFindings(app)).toEqual([]);
  });

  it('reports unacknowledged warnings and errors (the check can fail)', () => {
    // Prepare: a table without point-in-time recovery (a warning), a queue without a DLQ or TLS (errors,
    // which make synth throw), and a second table whose finding is acknowledged.
    const app = newApp();
    const stack = new Stack(app, 'Test');
    new dynamodb.Table(stack, 'Bare', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } });
    new sqs.Queue(stack, 'Queue');
    const acknowledged = new dynamodb.Table(stack, 'Acknowledged', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    });
    Validations.of(acknowledged).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason: 'test of an acknowledgement',
    });

    // Act
    const findings = nagFindings(app);

    // Assess
    expect(findings.map((f) => [f.rule, f.severity, f.paths])).toEqual([
      ['AwsSolutions-DDB3', 'warning', ['Test/Bare/Resource']],
      ['AwsSolutions-SQS3', 'error', ['Test/Queue/Resource']],
      ['AwsSolutions-SQS4', 'error', ['Test/Queue/Resource']],
    ]);
  });
});
