/**
 * Every state machine the CDK app deploys is valid Amazon States Language (asl-validator): the deployed
 * DefinitionString with its substitutions resolved into placeholder ARNs, as Step Functions receives it.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import validator from 'asl-validator';
import { ControlTable, DualReadMigration, EXAMPLE_DEFINITIONS_FILE } from '../../lib';
import { newApp, ordersMigration } from './helpers';

type StateMachine = {
  Properties: {
    StateMachineName: string;
    DefinitionString: unknown;
    DefinitionSubstitutions?: Record<string, unknown>;
  };
};

/** A token (Ref, Fn::GetAtt, ...) as a placeholder ARN of the right shape. */
function placeholderArn(name: string): string {
  return `arn:aws:lambda:eu-west-1:123456789012:function:${name.replace(/[^A-Za-z0-9-_]/g, '')}`;
}

/** The definition Step Functions receives: Fn::Join resolved, each `${name}` substituted, parsed. */
function deployedDefinition(sm: StateMachine): object {
  const raw = sm.Properties.DefinitionString;
  let text =
    typeof raw === 'string'
      ? raw
      : ((raw as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1] ?? [])
          .map((p) => (typeof p === 'string' ? p : placeholderArn(JSON.stringify(p))))
          .join('');
  for (const [name, value] of Object.entries(sm.Properties.DefinitionSubstitutions ?? {})) {
    text = text.split(`\${${name}}`).join(typeof value === 'string' ? value : placeholderArn(name));
  }
  return JSON.parse(text) as object;
}

/** The errors asl-validator finds in `definition`, as `code: message` lines. */
function aslErrors(definition: object): string[] {
  const { isValid, errors } = validator(definition, { checkPaths: true, checkArn: true });
  return isValid ? [] : errors.map((e) => `${e['Error code'] ?? '?'}: ${e.Message ?? JSON.stringify(e)}`);
}

describe('ASL: the deployed state machines', () => {
  let machines: StateMachine[];
  beforeAll(() => {
    const stack = new Stack(newApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    new DualReadMigration(stack, 'Migration', {
      migration: ordersMigration(),
      controlTable: new ControlTable(stack, 'ControlTable').table,
      definitionsFile: EXAMPLE_DEFINITIONS_FILE,
    });
    machines = Object.values(
      Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'),
    ) as StateMachine[];
  });

  it('finds the backfill and the verification state machine', () => {
    expect(machines.map((m) => m.Properties.StateMachineName).sort()).toEqual([
      'Test-backfill-orders',
      'Test-verify-orders',
    ]);
  });

  it('accepts every definition, substitutions resolved', () => {
    // Act
    const found = machines.map((m) => ({
      name: m.Properties.StateMachineName,
      errors: aslErrors(deployedDefinition(m)),
    }));

    // Assess
    expect(found).toEqual(machines.map((m) => ({ name: m.Properties.StateMachineName, errors: [] })));
  });

  it('refuses a definition with a planted invalid field (the check can fail)', () => {
    // Prepare: the backfill definition with an unknown field on its first state.
    const definition = deployedDefinition(machines[0] as StateMachine) as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
    };
    (definition.States[definition.StartAt] as Record<string, unknown>).TimeoutSecond = 5;

    // Act & Assess
    expect(aslErrors(definition)).not.toEqual([]);
  });
});
