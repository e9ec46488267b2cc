/**
 * `MigrationStack`: the nested stack that holds one `DualReadMigration` of a `DualReadStack`.
 *
 * A migration is about a hundred resources (six functions with roles, policies and log groups, two
 * state machines, the read API, alarms, queues, tables); CloudFormation allows 500 per stack, so a
 * single stack held at most five migrations. In its own nested stack each migration has the whole
 * 500 to itself, and the root stack keeps only what migrations share (control table, alarm topic),
 * one `AWS::CloudFormation::Stack` per migration and the outputs the CLI reads. Nested rather than
 * separate stacks: one deployment, one `cdk deploy`, one `DescribeStacks` that lists every output,
 * and references between the root and a migration (control table, topic) are plain parameters and
 * `Fn::GetAtt` rather than exports that lock both stacks against change.
 */
import { NestedStack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DualReadMigration, type DualReadMigrationProps } from './dual-read-migration';

/** Props of `MigrationStack`: those of its `DualReadMigration`. */
export type MigrationStackProps = DualReadMigrationProps;

/** One migration in a nested stack of its own. */
export class MigrationStack extends NestedStack {
  /** The migration (construct id `Migration`). */
  public readonly migration: DualReadMigration;

  constructor(scope: Construct, id: string, props: MigrationStackProps) {
    super(scope, id, { description: `dualread migration ${props.migration.id}` });
    this.migration = new DualReadMigration(this, 'Migration', props);
  }
}
