/**
 * Helpers of the CDK tests: an App with the project's feature flags, test migrations, a test stack
 * with the tables a construct is wired to, and the cdk-nag findings of a synthesized app.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { type NagFinding, addNagChecks, synthFindings } from '../../bin/nag';
import { type Migration, type MigrationInput, defineMigration } from '../../core/model';
import { ControlTable, EXAMPLE_DEFINITIONS_FILE } from '../../lib';
import { type AslMachine, taskStates } from '../../stepfunctions/asl';
import { ORDERS_STREAM_ARN, ordersInput } from './fixtures/orders-definitions';

const CDK_JSON = join(__dirname, '..', '..', 'cdk.json');

/**
 * An App with cdk.json's feature flags, so tests synthesize what `cdk synth` does.
 *
 * Lambda bundling is skipped unless `bundle` is set (`aws:cdk:bundling-stacks: []` makes NodejsFunction
 * use a placeholder asset): every synth of the full stack would otherwise run esbuild once per
 * function, which dominates the CDK tests. `nodejs-function.test.ts` bundles for real and checks the
 * bundle; the templates the other tests assert on are the same either way apart from asset hashes.
 */
export function newApp(
  context: Record<string, unknown> = {},
  options: { readonly bundle?: boolean } = {},
): App {
  const { context: flags } = JSON.parse(readFileSync(CDK_JSON, 'utf8')) as {
    context: Record<string, unknown>;
  };
  const bundling = options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] };
  return new App({ context: { ...flags, ...bundling, ...context } });
}

export { ORDERS_STREAM_ARN };

/** The orders definitions file (`ordersInput`), for stacks whose Lambdas bundle it (it must exist: esbuild reads it). */
export const ORDERS_DEFINITIONS_FILE = join(__dirname, 'fixtures', 'orders-definitions.ts');

/** A migration of an existing (imported) legacy table `orders-legacy` with a known stream. */
export function ordersMigration(
  overrides: {
    readonly id?: string;
    readonly legacyTable?: Partial<MigrationInput['legacyTable']>;
    readonly newTable?: Partial<MigrationInput['newTable']>;
    readonly metadataPrefix?: string;
  } = {},
): Migration {
  return defineMigration({
    ...ordersInput,
    ...(overrides.id ? { id: overrides.id } : {}),
    ...(overrides.metadataPrefix ? { metadataPrefix: overrides.metadataPrefix } : {}),
    legacyTable: { ...ordersInput.legacyTable, ...overrides.legacyTable },
    newTable: { ...ordersInput.newTable, ...overrides.newTable },
  });
}

/** An `orders`-shaped migration `id`, of the imported `<id>-legacy` (stream known) to a new table `<id>`. */
export function ordersLike(id: string): Migration {
  return ordersMigration({
    id,
    legacyTable: {
      tableName: `${id}-legacy`,
      streamArn: `arn:aws:dynamodb:eu-west-1:123456789012:table/${id}-legacy/stream/2026-01-01T00:00:00.000`,
    },
    newTable: { tableName: id },
  });
}

/**
 * The `orders` migration with a legacy GSI `by-customer` mapped onto the new table's GSI1; the new
 * table also declares GSI2, which no surface reads.
 */
export function ordersWithSurfaces(): Migration {
  return defineMigration({
    ...ordersInput,
    legacyTable: {
      ...ordersInput.legacyTable,
      indexes: [{ name: 'by-customer', key: { partitionKey: { name: 'customerId', type: 'S' } } }],
    },
    newTable: {
      ...ordersInput.newTable,
      indexes: [
        {
          name: 'GSI1',
          key: { partitionKey: { name: 'GSI1PK', type: 'S' }, sortKey: { name: 'GSI1SK', type: 'N' } },
        },
        { name: 'GSI2', key: { partitionKey: { name: 'GSI2PK', type: 'B' } } },
      ],
    },
    queries: {
      'by-customer': {
        legacyIndex: 'by-customer',
        newIndex: 'GSI1',
        partition: (v) => ({ S: `CUST#${'S' in v ? v.S : ''}` }),
      },
    },
  });
}

/** One unacknowledged finding of a validation plugin (cdk-nag, or CDK's own annotations). */
export type Finding = NagFinding;

/**
 * Adds cdk-nag's AwsSolutions and Serverless packs (as `bin/app.ts` does), synthesizes and returns every
 * unacknowledged finding, warnings included.
 */
export function nagFindings(app: App): Finding[] {
  addNagChecks(app);
  return synthFindings(app);
}

/** An app and a stack `Test` in the test account and region (eu-west-1), with the control table. */
export function testStack(): { readonly app: App; readonly stack: Stack; readonly control: ControlTable } {
  const app = newApp();
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const control = new ControlTable(stack, 'ControlTable');
  return { app, stack, control };
}

/** What a construct under test is wired to (see `constructStack`). */
export interface ConstructScope {
  readonly stack: Stack;
  /** The imported legacy table `orders-legacy` with its stream `ORDERS_STREAM_ARN`. */
  readonly legacyTable: dynamodb.ITable;
  /** The props every migration construct takes: the `orders` migration, control and new table, example definitions. */
  readonly common: {
    readonly migration: Migration;
    readonly controlTable: dynamodb.ITable;
    readonly newTable: dynamodb.Table;
    readonly definitionsFile: string;
  };
}

