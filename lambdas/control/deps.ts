/** Deps of the deployed control Lambda: `CONTROL_TABLE_NAME`, `MIGRATION_ID` (one of `migrations`). */
import { Logger } from '@aws-lambda-powertools/logger';
import { ControlPlane } from '../../adapters/control-plane';
import { ControlStore } from '../../adapters/control-store';
import { makeDynamoClient } from '../../adapters/dynamodb';
import type { Migration } from '../../core/model';
import { Env, envReader, migrationFromEnv } from '../common/env';
import type { ControlDeps } from './handler';
import { Service, functionTracer, traced } from '../common/observability';

/** The control function's variables (set by lib/control-function.ts). */
export const CONTROL_ENV = {
  CONTROL_TABLE_NAME: Env.text(),
  MIGRATION_ID: Env.text(),
} as const;

export function buildControlDeps(
  migrations: readonly Migration[],
  env: NodeJS.ProcessEnv = process.env,
): ControlDeps {
  const e = envReader(CONTROL_ENV, env, { functionName: 'control' });
  const migration = migrationFromEnv(e, migrations);
  const client = traced(functionTracer(Service.CONTROL), makeDynamoClient());
  const store = new ControlStore(client, e.get('CONTROL_TABLE_NAME'), migration.id);
  const logger = new Logger({ serviceName: Service.CONTROL });
  return {
    // The alarm is the actor of what it changes (`alarm:<name>`); this one names the function.
    plane: new ControlPlane({ store, migration, actor: 'control-lambda' }),
    log: (message, detail) => logger.info(message, detail),
  };
}
