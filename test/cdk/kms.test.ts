/**
 * A legacy table encrypted with a customer-managed key (`legacyTable.kmsKeyArn`): `kms:Decrypt` on that
 * key is granted to exactly the functions that read the table or its stream, and to no other.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ControlTable, DualReadMigration, EXAMPLE_DEFINITIONS_FILE } from '../../lib';
import { newApp, ordersMigration } from './helpers';

const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

type Fn = { Properties: { Description: string; Role: { 'Fn::GetAtt': [string, string] } } };
type Policy = {
  Properties: {
    Roles: Array<{ Ref: string }>;
    PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> };
  };
};

/** Description of every function of the migration → the KMS actions its role has on `KEY_ARN`. */
function keyActionsByFunction(kmsKeyArn?: string): Record<string, string[]> {
  const stack = new Stack(newApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const control = new ControlTable(stack, 'ControlTable');
  new DualReadMigration(stack, 'Migration', {
    migration: ordersMigration(kmsKeyArn ? { legacyTable: { kmsKeyArn } } : {}),
    controlTable: control.table,
    definitionsFile: EXAMPLE_DEFINITIONS_FILE,
  });
  const template = Template.fromStack(stack);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Policy[];
  const out: Record<string, string[]> = {};
  for (const fn of Object.values(template.findResources('AWS::Lambda::Function')) as Fn[]) {
    const role = fn.Properties.Role['Fn::GetAtt'][0];
    out[fn.Properties.Description] = policies
      .filter((p) => p.Properties.Roles.some((r) => r.Ref === role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s) => JSON.stringify(s.Resource).includes(KEY_ARN))
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
      .sort();
  }
  return out;
}

describe('Construct: DualReadMigration, legacy table under a customer-managed key', () => {
  it('grants kms:Decrypt on the key to the functions that read legacy or its stream, and to no other', () => {
    // Act
    const actions = keyActionsByFunction(KEY_ARN);

    // Assess
    const withDecrypt = Object.keys(actions)
      .filter((d) => actions[d]?.includes('kms:Decrypt'))
      .sort();
    expect(withDecrypt).toEqual(
      [
        'dualread backfill page of migration orders',
        'dualread backfill poison of migration orders',
        'dualread frontier tracker of migration orders',
        'dualread read API of migration orders',
        'dualread stream sync of migration orders',
        'dualread verification recheck of migration orders',
        'dualread verification repair of migration orders',
        'dualread verification scan of migration orders',
      ].sort(),
    );
    // Reads only: nobody encrypts with the legacy key (dualread never writes legacy).
    expect(
      Object.values(actions)
        .flat()
        .filter((a) => a !== 'kms:Decrypt' && a !== 'kms:DescribeKey'),
    ).toEqual([]);
    expect(Object.keys(actions).filter((d) => !withDecrypt.includes(d))).toEqual(
      expect.arrayContaining([
        'dualread control of migration orders: rolls it back when a rollback alarm fires',
      ]),
    );
  });

  it('grants no key when the legacy table has none', () => {
    // Act
    const actions = keyActionsByFunction();

    // Assess
    expect(Object.values(actions).flat()).toEqual([]);
  });
});
