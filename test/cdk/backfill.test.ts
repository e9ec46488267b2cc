import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Backfill, type BackfillProps } from '../../lib/backfill';
import { BackfillFunction, backfillDefinition } from '../../stepfunctions/backfill';
import {
  type Finding,
  ORDERS_STREAM_ARN,
  actionsOf,
  constructStack,
  allStatements,
  expectDefinitionDeployed,
  expectWorkflowStateMachine,
  statementsOf,
  synthesize,
} from './helpers';

function backfillStack(props: Partial<BackfillProps> = {}) {
  return constructStack(({ stack, common, legacyTable }) => {
    const syncFunction = lambda.Function.fromFunctionName(stack, 'Sync', 'orders-sync');
    return new Backfill(stack, 'Backfill', {
      ...common,
      legacyTable,
      syncFunction,
      legacyStreamArn: ORDERS_STREAM_ARN,
      ...props,
    });
  });
}

describe('Construct: Backfill', () => {
  // Bundling takes seconds: one stack is synthesized and shared by the assertions.
  let template: Template;
  let nag: Finding[];
  beforeAll(() => ({ nag, template } = synthesize(backfillStack())));

  it('deploys the same definition local mode runs, apart from the function ARNs', () => {
    expectDefinitionDeployed(template, backfillDefinition(), Object.values(BackfillFunction));
  });

  it('creates a standard state machine with a fixed name, full logging and tracing', () => {
    expectWorkflowStateMachine(template, 'Test-backfill-orders');
  });

  it('builds four functions from one entry, one per handler', () => {
    for (const handler of ['preflight', 'controls', 'page', 'finish']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Handler: `index.${handler}`,
        Environment: {
          Variables: Match.objectLike({ MIGRATION_ID: 'orders', CONTROL_TABLE_NAME: Match.anyValue() }),
        },
      });
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.page',
      Environment: {
        Variables: Match.objectLike({ BACKFILL_PAGE_BUDGET_MS: '60000', BACKFILL_WRITE_MODE: 'partiql' }),
      },
    });
  });

  it('gives the page worker Scan on legacy and PutItem + PartiQLInsert + BatchGetItem on new only', () => {
    const statements = statementsOf(template, 'page');
    expect(actionsOf(statements)).toEqual(
      expect.arrayContaining(['dynamodb:Scan', 'dynamodb:PutItem', 'dynamodb:GetItem']),
    );
    expect(actionsOf(statements).filter((a) => a.startsWith('dynamodb:'))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PartiQLInsert',
      'dynamodb:PutItem',
      'dynamodb:PutItem',
      'dynamodb:Scan',
    ]);
    const copy = statements.find((s) => s.Sid === 'CopyToNewTable');
    // BatchGetItem: whose item a PartiQL INSERT met (a foreign one or dualread's), read consistently.
    expect(copy?.Action).toEqual(['dynamodb:BatchGetItem', 'dynamodb:PartiQLInsert', 'dynamodb:PutItem']);
    expect(JSON.stringify(copy?.Resource)).toContain('NewTable');
    const scan = statements.find((s) => s.Sid === 'ScanLegacy');
    expect(scan?.Resource).toBe('arn:aws:dynamodb:eu-west-1:123456789012:table/orders-legacy');
    const control = statements.find((s) => s.Sid === 'MigrationControlItems');
    expect(control?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['MIGRATION#orders'] },
    });
  });

  it('lets only the preflight list event source mappings, describe both tables and search new for foreign items', () => {
    const preflight = statementsOf(template, 'preflight');
    expect(actionsOf(preflight)).toEqual(
      expect.arrayContaining(['lambda:ListEventSourceMappings', 'dynamodb:DescribeTable']),
    );
    const legacy = preflight.find((s) => s.Sid === 'LegacyCurrentStream');
    expect(legacy?.Action).toBe('dynamodb:DescribeTable');
    expect(legacy?.Resource).toBe('arn:aws:dynamodb:eu-west-1:123456789012:table/orders-legacy');
    const newTable = preflight.find((s) => s.Sid === 'NewTableExists');
    expect(newTable?.Action).toEqual(['dynamodb:DescribeTable', 'dynamodb:Scan']);
    expect(JSON.stringify(newTable?.Resource)).toContain('NewTable');
    // The search for foreign items may take minutes on a large new table (its budget is 4).
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.preflight', Timeout: 300 });
    for (const other of ['controls', 'page', 'finish']) {
      expect(actionsOf(statementsOf(template, other))).not.toContain('lambda:ListEventSourceMappings');
    }
    expect(actionsOf(statementsOf(template, 'controls')).filter((a) => a.startsWith('dynamodb:'))).toEqual([
      'dynamodb:GetItem',
    ]);
  });

  it('builds a fifth function, poison, that operators invoke to list, retry and waive unresolved keys', () => {
    const statements = statementsOf(template, 'poison');
    const legacy = statements.find((s) => s.Sid === 'ReadLegacyItems');
    expect(legacy?.Action).toBe('dynamodb:GetItem');
    expect(legacy?.Resource).toBe('arn:aws:dynamodb:eu-west-1:123456789012:table/orders-legacy');
    const copy = statements.find((s) => s.Sid === 'CopyToNewTable');
    expect(copy?.Action).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PartiQLInsert',
      'dynamodb:PutItem',
    ]);
    expect(actionsOf(statements)).not.toContain('dynamodb:Scan');
    const control = statements.find((s) => s.Sid === 'MigrationControlItems');
    expect(control?.Action).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.poison',
      Environment: { Variables: Match.objectLike({ BACKFILL_WRITE_MODE: 'partiql' }) },
    });
  });

  it('lets the state machine start executions of itself only (Distributed Map children, continuation)', () => {
    const statements = allStatements(template);
    const start = statements.find((s) => s.Sid === 'StartItself');
    expect(start?.Resource).toBe('arn:aws:states:eu-west-1:123456789012:stateMachine:Test-backfill-orders');
    const manage = statements.find((s) => s.Sid === 'ManageOwnExecutions');
    expect(manage?.Resource).toBe('arn:aws:states:eu-west-1:123456789012:execution:Test-backfill-orders/*');
  });

  it('alarms on a failed execution', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('passes cdk-nag with a written reason for every acknowledgement', () => {
    expect(nag.filter((f) => f.paths.some((p) => p.includes('/Backfill/')))).toEqual([]);
  });
});

describe('Construct: Backfill props', () => {
  it.each<[string, Partial<BackfillProps>, RegExp]>([
    ['an invalid state machine name', { stateMachineName: 'has spaces' }, /stateMachineName/],
    ['a page budget over 10 minutes', { pageBudget: Duration.minutes(11) }, /pageBudget/],
    ['a write concurrency of 0', { writeConcurrency: 0 }, /writeConcurrency/],
    ['an unknown write mode', { writeMode: 'batch' as never }, /writeMode/],
  ])('refuses %s', (_case, props, message) => {
    expect(() => backfillStack(props)).toThrow(message);
  });

  it('grants no PartiQLInsert when the write mode is put', () => {
    const { stack } = backfillStack({ writeMode: 'put' });
    const statements = statementsOf(Template.fromStack(stack), 'page');
    expect(actionsOf(statements)).not.toContain('dynamodb:PartiQLInsert');
  });
});