/**
 * `testStack` plus the new table `NewTable` (PK string, SK number, point-in-time recovery) and the
 * imported legacy table, and the construct `build` makes in that stack.
 */
export function constructStack<C>(build: (scope: ConstructScope) => C): {
  readonly app: App;
  readonly stack: Stack;
  readonly construct: C;
} {
  const { app, stack, control } = testStack();
  const newTable = new dynamodb.Table(stack, 'NewTable', {
    partitionKey: { name: 'PK', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'SK', type: dynamodb.AttributeType.NUMBER },
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  });
  const legacyTable = dynamodb.Table.fromTableAttributes(stack, 'Legacy', {
    tableArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders-legacy',
    tableStreamArn: ORDERS_STREAM_ARN,
  });
  const construct = build({
    stack,
    legacyTable,
    common: {
      migration: ordersMigration(),
      controlTable: control.table,
      newTable,
      definitionsFile: EXAMPLE_DEFINITIONS_FILE,
    },
  });
  return { app, stack, construct };
}

/**
 * Synthesizes the app once: cdk-nag runs during synth and an app synthesizes once, so the findings
 * come first, then the stack's template.
 */
export function synthesize(built: { readonly app: App; readonly stack: Stack }): {
  readonly nag: Finding[];
  readonly template: Template;
} {
  const nag = nagFindings(built.app);
  return { nag, template: Template.fromStack(built.stack) };
}

/** The statements of the inline policies of the role of the function whose handler is `index.<handler>`. */
export function statementsOf(template: Template, handler: string): PolicyStatement[] {
  const fns = template.findResources('AWS::Lambda::Function', {
    Properties: { Handler: `index.${handler}` },
  });
  const [fn] = Object.values(fns) as Array<{ Properties: { Role: { 'Fn::GetAtt': [string, string] } } }>;
  const role = fn?.Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) =>
      (p as { Properties: { Roles: Array<{ Ref: string }> } }).Properties.Roles.some((r) => r.Ref === role),
    )
    .flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: PolicyStatement[] } } }).Properties.PolicyDocument
          .Statement,
    );
}

/** Every statement of every inline policy in `template`. */
export function allStatements(template: Template): PolicyStatement[] {
  return (
    Object.values(template.findResources('AWS::IAM::Policy')) as Array<{
      Properties: { PolicyDocument: { Statement: PolicyStatement[] } };
    }>
  ).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/**
 * Asserts that the template holds the standard state machine `name` with full logging (no execution
 * data) and tracing, and its vended log group kept for a year.
 */
export function expectWorkflowStateMachine(template: Template, name: string): void {
  template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
    StateMachineName: name,
    StateMachineType: 'STANDARD',
    TracingConfiguration: { Enabled: true },
    LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
  });
  template.hasResourceProperties('AWS::Logs::LogGroup', {
    LogGroupName: `/aws/vendedlogs/states/${name}`,
    RetentionInDays: 365,
  });
}

/** The actions of `statements`, sorted. */
export function actionsOf(statements: readonly PolicyStatement[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
}

/** The DynamoDB actions of `statements`, sorted. */
export function dynamoActions(statements: readonly PolicyStatement[]): string[] {
  return actionsOf(statements).filter((a) => a.startsWith('dynamodb:'));
}

/** Asserts one Lambda function per handler (`index.<handler>`), each with at least `variables`. */
export function expectFunctionPerHandler(
  template: Template,
  handlers: readonly string[],
  variables: Record<string, unknown>,
): void {
  for (const handler of handlers) {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: `index.${handler}`,
      Environment: { Variables: Match.objectLike(variables) },
    });
  }
}

/** An IAM policy statement as synthesized. */
export type PolicyStatement = {
  Action: string | string[];
  Resource: unknown;
  Sid?: string;
  Condition?: unknown;
};

/** The error message `fn` throws. */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error, none was thrown');
}

/**
 * Asserts that the template's state machine deploys `definition` (the document local mode runs) apart
 * from the function ARNs: every placeholder of `placeholders`, and only those, is substituted by a
 * function's ARN, and every task of the definition invokes one of them.
 */
export function expectDefinitionDeployed(
  template: Template,
  definition: AslMachine,
  placeholders: readonly string[],
): void {
  // Prepare
  const [sm] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as Array<{
    Properties: { DefinitionString: string; DefinitionSubstitutions: Record<string, unknown> };
  }>;

  // Act
  const deployed = JSON.parse(sm?.Properties.DefinitionString as string) as unknown;

  // Assess
  expect(deployed).toEqual(definition);
  const sorted = [...placeholders].sort();
  expect(Object.keys(sm?.Properties.DefinitionSubstitutions ?? {}).sort()).toEqual(sorted);
  for (const p of sorted) {
    expect(sm?.Properties.DefinitionSubstitutions[p]).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/Function/), 'Arn'],
    });
  }
  const referenced = taskStates(definition)
    .map((t) => t.state.Parameters?.FunctionName)
    .filter((f) => f !== undefined);
  expect(new Set(referenced)).toEqual(new Set(sorted.map((p) => `\${${p}}`)));
}
