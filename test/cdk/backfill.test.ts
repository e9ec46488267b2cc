import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Backfill, type BackfillProps } from '../../lib/backfill';
import { BackfillFunction, backfillDefinition } from '../../stepfunctions/backfill';
import {
  itIsALambdaWorkflow,
  itRefusesInvalidWorkflowProps,
  partStack,
  synthesizedOnce,
} from '../helpers/cdk-parts';
import {
  ORDERS_STREAM_ARN,
  actionsOf,
  dynamoActions,
  expectFunctionPerHandler,
  statementsOf,
} from './helpers';

function backfillStack(props: Partial<BackfillProps> = {}) {
  return partStack(Backfill, 'Backfill', props, ({ stack }) => ({
    syncFunction: lambda.Function.fromFunctionName(stack, 'Sync', 'orders-sync'),
    legacyStreamArn: ORDERS_STREAM_ARN,
  }));
}

describe('Construct: Backfill', () => {
  const synth = synthesizedOnce(() => backfillStack());

  itIsALambdaWorkflow(synth, {
    id: 'Backfill',
    definition: backfillDefinition(),
    placeholders: Object.values(BackfillFunction),
    stateMachineName: 'Test-backfill-orders',
  });

  it('builds four functions from one entry, one per handler', () => {
    expectFunctionPerHandler(synth.template, ['preflight', 'controls', 'page', 'finish'], {
      MIGRATION_ID: 'orders',
      CONTROL_TABLE_NAME: Match.anyValue(),
    });
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.page',
      Environment: {
        Variables: Match.objectLike({ BACKFILL_PAGE_BUDGET_MS: '60000', BACKFILL_WRITE_MODE: 'partiql' }),
      },
    });
  });

  it('gives the page worker Scan on legacy and PutItem + PartiQLInsert + BatchGetItem on new only', () => {
    const statements = statementsOf(synth.template, 'page');
    expect(actionsOf(statements)).toEqual(
      expect.arrayContaining(['dynamodb:Scan', 'dynamodb:PutItem', 'dynamodb:GetItem']),
    );
    expect(dynamoActions(statements)).toEqual([
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
    const preflight = statementsOf(synth.template, 'preflight');
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
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.preflight',
      Timeout: 300,
    });
    for (const other of ['controls', 'page', 'finish']) {
      expect(actionsOf(statementsOf(synth.template, other))).not.toContain('lambda:ListEventSourceMappings');
    }
    expect(dynamoActions(statementsOf(synth.template, 'controls'))).toEqual(['dynamodb:GetItem']);
  });

  it('builds a fifth function, poison, that operators invoke to list, retry and waive unresolved keys', () => {
    const statements = statementsOf(synth.template, 'poison');
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
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.poison',
      Environment: { Variables: Match.objectLike({ BACKFILL_WRITE_MODE: 'partiql' }) },
    });
  });
});

describe('Construct: Backfill props', () => {
  itRefusesInvalidWorkflowProps(backfillStack, [
    ['a page budget over 10 minutes', { pageBudget: Duration.minutes(11) }, /pageBudget/],
    ['a write concurrency of 0', { writeConcurrency: 0 }, /writeConcurrency/],
    ['an unknown write mode', { writeMode: 'batch' as never }, /writeMode/],
  ]);

  it('grants no PartiQLInsert when the write mode is put', () => {
    const { stack } = backfillStack({ writeMode: 'put' });
    const statements = statementsOf(Template.fromStack(stack), 'page');
    expect(actionsOf(statements)).not.toContain('dynamodb:PartiQLInsert');
  });
});
