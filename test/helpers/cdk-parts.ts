/**
 * What the CDK tests of a migration's parts share: the part built in a `constructStack` from the
 * `orders` props, one synthesis (with cdk-nag) shared by a describe's tests, the expected template of a
 * table dualread creates, and the checks every Lambda workflow (`Backfill`, `Verification`: both a
 * `WorkflowPart`) passes.
 */
import type { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { Construct } from 'constructs';
import type { MigrationPartProps } from '../../lib/migration-part-props';
import type { WorkflowPartProps } from '../../lib/lambda-workflow';
import type { AslMachine } from '../../stepfunctions/asl';
import {
  type ConstructScope,
  type Finding,
  allStatements,
  constructStack,
  expectDefinitionDeployed,
  expectWorkflowStateMachine,
  synthesize,
} from '../cdk/helpers';

/** What a part takes besides the `MigrationPartProps` (which it may override too). */
export type PartExtra<P extends MigrationPartProps> = (
  scope: ConstructScope,
) => Omit<P, keyof MigrationPartProps> & Partial<MigrationPartProps>;

/**
 * A `constructStack` holding the part `Part` (`id`) built from the `orders` part props (the common props
 * and the imported legacy table), then what `extra` adds (required when the part takes more), then `props`.
 */
export function partStack<P extends MigrationPartProps, C>(
  Part: new (scope: Construct, id: string, props: P) => C,
  id: string,
  props: Partial<P>,
  ...[extra]: object extends Omit<P, keyof MigrationPartProps> ? [PartExtra<P>?] : [PartExtra<P>]
): ReturnType<typeof constructStack<C>> {
  return constructStack((scope) => {
    const { stack, common, legacyTable } = scope;
    // `extra` holds every prop the part takes besides the common ones (its type says so).
    const partProps = { ...common, legacyTable, ...extra?.(scope), ...props } as unknown as P;
    return new Part(stack, id, partProps);
  });
}

/** The template and the cdk-nag findings of one synthesis. */
export interface Synthesized {
  readonly template: Template;
  readonly nag: Finding[];
}

/**
 * Synthesizes what `build` makes once, before the tests of the enclosing describe, which share it
 * (bundling and cdk-nag take seconds). Its fields may be read inside tests only.
 */
export function synthesizedOnce(build: () => { readonly app: App; readonly stack: Stack }): Synthesized {
  let done: Synthesized | undefined;
  beforeAll(() => {
    done = synthesize(build());
  });
  const get = (): Synthesized => {
    if (!done) throw new Error('synthesizedOnce: read the template inside a test');
    return done;
  };
  return {
    get template() {
      return get().template;
    },
    get nag() {
      return get().nag;
    },
  };
}

/**
 * The template resource of a table dualread creates with its stateful defaults (`STATEFUL_TABLE_DEFAULTS`:
 * kept with the stack, on demand, point-in-time recovery, AWS-managed encryption) and the key
 * `partitionKey` (and `sortKey`), each `[name, attribute type]`; `properties` are expected besides.
 */
export function statefulTable(
  partitionKey: readonly [string, string],
  sortKey: readonly [string, string],
  properties: Record<string, unknown>,
): Record<string, unknown> {
  return {
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: {
      KeySchema: [
        { AttributeName: partitionKey[0], KeyType: 'HASH' },
        { AttributeName: sortKey[0], KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: partitionKey[0], AttributeType: partitionKey[1] },
        { AttributeName: sortKey[0], AttributeType: sortKey[1] },
      ]),
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      ...properties,
    },
  };
}

/** A Lambda workflow part under test (see `itIsALambdaWorkflow`). */
export interface WorkflowUnderTest {
  /** Its id in the test stack, in the cdk-nag finding paths (`Backfill`). */
  readonly id: string;
  /** The definition local mode runs. */
  readonly definition: AslMachine;
  /** Its function placeholders. */
  readonly placeholders: readonly string[];
  /** The fixed name of its state machine in the test stack (`Test-backfill-orders`). */
  readonly stateMachineName: string;
}

/**
 * The tests every Lambda workflow passes (what `WorkflowPart` and `buildLambdaWorkflow` make), on the
 * shared synthesis `synth`.
 */
export function itIsALambdaWorkflow(synth: Synthesized, workflow: WorkflowUnderTest): void {
  it('deploys the same definition local mode runs, apart from the function ARNs', () => {
    expectDefinitionDeployed(synth.template, workflow.definition, workflow.placeholders);
  });

  it('creates a standard state machine with a fixed name, full logging and tracing', () => {
    expectWorkflowStateMachine(synth.template, workflow.stateMachineName);
  });

  it('lets the state machine start executions of itself only (Distributed Map children, continuation)', () => {
    const statements = allStatements(synth.template);
    const start = statements.find((s) => s.Sid === 'StartItself');
    expect(start?.Resource).toBe(
      `arn:aws:states:eu-west-1:123456789012:stateMachine:${workflow.stateMachineName}`,
    );
    const manage = statements.find((s) => s.Sid === 'ManageOwnExecutions');
    expect(manage?.Resource).toBe(
      `arn:aws:states:eu-west-1:123456789012:execution:${workflow.stateMachineName}/*`,
    );
  });

  it('alarms on a failed execution', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('passes cdk-nag with a written reason for every acknowledgement', () => {
    expect(synth.nag.filter((f) => f.paths.some((p) => p.includes(`/${workflow.id}/`)))).toEqual([]);
  });
}

/**
 * Tests that building the workflow part with each of `invalid` (a case, props, the expected message),
 * or with an invalid state machine name, throws.
 */
export function itRefusesInvalidWorkflowProps<P extends WorkflowPartProps>(
  build: (props: Partial<P>) => unknown,
  invalid: ReadonlyArray<[string, Partial<P>, RegExp]>,
): void {
  it.each<[string, Partial<P>, RegExp]>([
    ['an invalid state machine name', { stateMachineName: 'has spaces' } as Partial<P>, /stateMachineName/],
    ...invalid,
  ])('refuses %s', (_case, props, message) => {
    expect(() => build(props)).toThrow(message);
  });
}

/** Asserts that one inline policy of `template` allows all of `statements` (each with `Effect: 'Allow'`). */
export function expectAllowed(template: Template, statements: ReadonlyArray<Record<string, unknown>>): void {
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: { Statement: Match.arrayWith(statements.map((s) => ({ ...s, Effect: 'Allow' }))) },
  });
}
