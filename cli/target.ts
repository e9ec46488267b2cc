/**
 * The one way every command finds what it acts on. Local mode (`--endpoint`): DynamoDB Local at that
 * URL, the migration from the definitions file (`--definitions`, default the example; `--migration`,
 * default the only one) and the control table `--control-table` (default `dualread-control`); the actor
 * is `user@host`. AWS (`--env`, `--region`): the outputs of the CloudFormation stack `DualRead-<env>`;
 * the actor is the caller's IAM principal ARN.
 */
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { ControlItemCdcStatus } from '../adapters/cdc-status';
import { EventSourceMappingSwitch } from '../adapters/cdc-switch';
import { ControlPlane } from '../adapters/control-plane';
import { StackNotFoundError, callerArn, queueDepth, stackOutputs } from '../adapters/control-plane-aws';
import { ControlStore } from '../adapters/control-store';
import { type DynamoEndpoint, makeDynamoClient } from '../adapters/dynamodb';
import { legacyIndexesPort } from '../adapters/legacy-indexes';
import { type FactsPorts, pollerHeartbeatEnabled } from '../adapters/migration-facts';
import { loadMigrations } from '../adapters/migration-loader';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Migration } from '../core/model';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/dynamodb-local';
import { TargetNotFoundError, UsageError } from './errors';

/** The options every command takes. */
export interface GlobalOptions {
  readonly json?: boolean;
  readonly endpoint?: string;
  readonly env?: string;
  readonly region?: string;
  readonly definitions?: string;
  readonly migration?: string;
  readonly controlTable?: string;
}

/** The default definitions file (the example) and the local control table. */
export const DEFAULT_DEFINITIONS = 'examples/users/migrations.ts';
export const DEFAULT_LOCAL_CONTROL_TABLE = 'dualread-control';

/** What a command acts on. */
export interface Target {
  readonly mode: 'local' | 'aws';
  readonly migration: Migration;
  readonly controlTableName: string;
  readonly dynamo: DynamoDBClient;
  readonly store: ControlStore;
  readonly actor: string;
  /** The stack's outputs (AWS); empty locally. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly region?: string;
  /** Where DynamoDB (and its streams) are: the endpoint and credentials locally, the region on AWS. */
  readonly where: DynamoEndpoint;
  readonly plane: ControlPlane;
}

/** `users-v2` → `UsersV2` (the stack's output prefix of a migration). */
export function pascal(id: string): string {
  return id
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

function pickMigration(migrations: readonly Migration[], id: string | undefined, file: string): Migration {
  if (id === undefined) {
    if (migrations.length === 1 && migrations[0]) return migrations[0];
    throw new UsageError(
      `${file} defines ${migrations.length} migrations (${migrations.map((m) => m.id).join(', ')}): pass --migration <id>`,
    );
  }
  const m = migrations.find((x) => x.id === id);
  if (!m)
    throw new TargetNotFoundError(
      `no migration "${id}" in ${file} (it defines ${migrations.map((x) => x.id).join(', ')}): check --migration or --definitions`,
    );
  return m;
}

/** Resolves the target of one invocation. */
export async function resolveTarget(o: GlobalOptions, now: () => number = Date.now): Promise<Target> {
  if (o.endpoint && o.env)
    throw new UsageError('pass either --endpoint (local mode) or --env (AWS), not both');
  if (!o.endpoint && !o.env)
    throw new UsageError(
      'no target: pass --endpoint http://localhost:8000 for local mode, or --env <name> [--region <region>] for a deployed stack',
    );
  const file = o.definitions ?? DEFAULT_DEFINITIONS;
  const migration = pickMigration(await loadMigrations(resolve(file)), o.migration, file);

  if (o.endpoint) {
    if (!/^https?:\/\//.test(o.endpoint))
      throw new UsageError(`--endpoint "${o.endpoint}" must be a URL such as http://localhost:8000`);
    const where: DynamoEndpoint = {
      endpoint: o.endpoint,
      region: o.region ?? LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    };
    const dynamo = makeDynamoClient(where);
    const controlTableName = o.controlTable ?? DEFAULT_LOCAL_CONTROL_TABLE;
    const store = new ControlStore(dynamo, controlTableName, migration.id);
    const ports: FactsPorts = {
      cdcStatus: new ControlItemCdcStatus(store, now, {
        dynamo,
        legacyTableName: migration.legacyTable.tableName,
      }),
      cdcEnabled: pollerHeartbeatEnabled(store, now),
      legacyIndexes: legacyIndexesPort(dynamo, migration.legacyTable.tableName),
    };
    const actor = `${userInfo().username}@${hostname()}`;
    return {
      mode: 'local',
      migration,
      controlTableName,
      dynamo,
      store,
      actor,
      outputs: {},
      where,
      plane: new ControlPlane({ store, migration, actor, now, ports }),
    };
  }

  const stackName = `DualRead-${o.env}`;
  let outputs: Record<string, string>;
  try {
    outputs = await stackOutputs(stackName, o.region);
  } catch (err) {
    if (err instanceof StackNotFoundError) throw new TargetNotFoundError(err.message);
    throw err;
  }
  const controlTableName = o.controlTable ?? outputs.ControlTableName;
  if (!controlTableName)
    throw new TargetNotFoundError(
      `stack ${stackName} has no ControlTableName output: redeploy it with this version`,
    );
  const dynamo = makeDynamoClient(o.region ? { region: o.region } : {});
  const store = new ControlStore(dynamo, controlTableName, migration.id);
  const dlq = outputs[`${pascal(migration.id)}DeadLetterQueueUrl`];
  const actor = await callerArn(o.region);
  return {
    mode: 'aws',
    migration,
    controlTableName,
    dynamo,
    store,
    actor,
    outputs,
    ...(o.region ? { region: o.region } : {}),
    where: o.region ? { region: o.region } : {},
    plane: new ControlPlane({
      store,
      migration,
      actor,
      now,
      ports: {
        legacyIndexes: legacyIndexesPort(dynamo, migration.legacyTable.tableName),
        ...(dlq ? { deadLetterDepth: queueDepth(dlq, o.region) } : {}),
        // FINALIZED is refused while CDC is enabled: the sync's event source mapping says whether it is.
        ...(outputs[`${pascal(migration.id)}SyncFunctionName`]
          ? {
              cdcEnabled: () =>
                EventSourceMappingSwitch.fromOutputs(outputs, pascal(migration.id), o.region).enabled(),
            }
          : {}),
      },
    }),
  };
}
