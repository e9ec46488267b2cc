/**
 * The CDK app's settings, read from context (`cdk synth -c env=prod -c definitions=path/to/file.ts`
 * or cdk.json), so that `bin/app.ts` only instantiates.
 */
import { resolve } from 'node:path';
import type { Construct } from 'constructs';
import { AppContextError } from './errors';

/** Context keys the app reads. */
export const ContextKey = {
  /** Environment name: the stack is `DualRead-<env>`. */
  ENV: 'env',
  /** Path of the migration definitions file, relative to the working directory. */
  DEFINITIONS: 'definitions',
  /** `true` to create the legacy tables (example and rehearsal stacks). */
  EXAMPLE: 'example',
  /** `true` to create the account's API Gateway CloudWatch Logs role in this stack (one per account and region). */
  API_GATEWAY_CLOUDWATCH_ROLE: 'apiGatewayCloudWatchRole',
} as const;

/** The definitions file of the bundled example (`examples/users`). */
export const EXAMPLE_DEFINITIONS_FILE = resolve(__dirname, '..', 'examples', 'users', 'migrations.ts');

/** Default environment name. */
export const DEFAULT_ENV_NAME = 'dev';

/** Settings of one synth. */
export interface AppSettings {
  /** Environment name (`dev`, `prod`, ...). */
  readonly envName: string;
  /** Stack id and name: `DualRead-<env>`. */
  readonly stackId: string;
  /** Absolute path of the definitions file. */
  readonly definitionsFile: string;
  /** Create the legacy tables (only for the example or a rehearsal). */
  readonly createLegacyTablesForExample: boolean;
  /** Create the account's API Gateway CloudWatch Logs role (default false). */
  readonly apiGatewayCloudWatchRole: boolean;
}

function parseBoolean(key: string, raw: unknown): boolean | undefined {
  if (raw === undefined) return undefined;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new AppContextError(key, `must be true or false, not ${JSON.stringify(raw)}`);
}

/**
 * Reads the app's settings from context. `example` defaults to true exactly when the definitions file
 * is the bundled example, whose legacy table does not exist anywhere and so must be created.
 *
 * @throws AppContextError on an invalid value
 */
export function appSettingsFromContext(scope: Construct, cwd: string = process.cwd()): AppSettings {
  const rawEnv: unknown = scope.node.tryGetContext(ContextKey.ENV) ?? DEFAULT_ENV_NAME;
  if (typeof rawEnv !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(rawEnv)) {
    throw new AppContextError(
      ContextKey.ENV,
      `${JSON.stringify(rawEnv)} is not a valid environment name (a letter, then letters, digits or dashes; at most 64)`,
    );
  }
  const rawDefinitions: unknown = scope.node.tryGetContext(ContextKey.DEFINITIONS);
  if (rawDefinitions !== undefined && (typeof rawDefinitions !== 'string' || rawDefinitions === '')) {
    throw new AppContextError(ContextKey.DEFINITIONS, 'must be the path of a definitions file');
  }
  const definitionsFile =
    rawDefinitions === undefined ? EXAMPLE_DEFINITIONS_FILE : resolve(cwd, rawDefinitions);
  const example =
    parseBoolean(ContextKey.EXAMPLE, scope.node.tryGetContext(ContextKey.EXAMPLE)) ??
    definitionsFile === EXAMPLE_DEFINITIONS_FILE;
  return {
    envName: rawEnv,
    stackId: `DualRead-${rawEnv}`,
    definitionsFile,
    createLegacyTablesForExample: example,
    apiGatewayCloudWatchRole:
      parseBoolean(
        ContextKey.API_GATEWAY_CLOUDWATCH_ROLE,
        scope.node.tryGetContext(ContextKey.API_GATEWAY_CLOUDWATCH_ROLE),
      ) ?? false,
  };
}
