import { type App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CONTROL_TABLE_KEY } from '../../adapters/tables';
import { synthWithNag } from '../../bin/nag';
import { type Migration } from '../../core/model';
import { usersMigration } from '../../examples/users/migration';
import {
  ControlTableKey,
  ControlTable,
  CONTROL_TABLE_TTL_ATTRIBUTE,
  DualReadStack,
  EXAMPLE_DEFINITIONS_FILE,
} from '../../lib';
import { statefulTable } from '../helpers/cdk-parts';
import {
  ORDERS_DEFINITIONS_FILE,
  ORDERS_STREAM_ARN,
  errorOf,
  nagFindings,
  newApp,
  ordersMigration,
} from './helpers';

const TABLE = 'AWS::DynamoDB::Table';

/** The example app: the users migration, its legacy table created, in an environment-agnostic stack. */
function exampleApp(): { app: App; stack: DualReadStack } {
  const app = newApp();
  const stack = new DualReadStack(app, 'DualRead-test', {
    migrations: [usersMigration],
    envName: 'test',
    definitionsFile: EXAMPLE_DEFINITIONS_FILE,
    createLegacyTablesForExample: true,
  });
  return { app, stack };
}

/** A production-like app: `migrations` (the orders one by default), legacy tables imported. */
function importedApp(migrations: readonly Migration[] = [ordersMigration()]): {
  app: App;
  stack: DualReadStack;
} {
  const app = newApp();
  const stack = new DualReadStack(app, 'DualRead-prod', {
    migrations,
    envName: 'prod',
    definitionsFile: ORDERS_DEFINITIONS_FILE,
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  return { app, stack };
}

/** A synthesized stack: its root template, and the template of each migration's nested stack. */
interface Synthesized {
  readonly stack: DualReadStack;
  readonly root: Template;
  readonly nested: readonly Template[];
}

function synthesized(built: { stack: DualReadStack }): Synthesized {
  const { stack } = built;
  return {
    stack,
    root: Template.fromStack(stack),
    nested: stack.migrationStacks.map((n) => Template.fromStack(n)),
  };
}

/** The tables of every template of `s`, root first. */
function tablesOf(s: Synthesized): Array<{ DeletionPolicy: string; Properties: Record<string, unknown> }> {
  return [s.root, ...s.nested].flatMap(
    (t) =>
      Object.values(t.findResources(TABLE)) as Array<{
        DeletionPolicy: string;
        Properties: Record<string, unknown>;
      }>,
  );
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
    template.hasResource(
      TABLE,
      statefulTable(['pk', 'S'], ['sk', 'S'], {
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        TableName: Match.absent(),
      }),
    );
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

describe('Stack: DualReadStack', () => {
  let example: Synthesized;
  let imported: Synthesized;
  beforeAll(() => {
    example = synthesized(exampleApp());
    imported = synthesized(importedApp());
  });

  it('creates, for the example, the control table in the root and the new and legacy tables in the migration stack, all destroyed with the stack', () => {
    // Assess
    const [nested] = example.nested;
    example.root.resourceCountIs(TABLE, 1);
    example.root.hasResource(TABLE, {
      DeletionPolicy: 'Delete',
      Properties: { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } },
    });
    nested?.resourceCountIs(TABLE, 2);
    nested?.hasResource(TABLE, {
      DeletionPolicy: 'Delete',
      Properties: {
        TableName: 'users',
        KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }],
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      },
    });
    nested?.hasResource(TABLE, {
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
    const tags = tablesOf(example).map((t) => t.Properties.Tags);
    expect(tags).toEqual(Array(3).fill(expect.arrayContaining([{ Key: 'dualread:env', Value: 'test' }])));
  });

  it('puts each migration in a nested stack of its own, named after the migration', () => {
    // Assess
    expect(example.stack.migrationStacks.map((n) => n.node.id)).toEqual(['Migration-users']);
    example.root.resourceCountIs('AWS::CloudFormation::Stack', 1);
    example.root.resourceCountIs('AWS::Lambda::Function', 0);
    expect(example.nested[0]?.findResources('AWS::Lambda::Function')).not.toEqual({});
  });

  it('outputs, from the root stack, the table names, the legacy stream and the CDC dead-letter queue of each migration', () => {
    // Assess
    const outputs = example.root.findOutputs('*');
    expect(Object.keys(outputs).sort()).toEqual([
      'AlarmTopicArn',
      'ControlTableName',
      'UsersBackfillPoisonFunctionName',
      'UsersBackfillStateMachineArn',
      'UsersDashboardName',
      'UsersDeadLetterQueueUrl',
      'UsersLegacyStreamArn',
      'UsersLegacyTableName',
      'UsersNewTableName',
      'UsersReadApiUrl',
      'UsersSyncFunctionName',
      'UsersVerificationStateMachineArn',
    ]);
    // Each reads an output of the migration's nested stack.
    const nestedOutput = (pattern: string) => ({
      Value: {
        'Fn::GetAtt': [
          Match.stringLikeRegexp('^MigrationusersNestedStack'),
          Match.stringLikeRegexp(`^Outputs\\..*${pattern}`),
        ],
      },
    });
    example.root.hasOutput('UsersLegacyStreamArn', nestedOutput('LegacyTable.*StreamArn$'));
    example.root.hasOutput('UsersBackfillStateMachineArn', nestedOutput('BackfillStateMachine.*Ref$'));
    // `dualread cutover` finds the sync's event source mapping by function name (docs/cutover.md).
    example.root.hasOutput('UsersSyncFunctionName', nestedOutput('StreamSync.*Ref$'));
    // `dualread verify` and `dualread cutover` start this state machine on AWS.
    example.root.hasOutput(
      'UsersVerificationStateMachineArn',
      nestedOutput('VerificationStateMachine.*Ref$'),
    );
    // A queue's Ref is its URL (aws sqs receive-message --queue-url ...; runbook "CDC dead letters").
    example.root.hasOutput('UsersDeadLetterQueueUrl', nestedOutput('StreamSyncDeadLetterQueue.*Ref$'));
  });

  it('imports the legacy table, and retains the tables it creates, when not an example', () => {
    // Assess: control and new table only, both retained.
    const tables = tablesOf(imported);
    expect(tables.map((t) => t.DeletionPolicy)).toEqual(['Retain', 'Retain']);
    expect(tables.filter((t) => t.Properties.TableName === 'orders-legacy')).toEqual([]);
    imported.root.hasOutput('OrdersLegacyTableName', { Value: 'orders-legacy' });
    imported.root.hasOutput('OrdersLegacyStreamArn', { Value: ORDERS_STREAM_ARN });
    imported.root.hasOutput('OrdersNewTableName', {
      Value: { 'Fn::GetAtt': [Match.anyValue(), Match.stringLikeRegexp('NewTable.*Ref$')] },
    });
  });

  it('names the state machines after the root stack, not the nested stack (whose name is a token)', () => {
    // Assess
    const names = imported.nested.flatMap((t) =>
      Object.values(t.findResources('AWS::StepFunctions::StateMachine')).map(
        (r) => (r as { Properties: { StateMachineName: unknown } }).Properties.StateMachineName,
      ),
    );
    expect(names.sort()).toEqual(['DualRead-prod-backfill-orders', 'DualRead-prod-verify-orders']);
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
    expect(errorOf(() => importedApp([ordersMigration(), ordersMigration()]))).toBe(
      'migration "orders": the id is defined twice; migration ids must be unique',
    );
  });
});

describe('cdk-nag: AwsSolutions and Serverless', () => {
  it.each<[string, () => { app: App }]>([
    ['the example stack', exampleApp],
    ['a stack that imports its legacy tables', () => importedApp()],
  ])('finds nothing unacknowledged in %s', (_stack, build) => {
    // Prepare
    const { app } = build();

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
      ['Serverless-SQSRedrivePolicy', 'error', ['Test/Queue/Resource']],
    ]);
  });

  it('fails the synth of the app (bin/app.ts) on an unacknowledged finding, a warning included', () => {
    // Prepare: a table without point-in-time recovery, which AwsSolutions reports as a warning only.
    const app = newApp();
    const stack = new Stack(app, 'Test');
    new dynamodb.Table(stack, 'Bare', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } });

    // Act & Assess
    expect(errorOf(() => synthWithNag(app))).toMatch(
      /^cdk-nag: 1 unacknowledged finding\(s\).*\n {2}warning AwsSolutions-DDB3: Test\/Bare\/Resource$/s,
    );
  });
});
