/**
 * Many migrations in one deployment: each `DualReadMigration` lives in a nested stack of its own, so a
 * definitions file of eight migrations (more than the five one CloudFormation stack held) synthesizes,
 * passes cdk-nag, and keeps every stack far under CloudFormation's 500 resources.
 */
import { type App } from 'aws-cdk-lib';
import { type Template } from 'aws-cdk-lib/assertions';
import { DualReadStack } from '../../lib';
import { type Finding, ORDERS_DEFINITIONS_FILE, nagFindings, newApp, ordersLike } from './helpers';
import { stackTemplates } from './templates';

const IDS = ['orders-1', 'orders-2', 'orders-3', 'orders-4', 'orders-5', 'orders-6', 'orders-7', 'orders-8'];
/** CloudFormation's limit of resources per stack (root and nested alike). */
const STACK_RESOURCE_LIMIT = 500;
/** Root resources whatever the number of migrations: control table, alarm topic, its key and policy. */
const fixedRootResources = 4;

function resourceCount(t: Template): number {
  return Object.keys((t.toJSON() as { Resources: object }).Resources).length;
}

describe('Stack: eight migrations in one definitions file', () => {
  let app: App;
  let stack: DualReadStack;
  let nag: Finding[];
  let root: Template;
  let nested: Template[];
  beforeAll(() => {
    app = newApp();
    stack = new DualReadStack(app, 'DualRead-prod', {
      migrations: IDS.map(ordersLike),
      envName: 'prod',
      definitionsFile: ORDERS_DEFINITIONS_FILE,
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    // One synth: cdk-nag runs during it; the templates are read from the same synthesized app.
    nag = nagFindings(app);
    [root, ...nested] = stackTemplates(stack) as [Template, ...Template[]];
  });

  it('synthesizes with nothing unacknowledged by cdk-nag, nested stacks included', () => {
    // Assess
    expect(nag).toEqual([]);
  });

  it('puts each migration in its own nested stack, each far under the resource limit', () => {
    // Assess
    expect(stack.migrationStacks.map((n) => n.node.id)).toEqual(IDS.map((id) => `Migration-${id}`));
    expect(nested).toHaveLength(IDS.length);
    for (const t of nested) {
      expect(resourceCount(t)).toBeLessThan(STACK_RESOURCE_LIMIT / 2);
      t.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    }
  });

  it('keeps in the root stack what migrations share plus one nested stack resource per migration', () => {
    // Assess: control table, alarm topic and its key, CDK metadata; then one stack per migration.
    root.resourceCountIs('AWS::CloudFormation::Stack', IDS.length);
    root.resourceCountIs('AWS::DynamoDB::Table', 1);
    expect(resourceCount(root)).toBe(fixedRootResources + IDS.length);
  });

  it("outputs every migration's values from the root stack, under the ids the CLI reads", () => {
    // Assess
    const outputs = Object.keys(root.findOutputs('*'));
    for (const id of IDS) {
      const p = `Orders${id.slice('orders-'.length)}`;
      expect(outputs).toEqual(
        expect.arrayContaining(
          ['LegacyTableName', 'LegacyStreamArn', 'NewTableName', 'DeadLetterQueueUrl', 'ReadApiUrl'].map(
            (o) => `${p}${o}`,
          ),
        ),
      );
    }
  });
});
